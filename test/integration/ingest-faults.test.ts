import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startIngestWorker, waitForCatchUp } from '../support/workers.js';
import { factsSnapshot } from '../support/facts.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import { INPUT_TOPICS } from '../../libs/events/topics.js';
import { createRedis } from '../../libs/runtime/connections.js';
import { forgetSeenMarkers } from '../../services/ingest-worker/seen-markers.js';
import { sampleTraffic, type SampleTraffic } from '../../libs/sample/sample-traffic.js';
import { publishOutOfOrder } from '../support/publish-out-of-order.js';
import { compiledEntry } from '../../libs/runtime/repo-paths.js';

/**
 * Faults must not change a single fact: every run below consumes the same topics into a
 * database of its own, and its facts must equal those of an undisturbed reference run. The
 * traffic is published out of order across topics, so every run also re-decides a lot, and
 * its batches are cut differently from the reference's: what must agree is the decisions,
 * not the path of revisions that led to them.
 */
let env: TestEnv;
let producer: EventProducer;
let reference: Awaited<ReturnType<typeof factsSnapshot>>;
const traffic: SampleTraffic = sampleTraffic({ seed: 7, clicks: 2500 });
const inputTopics = () => INPUT_TOPICS.map((t) => env.topics[t]);
const SMALL_FETCH = 16 * 1024;

beforeAll(async () => {
  env = await createTestEnv('ingest_faults');
  producer = createEventProducer(env);
  await producer.connect();
  await publishOutOfOrder(producer, traffic, 7);
  // Small fetches (a few hundred records each): late facts then meet decisions already
  // published, as in a live stream, rather than a whole backlog decided in one transaction.
  const ref = await startIngestWorker(env, { group: 'reference', fetchMaxBytes: SMALL_FETCH });
  await waitForCatchUp(env.kafka, env.group('reference'), inputTopics());
  await ref.stop();
  reference = await factsSnapshot(env.db);
}, 300_000);

afterAll(async () => {
  await producer?.disconnect();
  await env?.close();
});

describe('ingest worker under faults', () => {
  it('the reference run counted a realistic mix', async () => {
    const byStatus = (s: string) => reference.clicks.filter((c) => (c as { status: string }).status === s).length;
    expect(byStatus('counted')).toBeGreaterThan(1500);
    expect(byStatus('bot')).toBeGreaterThan(100);
    expect(reference.referrals.length).toBeGreaterThan(100);
    expect(reference.clicks.length).toBe(new Set(traffic.clicks.map((c) => c.eventId)).size);
    // Late clicks and links really did revise published decisions.
    expect(Number((await env.db('referral_trackings').whereNotNull('retracts_event_id').count({ n: '*' }))[0]?.n)).toBeGreaterThan(0);
  });

  it('all topics replayed from offset 0 over the facts they made leave them identical: Postgres drops every record', async () => {
    // A database of its own, filled by a first run, so that the reference stays as it was.
    const { url, db } = await env.database('replay');
    const first = await startIngestWorker(env, { group: 'replay-first', databaseUrl: url });
    try {
      await waitForCatchUp(env.kafka, env.group('replay-first'), inputTopics());
      await eventually(async () => (Number((await db('ingest_outbox').count({ n: '*' }))[0]?.n) === 0 ? true : undefined), 60_000, 'the first run\'s outbox drained');
    } finally {
      await first.stop();
    }
    expect(await factsSnapshot(db)).toEqual(reference);
    // A new store epoch: the Redis markers of the first run are under the old one (rt:<epoch>:seen:),
    // so none can drop a replayed record before Postgres sees it (the redis layer counts none below).
    // They are deleted too: dropping the database later finds only the new epoch's.
    const { rows: before } = await db.raw<{ rows: { epoch: string }[] }>('select epoch from store_identity');
    await db.raw('update store_identity set epoch = gen_random_uuid()');
    const redis = createRedis(env.config, env.log);
    try {
      expect(await forgetSeenMarkers(redis, String(before[0]?.epoch))).toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }

    const replay = await startIngestWorker(env, { group: 'replay', databaseUrl: url });
    try {
      await waitForCatchUp(env.kafka, env.group('replay'), inputTopics());
    } finally {
      await replay.stop();
    }
    const count = async (metric: 'duplicates' | 'eventsIn' | 'eventsOut' | 'deadLetters', labels: Record<string, string> = {}) =>
      (await replay.worker.metrics[metric].get()).values.filter((v) => Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x)).reduce((n, v) => n + v.value, 0);
    expect(await count('duplicates', { layer: 'redis' })).toBe(0);
    // Every keyed record the replay read met its primary key in Postgres (or repeated one of its own batch).
    for (const [topic, sent] of [['inviteClicks', traffic.clicks], ['appInstalls', traffic.installs], ['userRegistered', traffic.registrations], ['userLogins', traffic.logins]] as const) {
      const read = await count('eventsIn', { topic });
      expect(read, topic).toBeGreaterThanOrEqual(sent.length);
      const caught = (await count('duplicates', { topic, layer: 'postgres' })) + (await count('duplicates', { topic, layer: 'batch' })) + (await count('deadLetters', { topic: env.topics[topic] }));
      expect(caught, topic).toBeGreaterThanOrEqual(read);
    }
    // Nothing decided differently, so nothing published: the aggregator would see no replay at all.
    expect(await count('eventsOut')).toBe(0);
    expect(await factsSnapshot(db)).toEqual(reference);
  });

  it('Redis flushed mid-stream leaves identical facts', async () => {
    const { url, db } = await env.database('redis');
    const redis = createRedis(env.config, env.log);
    const worker = await startIngestWorker(env, { group: 'redis-flush', databaseUrl: url });
    try {
      await eventually(async () => ((await db('clicks').count({ n: '*' }))[0]?.n as string) > '0' || undefined, 60_000, 'first clicks');
      // Flush everything this database's worker ever wrote to Redis, then redeliver a chunk.
      const { rows } = await db.raw<{ rows: { epoch: string }[] }>('select epoch from store_identity');
      const keys = await redis.keys(`rt:${rows[0]?.epoch}:*`);
      if (keys.length) await redis.del(...keys);
      await producer.send('inviteClicks', traffic.clicks.slice(0, 300));
      await waitForCatchUp(env.kafka, env.group('redis-flush'), inputTopics());
      expect(await factsSnapshot(db)).toEqual(await factsSnapshot(env.db));
    } finally {
      await worker.stop();
      redis.disconnect();
    }
  });

  it('kill -9 of the worker mid-batch and a restart leave identical facts', async () => {
    const { url, db } = await env.database('kill');
    const spawnWorker = (): ChildProcess =>
      spawn(process.execPath, [compiledEntry('services/ingest-worker/main.ts')], {
        env: { ...process.env, DATABASE_URL: url, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, METRICS_PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'test', KAFKA_SESSION_TIMEOUT_MS: '8000', KAFKA_FETCH_MAX_BYTES: String(SMALL_FETCH) },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    const first = spawnWorker();
    try {
      await eventually(async () => (Number((await db('clicks').count({ n: '*' }))[0]?.n) > 200 ? true : undefined), 90_000, 'the worker to be mid-stream');
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      const before = Number((await db('clicks').count({ n: '*' }))[0]?.n);
      expect(before).toBeLessThan(reference.clicks.length); // it really died mid-stream
      const second = spawnWorker();
      try {
        await waitForCatchUp(env.kafka, `${env.config.kafka.topicPrefix}recruitment.ingest-worker`, inputTopics());
        // Outbox rows the killed process committed but never published are relayed.
        await eventually(async () => (Number((await db('ingest_outbox').count({ n: '*' }))[0]?.n) === 0 ? true : undefined), 60_000, 'outbox drained');
      } finally {
        second.kill('SIGTERM');
        await new Promise((r) => second.once('exit', r));
      }
      expect(await factsSnapshot(db)).toEqual(await factsSnapshot(env.db));
    } finally {
      if (first.exitCode === null) first.kill('SIGKILL');
    }
  });

  it('two instances with a rebalance in the middle leave identical facts', async () => {
    const { url, db } = await env.database('rebalance');
    const a = await startIngestWorker(env, { group: 'pair', databaseUrl: url });
    const b = await startIngestWorker(env, { group: 'pair', databaseUrl: url });
    try {
      await eventually(async () => (Number((await db('clicks').count({ n: '*' }))[0]?.n) > 200 ? true : undefined), 90_000, 'both mid-stream');
      await b.stop(); // a takes over b's partitions
      const c = await startIngestWorker(env, { group: 'pair', databaseUrl: url }); // and gives some to c
      try {
        await waitForCatchUp(env.kafka, env.group('pair'), inputTopics());
      } finally {
        await c.stop();
      }
      expect(await factsSnapshot(db)).toEqual(await factsSnapshot(env.db));
    } finally {
      await a.stop();
    }
  });
});
