import type { Pool, PoolClient } from 'pg';

/**
 * Planner settings for a worker's batch transaction, sent after `begin;` (see inTransaction).
 *
 * Every statement of a worker's batch reads or writes the rows of a bounded set of keys (links,
 * devices, users, visitor-days, decisions, event ids, funnel rows): probes of an index, a few
 * microseconds each whatever the table's size. The planner may choose otherwise, and the plan
 * it keeps for a prepared statement is made once, for the tables' sizes of that moment:
 * - given a thousand keys in an array, it prices the probes above a sequential scan of a table
 *   of a few hundred thousand rows and scans it (a hash or merge join over all of
 *   `referral_trackings`, 590 ms per ingest batch at a million events);
 * - on a new database, whose tables the migrations analyzed while empty, the generic plan of the
 *   aggregator's claim of event ids reads all of `funnel_counted_events` once per batch (a
 *   sequential scan, 26 ms at 500,000 rows, and growing with the table, for as long as the
 *   connection lives).
 * Within a batch's transaction it is told not to scan, hash or merge-join, so every plan is made
 * of index probes whatever the statistics said. Nor to hand a statement to parallel workers:
 * given a thousand devices, the generic plan of a lane's install load gathered from a worker,
 * whose start and stop made a 4 ms statement take 37 ms, while the lane held its locks.
 */
export const KEY_PROBES_ONLY = 'set local enable_seqscan = off; set local enable_hashjoin = off; set local enable_mergejoin = off; set local max_parallel_workers_per_gather = 0';

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
