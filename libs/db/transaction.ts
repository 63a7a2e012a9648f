import type { Pool, PoolClient } from 'pg';

/** What a transaction's work returns to end it with a rollback instead of a commit (see rollBack). */
export class RolledBack<T> {
  constructor(readonly value: T) {}
}

/** Ends the transaction of inTransaction with a rollback, not a commit; inTransaction returns `value`. */
export const rollBack = <T>(value: T): RolledBack<T> => new RolledBack(value);

/**
 * Runs `work` in one transaction on a connection of `pool` and returns what it returns.
 *
 * - The transaction is opened by `options.begin`, sent as one text (default `begin`): a caller
 *   that also sets locals or takes locks puts them after `begin;` and pays one round trip.
 * - When `work` resolves, the transaction commits; when it resolves to `rollBack(value)`, it
 *   rolls back and `value` is returned.
 * - When anything fails (opening, `work`, the commit or the asked-for rollback), the
 *   transaction is rolled back and the error thrown on. A connection that cannot even roll
 *   back is discarded (released with the rollback's error), never given back to the pool.
 * - The connection is always released, once.
 */
export async function inTransaction<T>(
  pool: Pick<Pool, 'connect'>,
  work: (client: PoolClient) => Promise<T | RolledBack<T>>,
  options: { begin?: string } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query(options.begin ?? 'begin');
    const outcome = await work(client);
    if (outcome instanceof RolledBack) {
      await client.query('rollback');
      return outcome.value;
    }
    await client.query('commit');
    return outcome;
  } catch (err) {
    await client.query('rollback').catch((rollbackFailed: Error) => (broken = rollbackFailed));
    throw err;
  } finally {
    client.release(broken);
  }
}
