import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startAggregatorWorker, waitForPositions } from '../support/workers.js';
import { expectedFunnel, funnelSnapshot } from '../support/facts.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import type { FunnelStage, ReferralEventRecorded } from '../../libs/events/types.generated.js';

/**
 * A burst of 50,000 events for one mentor within two hours. Half arrive as the ingest worker
 * keys them (one partition); the other half are spread over every partition, as a producer
 * with another key would, so three partitions upsert the same rows at once.
 */
let env: TestEnv;
const STAGES: FunnelStage[] = ['CLICKED', 'CLICKED', 'CLICKED', 'CLICKED', 'INSTALLED', 'REGISTERED', 'ACTIVATED'];
const start = Date.parse('2026-06-01T10:00:00Z');
const burst: ReferralEventRecorded[] = Array.from({ length: 50_000 }, (_, i) => ({
  eventId: `rfe_burst_${i}`,
  orgId: 'org-burst',
  mentorId: 'mentor-star',
  linkId: `link-${i % 2}`,
  campaignId: i % 2 === 0 ? 'campaign-spring' : null,
  referralId: null,
  userId: null,
  stage: STAGES[i % STAGES.length] as FunnelStage,
  uniqueVisitor: i % 3 === 0,
  occurredAt: start + Math.floor((i / 50_000) * 2 * 3600 * 1000),
}));

beforeAll(async () => {
  env = await createTestEnv('aggregator_burst');
  const producer = createEventProducer(env);
  await producer.connect();
  const keyed = burst.slice(0, 25_000);
  const spread = burst.slice(25_000);
  for (let i = 0; i < keyed.length; i += 5000) await producer.send('referralEvents', keyed.slice(i, i + 5000));
  const messages = await Promise.all(spread.map(async (e, i) => ({ key: `k${i}`, value: await env.codec.encode('referralEvents', e), partition: i % 12 })));
  for (let i = 0; i < messages.length; i += 5000) await producer.sendRaw('referralEvents', messages.slice(i, i + 5000));
  await producer.disconnect();
}, 120_000);

afterAll(async () => {
  await env?.close();
});

describe('a burst for one mentor', () => {
  it('is counted exactly, with one row write per key and batch instead of one per event', async () => {
    const worker = await startAggregatorWorker(env);
    try {
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents);
    } finally {
      await worker.stop();
    }
    const snapshot = await funnelSnapshot(env.db);
    expect(snapshot).toEqual(expectedFunnel(burst));
    // 2 hours x 2 campaigns: four hourly rows and two daily rows hold all 50,000 events.
    expect(snapshot.hourly).toHaveLength(4);
    expect(snapshot.daily.map((r) => [r.campaignId, r.clicks, r.uniqueClicks, r.installs, r.registrations, r.activations])).toEqual([
      ['campaign-spring', 14286, 4761, 3572, 3571, 3571],
      [null, 14286, 4763, 3571, 3572, 3571],
    ]);
    const upserts = (await worker.worker.metrics.rowsUpserted.get()).values.find((v) => v.labels.table === 'funnel_hourly')?.value ?? 0;
    const batches = (await worker.worker.metrics.batchSize.get()).values.find((v) => v.metricName === 'aggregator_batch_size_count')?.value ?? 0;
    expect(batches).toBeGreaterThan(0);
    expect(upserts).toBeLessThanOrEqual(batches * 4);
  });
});
