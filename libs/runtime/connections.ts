import pg from 'pg';
import { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { PG_TYPES } from '../db/timestamps.js';

/**
 * What a worker's connection may wait for, so that a Postgres that misbehaves rather than going
 * away (a lock someone else holds, a connection that goes silent) becomes an error the batch is
 * retried on, with backoff and a log line, instead of a lane that waits for ever holding its own
 * locks. A lane's statements take milliseconds to seconds; the worker's ANALYZE of a grown table
 * tens of seconds at most. A rebuild (`npx recruitment rebuild`) holds the aggregator's lock for
 * as long as it runs: the aggregator's transaction then fails every minute and is retried, and
 * counts again once the rebuild is done.
 */
export const WORKER_SESSION_LIMITS = {
  statement_timeout: 300_000,
  lock_timeout: 60_000,
  idle_in_transaction_session_timeout: 300_000,
  keepAlive: true,
} as const;

/** How long past its statement timeout a statement Postgres has not answered fails on the client (see createPool). */
export const QUERY_TIMEOUT_MARGIN_MS = 2_000;

/**
 * A pg pool whose idle-client errors are logged instead of crashing the process. `worker`: the
 * session limits of WORKER_SESSION_LIMITS. With
 * `statementTimeoutMs`, Postgres cancels any statement that runs longer (error 57014), and a
 * connection checked out QUERY_TIMEOUT_MARGIN_MS longer than that is cut ('Query read timeout';
 * its statement fails and the pool drops it, see failStalledCheckouts): a Postgres gone silent
 * (a network partition, a failover to another address: no reset, so the socket waits for TCP to
 * give up, about a quarter of an hour) cannot hold a request or a connection longer. A pool
 * with a statement timeout is for one statement per checkout (`pool.query`), as the query
 * service's: a transaction of many statements could outlast the deadline while each is quick.
 * `applicationName` names its connections in pg_stat_activity (which service a backend
 * serves: what an operator looks for, and what the bench sums CPU by). `keep`: connections
 * once opened stay open however long they idle (see openAll), instead of closing after 10 s.
 * `maxLifetimeSeconds`: a connection is closed once that old (when next idle) and a new one
 * opened on demand, which prepares and plans its statements afresh (see WORKER_CONNECTION_LIFETIME_S).
 * Timestamps are read with parseTimestamptz (libs/db/timestamps.ts): the same Dates, less garbage.
 */
export function createPool(config: Config, log: Logger, max = 10, options: { statementTimeoutMs?: number; applicationName?: string; keep?: boolean; maxLifetimeSeconds?: number; worker?: boolean } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl, max, connectionTimeoutMillis: 5_000, types: PG_TYPES,
    ...(options.worker ? WORKER_SESSION_LIMITS : {}),
    ...(options.keep ? { min: max } : {}),
    ...(options.maxLifetimeSeconds ? { maxLifetimeSeconds: options.maxLifetimeSeconds } : {}),
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs, keepAlive: true } : {}),
  });
  pool.on('error', (err) => log.warn({ err }, 'postgres client error'));
  if (options.statementTimeoutMs) failStalledCheckouts(pool, options.statementTimeoutMs + QUERY_TIMEOUT_MARGIN_MS);
  // pg-pool guards only idle clients: a client checked out for a transaction that Postgres
  // terminates between two queries (a restart) would emit an unhandled error and take the
  // process down. Its next query fails instead, and the batch is retried.
  pool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'postgres connection lost')));
  return pool;
}

/**
 * Cuts the connection of any client checked out longer than `deadlineMs`: its statement fails
 * with "Query read timeout" and the pool drops the client. One sweep per pool, a few times per
 * deadline, instead of pg's `query_timeout`, which arms a timer per statement whose callback
 * holds the statement and its rows: at 315 statements a second that kept about 12 kB of each
 * alive past two young collections, 40 MB promoted in 10 s against 10 MB without it, and the
 * query service's full collections came every 2 s instead of every 5–10 (each one a stall of
 * 20–50 ms for the requests queued behind it: docs/performance-journal.md, "Full collections
 * under misses"). A statement may now outlast the deadline by one sweep (a quarter of it, at
 * most 1 s). pg has no public way to drop a connection at once, hence its socket.
 */
function failStalledCheckouts(pool: pg.Pool, deadlineMs: number): void {
  const since = new Map<pg.PoolClient, number>();
  pool.on('acquire', (client) => since.set(client, performance.now()));
  pool.on('release', (_err, client) => since.delete(client));
  pool.on('remove', (client) => since.delete(client));
  const sweep = setInterval(() => {
    if (pool.ending) {
      clearInterval(sweep);
      return;
    }
    const now = performance.now();
    for (const [client, at] of since) {
      if (now - at <= deadlineMs) continue;
      since.delete(client);
      // Destroyed, not ended: a Postgres gone silent would never answer an orderly goodbye.
      (client as unknown as { connection: { stream: { destroy(err: Error): void } } }).connection.stream.destroy(new Error('Query read timeout'));
    }
  }, Math.max(50, Math.min(1_000, Math.round(deadlineMs / 4))));
  sweep.unref();
}

/**
 * How long a Redis command may take before it fails: a Redis that keeps the connection and stops
 * answering would otherwise hold a batch (the ingest worker's seen markers) or a request for ever.
 */
export const REDIS_COMMAND_TIMEOUT_MS = 5_000;

/** A Redis client that reconnects forever; commands fail fast while it is down, or past REDIS_COMMAND_TIMEOUT_MS, so batches retry. */
export function createRedis(config: Config, log: Logger): Redis {
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    commandTimeout: REDIS_COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
  redis.on('error', (err) => log.debug({ err }, 'redis connection error'));
  return redis;
}

/**
 * Opens every connection of a pool at once (and gives them back), so that a burst of requests
 * finds them open. A connection opened on demand costs the burst that needs it: on the bench
 * machine 20 opened together took 150 ms, and a new backend's first query 6 ms more (its
 * catalog caches are empty), which at 500 requests/s queued the first half-second of a route
 * for 0.5–0.8 s. With `keep` (createPool) they then stay open. Best effort: a Postgres that is
 * away now is only logged; the pool connects on demand when it is back.
 */
export async function openAll(pool: pg.Pool, count: number, log: Logger): Promise<void> {
  const opened = await Promise.allSettled(Array.from({ length: count }, () => pool.connect()));
  for (const o of opened) if (o.status === 'fulfilled') o.value.release();
  const failed = opened.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failed) log.warn({ err: failed.reason as unknown }, `postgres: opened ${opened.length - opened.filter((o) => o.status === 'rejected').length} of ${count} connections ahead of requests; the rest open on demand`);
}

/**
 * How long a worker's connection lives. The workers' statements are prepared once per
 * connection, and Postgres keeps a generic plan for each after its first five runs, made for
 * the tables' sizes at that moment; an ANALYZE (autovacuum's) makes it again, and so does a
 * new connection. On a new, empty database with autovacuum off, a plan made for empty tables
 * would otherwise stay for the process's life while the tables grow: a bench run on such a
 * database saw one lane's read of published decisions take 4 s, scanning whole indexes in a
 * nested loop, and the other lane wait 15 s on its locks. Forcing custom plans instead cost
 * 40% more Postgres CPU at a steady rate (docs/performance-journal.md, "Plans made for empty
 * tables"). The ingest worker also analyzes its own tables as they grow from empty
 * (createGrowthAnalyzer), so its plans follow a new database's sizes within seconds, autovacuum
 * or not. Both workers' batch transactions are told to read by key only (KEY_PROBES_ONLY), so
 * no plan of theirs scans a whole table, whatever sizes it was made for.
 */
export const WORKER_CONNECTION_LIFETIME_S = 600;

/**
 * Warns when the database's autovacuum is off (see WORKER_CONNECTION_LIFETIME_S). Best effort:
 * a database away now is not checked.
 */
export async function warnIfAutovacuumOff(pool: pg.Pool, log: Logger): Promise<void> {
  const setting = await pool.query<{ autovacuum: string }>("select current_setting('autovacuum') as autovacuum").then((r) => r.rows[0]?.autovacuum, () => undefined);
  if (setting === 'off') {
    log.warn(
      `postgres: autovacuum is off. A connection keeps the plans it made for the sizes its tables had then, for up to ${WORKER_CONNECTION_LIFETIME_S / 60} minutes, and only the ingest worker's own tables are analyzed as they grow (by the worker, when they have about doubled); turn autovacuum on, or ANALYZE the tables after a large load`,
    );
  }
}
