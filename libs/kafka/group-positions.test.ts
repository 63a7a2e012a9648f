import { describe, expect, it } from 'vitest';
import { parseResetTo, readPositions, resetTarget } from './group-positions.js';

const range = (low: number, high: number) => ({ low: BigInt(low), high: BigInt(high) });

describe('group positions', () => {
  it('reads each partition position against the partition, in partition order', () => {
    const ranges = new Map([[2, range(0, 3)], [0, range(10, 50)], [1, range(0, 0)]]);
    expect(readPositions('t', ranges, new Map([[2, 500n], [0, 4n]]))).toEqual([
      { topic: 't', partition: 0, position: 4n, low: 10n, high: 50n, problem: "position 4 is below the partition's start 10 (retention deleted 6 records before they were read)" },
      { topic: 't', partition: 1, position: null, low: 0n, high: 0n, problem: null },
      { topic: 't', partition: 2, position: 500n, low: 0n, high: 3n, problem: "position 500 is beyond the partition's end 3 (the topic was recreated or truncated)" },
    ]);
  });

  it('a reset goes to the start, the end, or an offset the partition holds', () => {
    expect(resetTarget('earliest', range(10, 50))).toBe(10n);
    expect(resetTarget('latest', range(10, 50))).toBe(50n);
    expect(resetTarget(20n, range(10, 50))).toBe(20n);
    expect(resetTarget(50n, range(10, 50))).toBe(50n);
    expect(() => resetTarget(51n, range(10, 50))).toThrow('offset 51 is not in the partition (it holds 10..50)');
    expect(() => resetTarget(9n, range(10, 50))).toThrow('offset 9 is not in the partition (it holds 10..50)');
  });

  it('--to takes earliest, latest or an offset', () => {
    expect(['earliest', 'latest', '0', '123', '-1', 'first', '1e3'].map(parseResetTo)).toEqual(['earliest', 'latest', 0n, 123n, null, null, null]);
  });
});
