import { reconnectingAdmin, type Kafka } from '../../libs/kafka/client.js';
import { createPool, createRedis } from '../../libs/runtime/connections.js';
import { createIngestWorker, type IngestWorker } from '../../services/ingest-worker/ingest-worker.js';
import type { TestEnv } from './env.js';
import type { Knex } from '../../libs/db/knex.js';
import { INPUT_TOPICS } from '../../libs/events/topics.js';
import { eventually } from './env.js';
import { factsSnapshot } from './facts.js';
import { createEventCodec, createSchemaRegistry } from '../../libs/events/codec.js';
import { createAggregatorWorker, type AggregatorWorker } from '../../services/aggregator-worker/aggregator-worker.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import type { SampleTraffic } from '../../libs/sample/sample-traffic.js';
import { publishOutOfOrder } from './publish-out-of-order.js';

/** An ingest worker in this process, on the test env's database, topics and a group of its own. */
export async function startIngestWorker(env: TestEnv, options: { group?: string; databaseUrl?: string; fetchMaxBytes?: number; kafka?: Kafka; outbox?: { staleSeconds?: number; intervalMs?: number } } = {}) {
  const config = {
    ...env.config,
    databaseUrl: options.databaseUrl ?? env.config.databaseUrl,
    kafka: { ...env.config.kafka, fetchMaxBytes: options.fetchMaxBytes ?? env.config.kafka.fetchMaxBytes },
  };
  const pool = createPool(config, env.log, 4, { worker: true });
  const redis = createRedis(config, env.log);
  const codec = createEventCodec({ registry: createSchemaRegistry(config), topics: env.topics });
  const worker: IngestWorker = createIngestWorker({ config, log: env.log, pool, redis, kafka: options.kafka ?? env.kafka, codec, topics: env.topics, groupId: env.group(options.group ?? 'ingest'), ...(options.outbox ? { outbox: options.outbox } : {}) });
  await worker.start();
  return {
    worker,
    pool,
    async stop() {
      await worker.close();
      await pool.end();
      redis.disconnect();
    },
  };
}

/**
 * Publishes a sample traffic to the input topics out of order (see publishOutOfOrder), then runs
 * an ingest worker until its group has reached the end of every input topic, and stops it.
 * Whatever else the test wrote to the topics before is read in the same run.
 */
export async function ingestToEnd(env: TestEnv, traffic: SampleTraffic, seed: number): Promise<void> {
  const producer = createEventProducer(env);
  await producer.connect();
  try {
    await publishOutOfOrder(producer, traffic, seed);
  } finally {
    await producer.disconnect();
  }
  const worker = await startIngestWorker(env);
  try {
    await waitForCatchUp(env.kafka, env.group('ingest'), INPUT_TOPICS.map((t) => env.topics[t]));
  } finally {
    await worker.stop();
  }
}

/** Resolves once the group has committed offsets up to the end of every partition of the topics. */
export async function waitForCatchUp(kafka: Kafka, groupId: string, topics: string[], timeoutMs = 90_000): Promise<void> {
  const poll = reconnectingAdmin(kafka);
  let behind = 'no answer from the cluster';
  try {
    await eventually(
      () =>
        poll.use(async (admin) => {
          const ends = await Promise.all(topics.map(async (topic) => ({ topic, offsets: await admin.fetchTopicOffsets(topic) })));
          const committed = await admin.fetchOffsets({ groupId, topics });
          const lagging: string[] = [];
          for (const { topic, offsets } of ends) {
            const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
            for (const p of offsets) {
              if (p.high === '0') continue;
              const c = mine.find((m) => m.partition === p.partition);
              if (!c || BigInt(c.offset) < BigInt(p.high)) lagging.push(`${topic}[${p.partition}] at ${c?.offset ?? 'none'} of ${p.high}`);
            }
          }
          behind = lagging.join(', ');
          return lagging.length === 0 ? true : undefined;
        }),
      timeoutMs,
      `consumer group ${groupId} to catch up`,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}: ${behind}`, { cause: err });
  } finally {
    await poll.close();
  }
}

/** An aggregator worker in this process, on the test env's database, topics and a group of its own. */
export async function startAggregatorWorker(env: TestEnv, options: { group?: string; databaseUrl?: string } = {}) {
  const config = options.databaseUrl ? { ...env.config, databaseUrl: options.databaseUrl } : env.config;
  const pool = createPool(config, env.log, 4, { worker: true });
  const codec = createEventCodec({ registry: createSchemaRegistry(config), topics: env.topics });
  const worker: AggregatorWorker = createAggregatorWorker({ config, log: env.log, pool, kafka: env.kafka, codec, topics: env.topics, groupId: env.group(options.group ?? 'aggregator') });
  await worker.start();
  return {
    worker,
    pool,
    async stop() {
      await worker.close();
      await pool.end();
    },
  };
}

/** Resolves once the funnel positions stored in the database reach the end of every partition of the topic. */
export async function waitForPositions(kafka: Kafka, db: { raw: Knex['raw'] }, topic: string, timeoutMs = 120_000): Promise<void> {
  const poll = reconnectingAdmin(kafka);
  try {
    await eventually(
      () =>
        poll.use(async (admin) => {
          const ends = await admin.fetchTopicOffsets(topic);
          const { rows } = await db.raw<{ rows: { partition: number; next_offset: string }[] }>('select partition, next_offset from funnel_positions where topic = ?', [topic]);
          const at = new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
          return ends.every((p) => p.high === '0' || (at.get(p.partition) ?? 0n) >= BigInt(p.high)) ? true : undefined;
        }),
      timeoutMs,
      `funnel positions to reach the end of ${topic}`,
    );
  } finally {
    await poll.close();
  }
}

/** Both workers on the test env, and a way to wait until everything published has been counted. */
export async function startPipeline(env: TestEnv) {
  const ingest = await startIngestWorker(env);
  const aggregator = await startAggregatorWorker(env);
  return {
    ingest,
    aggregator,
    /** Resolves once the ingest worker has consumed every input, published its outbox, and the aggregator has counted it all. */
    async settled(): Promise<void> {
      await waitForCatchUp(env.kafka, env.group('ingest'), INPUT_TOPICS.map((t) => env.topics[t]));
      await eventually(async () => ((await ingest.pool.query('select 1 from ingest_outbox limit 1')).rowCount === 0 ? true : undefined), 60_000, 'outbox drained');
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents);
    },
    async stop(): Promise<void> {
      await aggregator.stop();
      await ingest.stop();
    },
  };
}

/**
 * The facts an undisturbed ingest worker derives from the env's topics as they are now, in a
 * database of its own: what a run with faults must arrive at.
 */
export async function referenceFacts(env: TestEnv, name = 'reference') {
  const { url, db } = await env.database(name);
  const reference = await startIngestWorker(env, { group: name, databaseUrl: url });
  try {
    await waitForCatchUp(env.kafka, env.group(name), INPUT_TOPICS.map((t) => env.topics[t]));
  } finally {
    await reference.stop();
  }
  return factsSnapshot(db);
}

