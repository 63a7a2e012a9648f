import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startAggregatorWorker, waitForPositions } from '../support/workers.js';
import { expectedFunnel, funnelSnapshot } from '../support/facts.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import type { ReferralEventRecorded } from '../../libs/events/types.generated.js';

/**
 * The aggregator's statements are prepared on their connection, and Postgres keeps the generic
 * plan it made after their fifth run, for the tables' sizes of that moment. On a new database
 * the migrations leave every table analyzed while empty, so that moment's plan for the claim of
 * event ids read all of funnel_counted_events (a sequential scan: "a table of one row"), and
 * kept reading it, once per batch, however large it grew. A batch must read the counted events
 * by key, whatever the plan was made for.
 */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('aggregator_plans');
}, 60_000);

afterAll(async () => {
  await env?.close();
});

const event = (i: number): ReferralEventRecorded => ({
  eventId: `rfe_plan_${i}`,
  orgId: 'org-plans',
  mentorId: `mentor-${i % 3}`,
  linkId: 'link-plans',
  campaignId: null,
  referralId: null,
  userId: null,
  stage: 'CLICKED',
  uniqueVisitor: true,
  occurredAt: Date.parse('2026-06-01T10:00:00Z') + i * 60_000,
});

/** How funnel_counted_events has been read, as Postgres counts it (every backend's counts, flushed within a second or so of its commit). */
async function reads(): Promise<{ seq: number; idx: number }> {
  const { rows } = await env.db.raw<{ rows: { seq: string; idx: string }[] }>(
    "select seq_scan as seq, coalesce(idx_scan, 0) as idx from pg_stat_user_tables where relname = 'funnel_counted_events'",
  );
  return { seq: Number(rows[0]!.seq), idx: Number(rows[0]!.idx) };
}

describe('the aggregator on a database that grows from empty', () => {
  it('reads the counted events by key once the table has grown, not by scanning it each batch', async () => {
    const producer = createEventProducer(env);
    await producer.connect();
    const worker = await startAggregatorWorker(env);
    const sent: ReferralEventRecorded[] = [];
    /** Sends a batch and waits until it is counted: a transaction of its own. */
    const round = async () => {
      const batch = [event(sent.length), event(sent.length + 1)];
      sent.push(...batch);
      await producer.send('referralEvents', batch);
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents);
    };
    try {
      // Ten transactions while the table is nearly empty: the generic plans are made now.
      for (let i = 0; i < 10; i++) await round();
      // The table grows (ids counted long ago) while the worker keeps its connections and plans.
      await env.db.raw(
        "insert into funnel_counted_events (occurred_at, event_id) select timestamptz '2020-01-01' + i * interval '1 second', 'rfe_old_' || i from generate_series(1, 100000) i",
      );
      const before = await reads();
      const rounds = 5;
      for (let i = 0; i < rounds; i++) await round();
      // Wait until the worker's backends have reported these batches' reads of the table...
      const after = await eventually(async () => {
        const now = await reads();
        return now.seq + now.idx - (before.seq + before.idx) >= rounds ? now : undefined;
      }, 30_000, "the batches' reads of funnel_counted_events to be counted");
      // ...and find them all index probes.
      expect(after.seq - before.seq).toBe(0);
      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel(sent));
    } finally {
      await worker.stop();
      await producer.disconnect();
    }
  });
});
