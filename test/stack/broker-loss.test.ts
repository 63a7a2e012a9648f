import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { referenceFacts, startPipeline, waitForPositions } from '../support/workers.js';
import type { Admin } from '../../libs/kafka/client.js';
import { createWorkerReadiness } from '../../libs/observability/readiness.js';
import { createRedis } from '../../libs/runtime/connections.js';
import { expectedFunnel, factsSnapshot, funnelRecords, funnelSnapshot } from '../support/facts.js';
import { publishOutOfOrder, trafficHalf } from '../support/publish-out-of-order.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';

/**
 * A three-broker KRaft cluster of this test's own (ports 19092-19097, its own log and run
 * directories), topics with three copies and min.insync.replicas=2, idempotent producers with
 * acks=all. One broker is killed with kill -9 while ingest and aggregation run: the pipeline
 * keeps going on the other two, the broker rejoins, and every number is exact.
 *
 * The broker killed is the ingest group's coordinator, the worst one to lose: besides leading
 * partitions it holds the group, whose new coordinator no longer knows the members (kafkajs
 * crashed on that, for good, before libs/kafka/batch-consumer.ts rejoined instead).
 */
const BASE = 19092;
const home = mkdtempSync(join(tmpdir(), 'rt-cluster-'));
const data = join(home, 'data');
const run = join(home, 'run');
const cluster = (...args: string[]) =>
  execFileSync('bash', ['infra/scripts/kafka.sh', ...args], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 240_000, env: { ...process.env, KAFKA_LOG_DIR: join(home, 'logs') } });
let env: TestEnv;

/** The node coordinating a consumer group: the leader of its __consumer_offsets partition (Java's String.hashCode, as the broker computes it). */
async function coordinatorOf(admin: Admin, groupId: string): Promise<number> {
  let hash = 0;
  for (const ch of groupId) hash = (Math.imul(hash, 31) + (ch.codePointAt(0) as number)) | 0;
  const { topics } = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
  const partitions = topics[0]?.partitions ?? [];
  const wanted = (hash === -2147483648 ? 0 : Math.abs(hash)) % partitions.length;
  const leader = partitions.find((p) => p.partitionId === wanted)?.leader;
  if (leader === undefined || leader < 0) throw new Error(`no coordinator for ${groupId}`);
  return leader;
}

beforeAll(async () => {
  cluster('start', '3', String(BASE), data, run);
  env = await createTestEnv('broker_loss', {
    env: { KAFKA_BROKERS: [0, 2, 4].map((d) => `127.0.0.1:${BASE + d}`).join(','), KAFKA_REPLICATION_FACTOR: '3', KAFKA_SESSION_TIMEOUT_MS: '8000' },
  });
}, 300_000);

afterAll(async () => {
  await env?.close();
  cluster('stop', run);
  rmSync(home, { recursive: true, force: true });
});

/** Whether something accepts connections on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Which of these event ids the referral-events topic holds, read from the start (diagnosis). */
async function topicHolds(ids: string[]): Promise<Record<string, string[]>> {
  const wanted = new Set(ids);
  const found: Record<string, string[]> = {};
  const admin = env.kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(env.topics.referralEvents);
  await admin.disconnect();
  const total = ends.reduce((n, p) => n + Number(p.high), 0);
  let seen = 0;
  const consumer = env.kafka.consumer({ groupId: env.group(`diag-${Date.now()}`) });
  await consumer.connect();
  await consumer.subscribe({ topics: [env.topics.referralEvents], fromBeginning: true });
  await new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        seen++;
        const e = await env.codec.decode('referralEvents', message.value as Buffer);
        if (wanted.has(e.eventId)) (found[e.eventId] ??= []).push(`p${partition}@${message.offset}`);
        if (seen >= total) resolve();
      },
    });
    setTimeout(resolve, 30_000);
  });
  await consumer.disconnect();
  return found;
}

describe('a three-broker cluster that loses a broker', () => {
  it('ingest and aggregation carry on through a kill -9 of one broker, it rejoins, and every number is exact', async () => {
    const admin = env.kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [env.topics.inviteClicks] });
    expect(meta.topics[0]?.partitions.every((p) => p.replicas.length === 3)).toBe(true);

    const traffic = sampleTraffic({ seed: 41, clicks: 3000 });
    const producer = createEventProducer(env);
    await producer.connect();
    const pipeline = await startPipeline(env);
    const redis = createRedis(env.config, env.log);
    const readiness = [
      createWorkerReadiness({ pool: pipeline.ingest.pool, redis, kafka: env.kafka, registryUrl: env.config.schemaRegistryUrl, reads: pipeline.ingest.worker.reads, writes: pipeline.ingest.worker.writes, member: () => pipeline.ingest.worker.member }),
      createWorkerReadiness({ pool: pipeline.aggregator.pool, kafka: env.kafka, registryUrl: env.config.schemaRegistryUrl, reads: pipeline.aggregator.worker.reads, writes: pipeline.aggregator.worker.writes, member: () => pipeline.aggregator.worker.member }),
    ];
    // Not ready throws what each worker still lacks, so a timeout names it.
    const allReady = async () => {
      const problems = await Promise.all(readiness.map((r) => r.problem()));
      if (problems.some((p) => p !== null)) throw new Error(`ingest: ${problems[0] ?? 'ready'} | aggregator: ${problems[1] ?? 'ready'}`);
      return true;
    };
    try {
      await eventually(allReady, 120_000, 'both workers ready');
      await publishOutOfOrder(producer, trafficHalf(traffic, true), 41);
      await eventually(async () => (Number((await env.db('clicks').count({ n: '*' }))[0]?.n) > 300 ? true : undefined), 90_000, 'ingest under way');

      // The coordinator of the ingest group dies mid-stream; writes still find two in-sync
      // copies, reads move to new leaders, the groups move to a new coordinator.
      const node = await coordinatorOf(admin, env.group('ingest'));
      process.kill(Number(readFileSync(join(run, `kafka-${node}.pid`), 'utf8')), 'SIGKILL');
      await eventually(async () => ((await listening(BASE + 2 * (node - 1))) ? undefined : true), 10_000, 'the killed broker gone');
      // Until the controller fences it (seconds), the dead broker still leads partitions both read.
      const problems = await Promise.all(readiness.map((r) => r.problem()));
      expect(problems.every((p) => p !== null), JSON.stringify(problems)).toBe(true);
      await publishOutOfOrder(producer, trafficHalf(traffic, false), 42);
      // The pipeline keeps going on two brokers: every click is ingested and every funnel event
      // published and counted while the broker is down.
      const distinctClicks = new Set(traffic.clicks.map((c) => c.eventId)).size;
      await eventually(async () => (Number((await env.db('clicks').count({ n: '*' }))[0]?.n) === distinctClicks ? true : undefined), 180_000, 'every click ingested without the dead broker');
      await eventually(async () => (Number((await env.db('ingest_outbox').count({ n: '*' }))[0]?.n) === 0 ? true : undefined), 120_000, 'outbox drained without the dead broker');
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents, 120_000);
      // With new leaders on the other two, each partition still has the two copies a write needs.
      await eventually(allReady, 120_000, 'both workers ready again without the dead broker');

      // It rejoins and catches up: every partition has all three copies in sync again.
      cluster('start-node', String(node), '3', String(BASE), data, run);
      await eventually(async () => {
        const fresh = env.kafka.admin(); // a client of its own each time: kafkajs caches metadata for minutes
        await fresh.connect();
        try {
          const { topics } = await fresh.fetchTopicMetadata({ topics: Object.values(env.topics) });
          return topics.every((t) => t.partitions.every((p) => p.isr.length === 3)) ? true : undefined;
        } finally {
          await fresh.disconnect();
        }
      }, 120_000, 'the broker back in sync');
      await pipeline.settled();

      // Every funnel event the ingest worker published was counted once.
      const uncounted = (await env.db.raw<{ rows: { event_id: string }[] }>('select t.event_id from referral_trackings t left join funnel_counted_events c using (event_id) where c.event_id is null')).rows.map((r) => r.event_id);
      if (uncounted.length > 0) console.error('DIAG uncounted', JSON.stringify(await env.db('referral_trackings').whereIn('event_id', uncounted)), 'in topic:', JSON.stringify(await topicHolds(uncounted)));
      expect(uncounted).toEqual([]);
      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel(await funnelRecords(env.db)));
      // Nothing lost, nothing twice: the facts equal an undisturbed run over the same topics.
      const facts = await factsSnapshot(env.db);
      expect(facts.clicks.length).toBe(new Set(traffic.clicks.map((c) => c.eventId)).size);
      expect(facts).toEqual(await referenceFacts(env));
    } finally {
      await Promise.all(readiness.map((r) => r.close()));
      redis.disconnect();
      await pipeline.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
