import { describe, expect, it } from 'vitest';
import { coalesceBatches } from './coalesce.js';
import type { Batch } from './batch-consumer.js';
import { createLogger } from '../log/logger.js';

const log = createLogger({ level: 'silent', name: 'coalesce-test' });
const batch = (topic: string, partition: number, stale = false): Batch => ({ topic, partition, messages: [], highWatermark: '0', log, isStale: () => stale });

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
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
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

  it('deals a gathered fetch into lanes by partition, applied side by side, a failure failing its own lane only', async () => {
    const calls: string[][] = [];
    const handle = coalesceBatches(
      async (batches) => {
        calls.push(batches.map((b) => `${b.topic}[${b.partition}]`));
        if (batches.some((b) => b.partition === 3)) throw new Error('deadlock detected');
      },
      { lanes: 2 },
    );
    const outcomes = await Promise.allSettled([handle(batch('a', 0)), handle(batch('a', 1)), handle(batch('b', 2)), handle(batch('b', 3))]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected']);
    expect(calls).toEqual([['a[0]', 'b[2]'], ['a[1]', 'b[3]']]);
  });
});
