import pg from 'pg';
import { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import type { Logger } from '../log/logger.js';

/**
 * A pg pool whose idle-client errors are logged instead of crashing the process. With
 * `statementTimeoutMs`, Postgres cancels any statement that runs longer (error 57014).
 * `applicationName` names its connections in pg_stat_activity (which service a backend
 * serves: what an operator looks for, and what the bench sums CPU by).
 */
export function createPool(config: Config, log: Logger, max = 10, options: { statementTimeoutMs?: number; applicationName?: string } = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: config.databaseUrl, max, connectionTimeoutMillis: 5_000,
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
