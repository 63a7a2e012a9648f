import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createPool } from '../../libs/runtime/connections.js';
import { isTransient } from '../../libs/db/errors.js';

/**
 * A worker's connections carry limits (WORKER_SESSION_LIMITS), so that a statement blocked on
 * someone else's lock, or a transaction left open, becomes an error the batch is retried on
 * instead of a lane that waits for ever.
 */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('worker_sessions');
}, 60_000);

afterAll(async () => {
  await env?.close();
});

describe("a worker's Postgres sessions", () => {
  it('wait at most a minute for a lock and five for a statement or an idle transaction; past it, a retried outage', async () => {
    const pool = createPool(env.config, env.log, 2, { worker: true });
    const other = createPool(env.config, env.log, 1);
    try {
      const { rows } = await pool.query<Record<string, string>>(
        "select current_setting('lock_timeout') as lock, current_setting('statement_timeout') as statement, current_setting('idle_in_transaction_session_timeout') as idle",
      );
      expect(rows).toEqual([{ lock: '1min', statement: '5min', idle: '5min' }]);
      // A lock another session holds: the limit (shortened here) ends the wait with an error the workers retry on.
      const holder = await other.connect();
      const waiter = await pool.connect();
      try {
        await holder.query('begin; select pg_advisory_xact_lock(424242)');
        await waiter.query('begin');
        await waiter.query("set local lock_timeout = '200ms'");
        const failure = await waiter.query('select pg_advisory_xact_lock(424242)').then(() => null, (err: unknown) => err);
        expect((failure as { code?: string }).code).toBe('55P03');
        expect(isTransient(failure)).toBe(true);
      } finally {
        await waiter.query('rollback').catch(() => undefined);
        await holder.query('rollback');
        waiter.release();
        holder.release();
      }
    } finally {
      await pool.end();
      await other.end();
    }
  });
});
