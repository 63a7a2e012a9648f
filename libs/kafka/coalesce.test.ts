import { describe, expect, it } from 'vitest';
import { coalesceBatches, coalesceFetch, dealByConflicts, dealIntoLanes } from './coalesce.js';
import type { Batch } from './batch-consumer.js';
import { createLogger } from '../log/logger.js';

const log = createLogger({ level: 'silent', name: 'coalesce-test' });
const batch = (topic: string, partition: number, stale = false, size = 1): Batch => ({ topic, partition, messages: Array.from({ length: size }, (_, i) => ({ offset: String(i) }) as Batch['messages'][number]), highWatermark: '0', log, isStale: () => stale });

describe('coalesceBatches', () => {
  it('applies the batches handed over in one turn together, and later ones in a call of their own', async () => {
    const calls: string[][] = [];
    const handle = coalesceBatches(async (batches) => {
      calls.push(batches.map((b) => `${b.topic}[${b.partition}]`));
    });
    await Promise.all([handle(batch('a', 0)), handle(batch('a', 1)), Promise.resolve().then(() => handle(batch('b', 0)))]);
    await handle(batch('a', 0));
    expect(calls).toEqual([['a[0]', 'a[1]', 'b[0]'], ['a[0]']]);
  });

  it('fails every batch of a failed group, leaves stale batches out, and starts afresh after a failure', async () => {
    const calls: number[][] = [];
    let fail = true;
    const handle = coalesceBatches(async (batches) => {
      calls.push(batches.map((b) => b.partition));
      if (fail) throw new Error('postgres is down');
    });
    const outcomes = await Promise.allSettled([handle(batch('a', 0)), handle(batch('a', 1)), handle(batch('a', 2, true))]);
    // The stale batch is applied by no lane: it resolves, and its caller, seeing it stale, commits nothing.
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    fail = false;
    await expect(handle(batch('a', 0))).resolves.toBeUndefined();
    expect(calls).toEqual([[0, 1], [0]]);
  });

  it('does not call the handler when every batch went stale', async () => {
    let called = false;
    const handle = coalesceBatches(async () => {
      called = true;
    });
    await handle(batch('a', 0, true));
    expect(called).toBe(false);
  });

  it('deals a gathered fetch into lanes of about as many records, applied side by side, a failure failing its own lane only', async () => {
    const calls: string[][] = [];
    const handle = coalesceBatches(
      async (batches) => {
        calls.push(batches.map((b) => `${b.topic}[${b.partition}]`));
        if (batches.some((b) => b.partition === 3)) throw new Error('deadlock detected');
      },
      { lanes: 2 },
    );
    // 900 records in partition 3, 300 + 250 + 200 in the others: the big one alone, the rest together.
    const outcomes = await Promise.allSettled([handle(batch('a', 0, false, 300)), handle(batch('a', 1, false, 250)), handle(batch('b', 2, false, 200)), handle(batch('b', 3, false, 900))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(calls).toEqual([['b[3]'], ['a[0]', 'a[1]', 'b[2]']]);
  });

  it('deals the largest batch first, each to the lane with the fewest records, keeping the order within a lane', () => {
    const sized = (n: number) => ({ n, messages: new Array<number>(n).fill(0) });
    const lanes = dealIntoLanes([sized(1), sized(18_299), sized(6), sized(4_744), sized(9_000), sized(4_500)], 2).map((l) => l.map((b) => b.n));
    expect(lanes).toEqual([[18_299], [1, 6, 4_744, 9_000, 4_500]]);
    expect(dealIntoLanes([sized(5), sized(5), sized(5)], 3).map((l) => l.map((b) => b.n))).toEqual([[5], [5], [5]]);
    expect(dealIntoLanes([], 2)).toEqual([[], []]);
  });

  it('deals items sharing a key, directly or through others, into one lane, groups balanced, order kept', () => {
    // x1-x2 share "d1"; x2-x3 share "u1" (so x1, x2, x3 are one group); x4 and x5 share "d2"; x6 has no key.
    const items = [
      { id: 'x1', keys: ['d1'] },
      { id: 'x4', keys: ['d2'] },
      { id: 'x2', keys: ['d1', 'u1'] },
      { id: 'x6', keys: [] },
      { id: 'x3', keys: ['u1'] },
      { id: 'x5', keys: ['d2', 'l9'] },
    ];
    const lanes = dealByConflicts(items, (i) => i.keys, 2).map((l) => l.map((i) => i.id));
    expect(lanes).toEqual([['x1', 'x2', 'x3'], ['x4', 'x6', 'x5']]);
    // Whatever the order given, no key is in two lanes and every item is dealt once.
    for (let seed = 1; seed <= 50; seed++) {
      let s = seed;
      const rand = (n: number) => ((s = (s * 1_103_515_245 + 12_345) % 2 ** 31), s % n);
      const many = Array.from({ length: 200 }, (_, i) => ({ id: i, keys: Array.from({ length: rand(3) }, () => `k${rand(150)}`) }));
      const dealt = dealByConflicts(many, (i) => i.keys, 2);
      expect(dealt.flat().map((i) => i.id).sort((a, b) => a - b)).toEqual(many.map((i) => i.id));
      const laneOfKey = new Map<string, number>();
      dealt.forEach((lane, l) => lane.forEach((item) => item.keys.forEach((k) => {
        expect(laneOfKey.get(k) ?? l).toBe(l);
        laneOfKey.set(k, l);
      })));
      for (const lane of dealt) expect(lane.map((i) => i.id)).toEqual([...lane.map((i) => i.id)].sort((a, b) => a - b));
    }
    expect(dealByConflicts([], () => [], 2)).toEqual([[], []]);
  });

  it('hands a whole fetch to its handler and gives each batch the outcome the handler gave it', async () => {
    const seen: number[][] = [];
    const handle = coalesceFetch((batches) => {
      seen.push(batches.map((b) => b.partition));
      return new Map(batches.map((b) => [b, b.partition === 1 ? Promise.reject(new Error('lane failed')) : Promise.resolve()]));
    });
    const outcomes = await Promise.allSettled([handle(batch('a', 0)), handle(batch('a', 1)), handle(batch('a', 2, true))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(seen).toEqual([[0, 1]]);
    const failing = coalesceFetch(async () => {
      throw new Error('could not decode');
    });
    await expect(Promise.all([failing(batch('a', 0)), failing(batch('a', 1))])).rejects.toThrow('could not decode');
  });
});
