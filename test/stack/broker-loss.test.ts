import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { referenceFacts, startPipeline } from '../support/workers.js';
import { expectedFunnel, factsSnapshot, funnelSnapshot, stageLog } from '../support/facts.js';
import { publishOutOfOrder, trafficHalf } from '../support/publish-out-of-order.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';

/**
 * A three-broker KRaft cluster of this test's own (ports 19092-19097, its own log and run
 * directories), topics with three copies and min.insync.replicas=2, idempotent producers with
 * acks=all. One broker is killed with kill -9 while ingest and aggregation run: the pipeline
 * keeps going on the other two, the broker rejoins, and every number is exact.
 *
 * OPEN: this does not pass yet, so it runs only with BROKER_LOSS=1 (not in make test). Seen
 * on Kafka 4.3.1 with kafkajs 2.2.4: either the workers stop making progress while the broker
 * is down ("timed out waiting for every click ingested without broker 2"), or they finish and
 * the aggregator's tables are a few events short of the stage log.
 */
const BASE = 19092;
const home = mkdtempSync(join(tmpdir(), 'rt-cluster-'));
const data = join(home, 'data');
const run = join(home, 'run');
const cluster = (...args: string[]) =>
  execFileSync('bash', ['infra/scripts/kafka.sh', ...args], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 240_000, env: { ...process.env, KAFKA_LOG_DIR: join(home, 'logs') } });
let env: TestEnv;
const enabled = process.env.BROKER_LOSS === '1';

beforeAll(async () => {
  if (!enabled) return;
  cluster('start', '3', String(BASE), data, run);
  env = await createTestEnv('broker_loss', {
    env: { KAFKA_BROKERS: [0, 2, 4].map((d) => `127.0.0.1:${BASE + d}`).join(','), KAFKA_REPLICATION_FACTOR: '3', KAFKA_SESSION_TIMEOUT_MS: '8000' },
  });
}, 300_000);

afterAll(async () => {
  await env?.close();
  if (enabled) cluster('stop', run);
  rmSync(home, { recursive: true, force: true });
});

describe.runIf(enabled)('a three-broker cluster that loses a broker (BROKER_LOSS=1)', () => {
  it('ingest and aggregation carry on through a kill -9 of one broker, it rejoins, and every number is exact', async () => {
    const admin = env.kafka.admin();
    await admin.connect();
    const meta = await admin.fetchTopicMetadata({ topics: [env.topics.inviteClicks] });
    expect(meta.topics[0]?.partitions.every((p) => p.replicas.length === 3)).toBe(true);

    const traffic = sampleTraffic({ seed: 41, clicks: 3000 });
    const producer = createEventProducer(env);
    await producer.connect();
    const pipeline = await startPipeline(env);
    try {
      await publishOutOfOrder(producer, trafficHalf(traffic, true), 41);
      await eventually(async () => (Number((await env.db('clicks').count({ n: '*' }))[0]?.n) > 300 ? true : undefined), 90_000, 'ingest under way');

      // Broker 2 dies mid-stream; writes still find two in-sync copies, reads move to new leaders.
      const victim = Number(readFileSync(join(run, 'kafka-2.pid'), 'utf8'));
      process.kill(victim, 'SIGKILL');
      await publishOutOfOrder(producer, trafficHalf(traffic, false), 42);
      // The pipeline keeps going on two brokers: every click is ingested and every funnel event
      // published while broker 2 is down.
      const distinctClicks = new Set(traffic.clicks.map((c) => c.eventId)).size;
      await eventually(async () => (Number((await env.db('clicks').count({ n: '*' }))[0]?.n) === distinctClicks ? true : undefined), 180_000, 'every click ingested without broker 2');
      await eventually(async () => (Number((await env.db('referral_trackings').whereNull('published_at').count({ n: '*' }))[0]?.n) === 0 ? true : undefined), 120_000, 'outbox drained without broker 2');

      // It rejoins and catches up: every partition has all three copies in sync again.
      cluster('start-node', '2', '3', String(BASE), data, run);
      await eventually(async () => {
        const fresh = env.kafka.admin(); // a client of its own each time: kafkajs caches metadata for minutes
        await fresh.connect();
        try {
          const { topics } = await fresh.fetchTopicMetadata({ topics: Object.values(env.topics) });
          return topics.every((t) => t.partitions.every((p) => p.isr.length === 3)) ? true : undefined;
        } finally {
          await fresh.disconnect();
        }
      }, 120_000, 'broker 2 back in sync');
      await pipeline.settled();

      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel(await stageLog(env.db)));
      // Nothing lost, nothing twice: the facts equal an undisturbed run over the same topics.
      const facts = await factsSnapshot(env.db);
      expect(facts.clicks.length).toBe(new Set(traffic.clicks.map((c) => c.eventId)).size);
      expect(facts).toEqual(await referenceFacts(env));
    } finally {
      await pipeline.stop();
      await producer.disconnect();
      await admin.disconnect();
    }
  });
});
