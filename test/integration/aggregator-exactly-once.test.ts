import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startAggregatorWorker, waitForCatchUp, waitForPositions } from '../support/workers.js';
import { expectedFunnel, funnelSnapshot } from '../support/facts.js';
import { readTopic } from '../support/kafka.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import { referralEvents } from '../../libs/sample/referral-events.js';
import type { Knex } from '../../libs/db/knex.js';
import { compiledEntry } from '../../libs/runtime/repo-paths.js';
import { AGGREGATOR_NODE_FLAGS } from '../../libs/runtime/supervisor.js';

/**
 * The aggregator against the real broker: 80,000 funnel events, 4,000 of them re-published
 * (as after an ingest crash), must give exactly the funnel computed from the distinct events,
 * whatever happens to the worker in between.
 */
let env: TestEnv;
let producer: EventProducer;
const events = referralEvents({ seed: 5, count: 80_000, days: 240, start: Date.UTC(2026, 1, 1) });
const republished = events.filter((_, i) => i % 20 === 7);
const expected = expectedFunnel(events);
const positionsSum = async (db: Knex) => Number((await db.raw<{ rows: { n: string | null }[] }>('select sum(next_offset) n from funnel_positions')).rows[0]?.n ?? 0);
const total = events.length + republished.length;

beforeAll(async () => {
  env = await createTestEnv('aggregator_once');
  producer = createEventProducer(env);
  await producer.connect();
  for (let i = 0; i < events.length; i += 5000) await producer.send('referralEvents', events.slice(i, i + 5000));
  await producer.send('referralEvents', republished);
  const reference = await startAggregatorWorker(env, { group: 'reference' });
  await waitForPositions(env.kafka, env.db, env.topics.referralEvents);
  await reference.stop();
}, 300_000);

afterAll(async () => {
  await producer?.disconnect();
  await env?.close();
});

describe('aggregator worker, exactly once', () => {
  it('counts every distinct event once, re-published duplicates included', async () => {
    const snapshot = await funnelSnapshot(env.db);
    expect(snapshot.hourly.length).toBeGreaterThan(5000);
    expect(snapshot).toEqual(expected);
    expect(await positionsSum(env.db)).toBe(total);
    const { rows } = await env.db.raw<{ rows: { n: string }[] }>('select count(*) n from funnel_counted_events');
    expect(Number(rows[0]?.n)).toBe(events.length);
    expect(events.filter((e) => e.retractsEventId).length).toBeGreaterThan(1000); // retractions counted once too
  });

  it('a replay of the topic from offset 0 by a new group changes no count', async () => {
    const replay = await startAggregatorWorker(env, { group: 'replay' });
    try {
      // The new group starts at offset 0 in Kafka; the worker resumes from the stored positions
      // instead, and the group's offsets follow them.
      await waitForCatchUp(env.kafka, env.group('replay'), [env.topics.referralEvents]);
      expect(await funnelSnapshot(env.db)).toEqual(expected);
      expect((await replay.worker.metrics.counted.get()).values).toEqual([]);
    } finally {
      await replay.stop();
    }
  });

  it('a replay with the positions deleted changes no count either: event ids catch it', async () => {
    await env.db.raw('delete from funnel_positions');
    const replay = await startAggregatorWorker(env, { group: 'replay-without-positions' });
    try {
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents);
    } finally {
      await replay.stop();
    }
    expect(await funnelSnapshot(env.db)).toEqual(expected);
  });

  it('kill -9 of the worker mid-stream and a restart give exact counts', async () => {
    const { url, db } = await env.database('kill');
    const spawnWorker = (): ChildProcess =>
      spawn(process.execPath, [...AGGREGATOR_NODE_FLAGS, compiledEntry('services/aggregator-worker/main.ts')], {
        env: { ...process.env, DATABASE_URL: url, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, METRICS_PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'test', KAFKA_SESSION_TIMEOUT_MS: '8000' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
    const first = spawnWorker();
    try {
      await eventually(async () => ((await positionsSum(db)) > 0 ? true : undefined), 90_000, 'the worker to be mid-stream', 20);
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));
      expect(await positionsSum(db)).toBeLessThan(total); // it really died mid-stream
      const second = spawnWorker();
      try {
        await waitForPositions(env.kafka, db, env.topics.referralEvents);
      } finally {
        second.kill('SIGTERM');
        await new Promise((r) => second.once('exit', r));
      }
      expect(await funnelSnapshot(db)).toEqual(expected);
    } finally {
      if (first.exitCode === null) first.kill('SIGKILL');
    }
  });

  it('two instances with a rebalance in the middle give exact counts', async () => {
    const { url, db } = await env.database('rebalance');
    const a = await startAggregatorWorker(env, { group: 'pair', databaseUrl: url });
    const b = await startAggregatorWorker(env, { group: 'pair', databaseUrl: url });
    try {
      await eventually(async () => ((await positionsSum(db)) > 0 ? true : undefined), 90_000, 'both mid-stream');
      await b.stop(); // a takes over b's partitions
      const c = await startAggregatorWorker(env, { group: 'pair', databaseUrl: url }); // and hands some to c
      try {
        await waitForPositions(env.kafka, db, env.topics.referralEvents);
      } finally {
        await c.stop();
      }
      expect(await funnelSnapshot(db)).toEqual(expected);
    } finally {
      await a.stop();
    }
  });

  it('sends a record it cannot decode to the dead-letter topic with its reason, and goes on', async () => {
    const { url, db } = await env.database('poison');
    await producer.sendRaw('referralEvents', [{ key: 'mentor-x', value: Buffer.from('not avro at all') }]);
    const worker = await startAggregatorWorker(env, { group: 'poison', databaseUrl: url });
    try {
      const [dead] = await readTopic(env.kafka, env.topics.deadLetters, 1);
      expect(dead?.value?.toString()).toBe('not avro at all');
      expect(dead?.headers?.['dlq.source.topic']?.toString()).toBe(env.topics.referralEvents);
      expect(dead?.headers?.['dlq.error.class']?.toString()).toBe('PoisonRecordError');
      await waitForPositions(env.kafka, db, env.topics.referralEvents);
    } finally {
      await worker.stop();
    }
    expect(await funnelSnapshot(db)).toEqual(expected);
  });
});
