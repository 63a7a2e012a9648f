import pg from 'pg';
import { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';

/**
 * A pg pool whose idle-client errors are logged instead of crashing the process. With
 * `statementTimeoutMs`, Postgres cancels any statement that runs longer (error 57014).
 * `applicationName` names its connections in pg_stat_activity (which service a backend
 * serves: what an operator looks for, and what the bench sums CPU by). `keep`: connections
 * once opened stay open however long they idle (see openAll), instead of closing after 10 s.
 */
export function createPool(config: Config, log: Logger, max = 10, options: { statementTimeoutMs?: number; applicationName?: string; keep?: boolean } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl, max, connectionTimeoutMillis: 5_000,
    ...(options.keep ? { min: max } : {}),
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  pool.on('error', (err) => log.warn({ err }, 'postgres client error'));
  // pg-pool guards only idle clients: a client checked out for a transaction that Postgres
  // terminates between two queries (a restart) would emit an unhandled error and take the
  // process down. Its next query fails instead, and the batch is retried.
  pool.on('connect', (client) => client.on('error', (err) => log.warn({ err }, 'postgres connection lost')));
  return pool;
}

/** A Redis client that reconnects forever; commands fail fast while it is down so batches retry. */
export function createRedis(config: Config, log: Logger): Redis {
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
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
