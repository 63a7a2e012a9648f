import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isolateRefused } from './isolate-refused.js';

const pgError = (code: string, message: string): pg.DatabaseError => Object.assign(new pg.DatabaseError(message, message.length, 'error'), { code, severity: 'ERROR' });

/** A stand-in for one transaction: refuses any part holding a poison item, commits the rest. */
function database(poison: Set<number>) {
  const committed: number[] = [];
  const attempts: number[][] = [];
  return {
    committed,
    attempts,
    async apply(part: number[]): Promise<number> {
      attempts.push(part);
      const bad = part.find((n) => poison.has(n));
      if (bad !== undefined) throw pgError('23514', `new row violates check constraint "no_${bad}"`);
      committed.push(...part);
      return part.length;
    },
  };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('isolateRefused', () => {
  it('applies a batch nobody refuses in one attempt', async () => {
    const db = database(new Set());
    const { applied, refused } = await isolateRefused(range(1000), db.apply);
    expect(db.attempts).toHaveLength(1);
    expect(applied).toEqual([1000]);
    expect(refused).toEqual([]);
  });

  it('isolates one refused record, applies every other exactly once, in order', async () => {
    const db = database(new Set([613]));
    const splits: number[] = [];
    const { applied, refused } = await isolateRefused(range(1000), db.apply, { onSplit: (_err, size) => splits.push(size) });
    expect(refused.map((r) => r.item)).toEqual([613]);
    expect(refused[0]?.error.name).toBe('RefusedByDatabaseError');
    expect(refused[0]?.error.message).toBe('new row violates check constraint "no_613" (SQLSTATE 23514)');
    expect(db.committed).toEqual(range(1000).filter((n) => n !== 613));
    expect(applied.reduce((a, b) => a + b, 0)).toBe(999);
    expect(db.attempts.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(1000)) + 1);
    expect(splits[0]).toBe(1000);
  });

  it('isolates several refused records, the first and the last among them', async () => {
    const db = database(new Set([0, 17, 18, 99]));
    const { refused } = await isolateRefused(range(100), db.apply);
    expect(refused.map((r) => r.item)).toEqual([0, 17, 18, 99]);
    expect(db.committed).toEqual(range(100).filter((n) => ![0, 17, 18, 99].includes(n)));
  });

  it('refuses a lone record the database refuses', async () => {
    const db = database(new Set([0]));
    const { applied, refused } = await isolateRefused([0], db.apply);
    expect(applied).toEqual([]);
    expect(refused.map((r) => r.item)).toEqual([0]);
  });

  it('refuses nothing when only a combination fails: both halves apply', async () => {
    let first = true;
    const committed: number[] = [];
    const { refused } = await isolateRefused(range(10), async (part) => {
      if (first) {
        first = false;
        throw pgError('54001', 'statement is too complex');
      }
      committed.push(...part);
    });
    expect(refused).toEqual([]);
    expect(committed).toEqual(range(10));
  });

  it('throws a transient error at once, whole, without splitting', async () => {
    const attempts: number[][] = [];
    const lost = new Error('Connection terminated unexpectedly');
    await expect(isolateRefused(range(10), async (part) => {
      attempts.push(part);
      throw lost;
    })).rejects.toBe(lost);
    expect(attempts).toEqual([range(10)]);
  });

  it('throws a transient error met while splitting; the caller retries the whole batch', async () => {
    const deadlock = pgError('40P01', 'deadlock detected');
    let calls = 0;
    await expect(isolateRefused(range(10), async () => {
      calls++;
      throw calls === 1 ? pgError('22003', 'value out of range') : deadlock;
    })).rejects.toBe(deadlock);
    expect(calls).toBe(2);
  });

  it('does not dead-letter on an error that is neither (a bug): it is thrown', async () => {
    const bug = pgError('42703', 'column "nope" does not exist');
    await expect(isolateRefused([1], async () => {
      throw bug;
    })).rejects.toBe(bug);
  });
});
