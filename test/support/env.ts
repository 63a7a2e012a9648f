import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../libs/config/config.js';
import { createLogger, type Logger } from '../../libs/log/logger.js';
import { createKnex, ensureDatabase, migrateLatest, type Knex } from '../../libs/db/knex.js';
import { createKafka } from '../../libs/kafka/client.js';
import { provisionTopics, deleteTopics } from '../../libs/kafka/provision-topics.js';
import { topicNames, type TopicNames } from '../../libs/events/topics.js';
import { createEventCodec, createSchemaRegistry, type EventCodec } from '../../libs/events/codec.js';
import type { Kafka } from '../../libs/kafka/client.js';
import { forgetSeenMarkers } from '../../services/ingest-worker/seen-markers.js';

/**
 * An isolated environment for one integration test file: its own database, topic prefix
 * (hence its own topics, schema subjects and consumer groups) on the real local stack.
 */
export interface TestEnv {
  namespace: string;
  config: Config;
  log: Logger;
  db: Knex;
  kafka: Kafka;
  topics: TopicNames;
  codec: EventCodec;
  /** A consumer group id unique to this file. */
  group(name: string): string;
  /** Another migrated database of this file's own (dropped by close()), for a run that must start empty. */
  database(name: string): Promise<{ url: string; db: Knex }>;
  close(): Promise<void>;
}

export async function createTestEnv(name: string, options: { env?: Record<string, string> } = {}): Promise<TestEnv> {
  const namespace = `t_${name.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${randomBytes(3).toString('hex')}`;
  const base = loadConfig(process.env);
  const dbUrl = new URL(base.databaseUrl);
  dbUrl.pathname = `/rt_${namespace}`;
  const config = loadConfig({
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: dbUrl.toString(),
    KAFKA_TOPIC_PREFIX: `${namespace}.`,
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    ...options.env,
  });
  const log = createLogger({ name: `test:${name}`, level: config.logLevel });
  await ensureDatabase(config.databaseUrl);
  const db = createKnex(config.databaseUrl, { min: 0, max: 4 });
  await migrateLatest(db);
  const kafka = createKafka({ ...config.kafka, log });
  const topics = topicNames(config.kafka.topicPrefix);
  await provisionTopics(kafka, topics, { replicationFactor: config.kafka.replicationFactor });
  const codec = createEventCodec({ registry: createSchemaRegistry(config), topics });
  await codec.registerAll();
  const extra: { url: string; db: Knex }[] = [];

  return {
    namespace,
    config,
    log,
    db,
    kafka,
    topics,
    codec,
    group: (g) => `${namespace}.${g}`,
    async database(suffix) {
      const url = new URL(config.databaseUrl);
      url.pathname = `${url.pathname}_${suffix}`;
      await ensureDatabase(url.toString());
      const other = { url: url.toString(), db: createKnex(url.toString(), { min: 0, max: 2 }) };
      extra.push(other);
      await migrateLatest(other.db);
      return other;
    },
    async close() {
      for (const other of extra) {
        await other.db.destroy();
        await dropDatabase(other.url);
      }
      await db.destroy();
      await deleteTopics(kafka, Object.values(topics)).catch(() => undefined);
      await dropDatabase(config.databaseUrl);
    },
  };
}

/**
 * Drops a database, and the ingest worker's Redis markers of its store (they are scoped to its
 * epoch, so nothing could read them again; left alone they would sit in Redis for their TTL).
 */
export async function dropDatabase(databaseUrl: string, redisUrl = loadConfig(process.env).redisUrl): Promise<void> {
  const epoch = await storeEpoch(databaseUrl);
  const url = new URL(databaseUrl);
  const name = url.pathname.slice(1);
  url.pathname = '/postgres';
  const admin = createKnex(url.toString(), { min: 0, max: 1 });
  try {
    await admin.raw(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.destroy();
  }
  if (epoch === null) return;
  // Best effort: a Redis that is down keeps the markers for their TTL, and the drop stands.
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000, retryStrategy: () => null });
  try {
    await redis.connect();
    await forgetSeenMarkers(redis, epoch);
  } catch (err) {
    process.emitWarning(`the Redis markers of dropped database ${name} were not deleted (they expire on their own): ${String(err)}`);
  } finally {
    redis.disconnect();
  }
}

/** The store epoch of a database, or null when it does not exist or was never migrated. */
async function storeEpoch(databaseUrl: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: databaseUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ epoch: string }>('select epoch from store_identity');
    return rows[0]?.epoch ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls until check() returns a value that is not undefined, or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 60_000, what = 'condition', intervalMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
