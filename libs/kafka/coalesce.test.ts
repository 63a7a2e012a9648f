import { describe, expect, it } from 'vitest';
import { coalesceBatches, dealIntoLanes } from './coalesce.js';
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

  it('opens a second lane only when each lane would carry at least minLaneRecords records', async () => {
    const calls: string[][] = [];
    const handle = coalesceBatches(
      async (batches) => {
        calls.push(batches.map((b) => `${b.topic}[${b.partition}]`));
      },
      { lanes: 2, minLaneRecords: 250 },
    );
    // 499 records: one transaction; 500: two of 250 or more; a stale batch's records do not count.
    await Promise.all([handle(batch('a', 0, false, 300)), handle(batch('a', 1, false, 199)), handle(batch('a', 2, true, 1))]);
    await Promise.all([handle(batch('a', 0, false, 300)), handle(batch('a', 1, false, 200))]);
    expect(calls).toEqual([['a[0]', 'a[1]'], ['a[0]'], ['a[1]']]);
  });

  it('applies a fetch of more than lanes × maxLaneRecords in parts, lanes at a time, the slices of a partition in offset order', async () => {
    const calls: string[][] = [];
    let running = 0;
    let most = 0;
    const applying = new Set<string>();
    const overlaps: string[] = [];
    const handle = coalesceBatches(
      async (batches) => {
        running++;
        most = Math.max(most, running);
        calls.push(batches.map((b) => `${b.topic}[${b.partition}]@${b.messages[0]?.offset}+${b.messages.length}`));
        const partitions = batches.map((b) => `${b.topic}[${b.partition}]`);
        for (const p of partitions) if (applying.has(p)) overlaps.push(p);
        for (const p of partitions) applying.add(p);
        await new Promise((r) => setTimeout(r, 5 * batches.reduce((n, b) => n + b.messages.length, 0)));
        for (const p of partitions) applying.delete(p);
        running--;
      },
      { lanes: 2, minLaneRecords: 1, maxLaneRecords: 4 },
    );
    // 10 records in partition 0 (slices of 3, 3 and 4 records), 3 + 2 + 2 in three small batches: 17 records > 2 × 4.
    await Promise.all([handle(batch('a', 0, false, 10)), handle(batch('a', 1, false, 3)), handle(batch('b', 2, false, 2)), handle(batch('b', 3, false, 2))]);
    expect(most).toBe(2);
    // Never two slices of one partition side by side.
    expect(overlaps).toEqual([]);
    // The longest partition starts first, its slices one after another; the small batches fill the other lane.
    expect(calls.filter((c) => c[0]?.startsWith('a[0]'))).toEqual([['a[0]@0+3'], ['a[0]@3+3'], ['a[0]@6+4']]);
    expect(calls[0]).toEqual(['a[0]@0+3']);
    expect(calls.flat().sort()).toEqual(['a[0]@0+3', 'a[0]@3+3', 'a[0]@6+4', 'a[1]@0+3', 'b[2]@0+2', 'b[3]@0+2'].sort());
    expect(calls.filter((c) => !c[0]?.startsWith('a[0]')).every((c) => c.reduce((n, b) => n + Number(b.split('+')[1]), 0) <= 4)).toBe(true);
  });

  it('applies the parts of a catch-up catchUpLanes at a time, and a smaller fetch in lanes only', async () => {
    let running = 0;
    let most = 0;
    const calls: number[] = [];
    const handle = coalesceBatches(
      async (batches) => {
        running++;
        most = Math.max(most, running);
        calls.push(batches.reduce((n, b) => n + b.messages.length, 0));
        await new Promise((r) => setTimeout(r, 20));
        running--;
      },
      { lanes: 2, catchUpLanes: 3, minLaneRecords: 1, maxLaneRecords: 4 },
    );
    // 8 records (two lanes' worth): dealt into two lanes, whatever catchUpLanes says.
    await Promise.all([0, 1, 2, 3].map((p) => handle(batch('a', p, false, 2))));
    expect({ most, calls: calls.sort() }).toEqual({ most: 2, calls: [4, 4] });
    // 24 records in six partitions of 4: parts of 4, three at a time.
    most = 0;
    calls.length = 0;
    await Promise.all([0, 1, 2, 3, 4, 5].map((p) => handle(batch('a', p, false, 4))));
    expect({ most, calls }).toEqual({ most: 3, calls: [4, 4, 4, 4, 4, 4] });
  });

  it('fails a batch whose slice failed without applying the slices after it, and applies the other partitions', async () => {
    const calls: string[] = [];
    const handle = coalesceBatches(
      async (batches) => {
        for (const b of batches) calls.push(`${b.partition}@${b.messages[0]?.offset}`);
        if (batches.some((b) => b.partition === 0 && b.messages[0]?.offset === '3')) throw new Error('postgres is down');
      },
      { lanes: 2, minLaneRecords: 1, maxLaneRecords: 3 },
    );
    const outcomes = await Promise.allSettled([handle(batch('a', 0, false, 9)), handle(batch('a', 1, false, 7))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
    expect(calls).toContain('0@0');
    expect(calls).toContain('0@3');
    expect(calls).not.toContain('0@6');
    expect(calls.filter((c) => c.startsWith('1@'))).toEqual(['1@0', '1@2', '1@4']);
  });

  it('fails a part whose handler rejects with no reason at all', async () => {
    const handle = coalesceBatches(
      (batches) => (batches.some((b) => b.partition === 0) ? Promise.reject(undefined) : Promise.resolve()),
      { lanes: 2, minLaneRecords: 1, maxLaneRecords: 3 },
    );
    const outcomes = await Promise.allSettled([handle(batch('a', 0, false, 4)), handle(batch('a', 1, false, 3))]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'fulfilled']);
  });

  it('deals the largest batch first, each to the lane with the fewest records, keeping the order within a lane', () => {
    const sized = (n: number) => ({ n, messages: new Array<number>(n).fill(0) });
    const lanes = dealIntoLanes([sized(1), sized(18_299), sized(6), sized(4_744), sized(9_000), sized(4_500)], 2).map((l) => l.map((b) => b.n));
    expect(lanes).toEqual([[18_299], [1, 6, 4_744, 9_000, 4_500]]);
    expect(dealIntoLanes([sized(5), sized(5), sized(5)], 3).map((l) => l.map((b) => b.n))).toEqual([[5], [5], [5]]);
    expect(dealIntoLanes([], 2)).toEqual([[], []]);
  });
});
