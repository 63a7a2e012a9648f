import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startAggregatorWorker, waitForPositions } from '../support/workers.js';
import { expectedFunnel, funnelSnapshot } from '../support/facts.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import { referralEvents } from '../../libs/sample/referral-events.js';

/**
 * Postgres goes away while funnel events keep arriving: the aggregator pauses and retries
 * with backoff, skips nothing, and when Postgres is back the numbers are exact.
 */
let env: TestEnv;
let producer: EventProducer;
let proxy: Awaited<ReturnType<typeof startTcpProxy>>;
const before = referralEvents({ seed: 61, count: 10_000, days: 20 });
const during = referralEvents({ seed: 62, count: 10_000, days: 20 });
const positionsSum = async () => Number((await env.db.raw<{ rows: { n: string | null }[] }>('select sum(next_offset) n from funnel_positions')).rows[0]?.n ?? 0);
/** The positions stored in Postgres, per partition. */
const positions = async () => new Map((await env.db.raw<{ rows: { partition: number; next_offset: string }[] }>('select partition, next_offset from funnel_positions where topic = ?', [env.topics.referralEvents])).rows.map((r) => [r.partition, Number(r.next_offset)]));
/** Per partition, the topic's end and the group's committed offset (what a consumer would take as read; -1 when none). */
const kafkaOffsets = async (groupId: string) => {
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    const ends = await admin.fetchTopicOffsets(env.topics.referralEvents);
    const [committed] = await admin.fetchOffsets({ groupId, topics: [env.topics.referralEvents] });
    return ends.map((e) => ({ partition: e.partition, end: Number(e.high), committed: Number(committed?.partitions.find((c) => c.partition === e.partition)?.offset ?? -1) }));
  } finally {
    await admin.disconnect();
  }
};

beforeAll(async () => {
  env = await createTestEnv('aggregator_outage');
  producer = createEventProducer(env);
  await producer.connect();
  const url = new URL(env.config.databaseUrl);
  proxy = await startTcpProxy({ host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname, port: Number(url.port || 5432) });
});

afterAll(async () => {
  await producer?.disconnect();
  await proxy?.close();
  await env?.close();
});

describe('aggregator during a Postgres outage', () => {
  it('pauses, skips nothing, and ends exact once Postgres is back', async () => {
    const viaProxy = new URL(env.config.databaseUrl);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    const worker = await startAggregatorWorker(env, { databaseUrl: viaProxy.toString() });
    try {
      await producer.send('referralEvents', before);
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents);
      const applied = await positionsSum();
      expect(applied).toBe(before.length);

      proxy.cut();
      const failures = async () => new Map((await worker.worker.metrics.batchFailures.get()).values.map((v) => [Number(v.labels.partition), v.value]));
      const failedBefore = await failures();
      await producer.send('referralEvents', during);
      const stored = await positions();
      // Evidence that it met the outage with the new events and paused and retried, not a pause
      // of the test's own: a batch of them (a partition's) failed at least twice since the cut,
      // tried, paused, tried again. (Its other partitions wait for the next fetch meanwhile.)
      const retried = await eventually(
        async () => {
          const now = await failures();
          const again = [...now].filter(([p, n]) => n - (failedBefore.get(p) ?? 0) >= 2).map(([p]) => p);
          return again.length > 0 ? again : undefined;
        },
        60_000,
        'the aggregator to fail at a batch of the new events and try it again',
      );
      const offsets = await kafkaOffsets(worker.worker.groupId);
      for (const p of retried) expect(offsets.find((o) => o.partition === p)?.end, `partition ${p} holds new events`).toBeGreaterThan(stored.get(p) ?? 0);
      // Nothing applied, and nothing skipped: no partition's committed offset went past what
      // Postgres holds (a worker that gave up on a batch and moved on would commit past it).
      expect(await positionsSum()).toBe(applied);
      for (const o of offsets) expect(o.committed, `partition ${o.partition}`).toBeLessThanOrEqual(stored.get(o.partition) ?? 0);
      expect(worker.worker.member).toBe(true); // still in its group, holding its partitions: paused, not crashed

      proxy.restore();
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents, 120_000);
      expect(await positionsSum()).toBe(before.length + during.length);
      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel([...before, ...during]));
    } finally {
      await worker.stop();
    }
  });
});
