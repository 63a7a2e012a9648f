import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
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
      await producer.send('referralEvents', during);
      await new Promise((r) => setTimeout(r, 4000));
      expect(await positionsSum()).toBe(applied); // nothing applied, nothing skipped while it is down

      proxy.restore();
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents, 120_000);
      expect(await positionsSum()).toBe(before.length + during.length);
      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel([...before, ...during]));
    } finally {
      await worker.stop();
    }
  });
});
