/**
 * The proof that bulk generation writes what the ingest worker writes: a small shape of the
 * dashboard traffic is generated in bulk into one database, and its events are published to
 * topics of their own and consumed by the ingest worker and the aggregator (processes, as
 * deployed) into another. The facts (test/support/facts.ts factsSnapshot: every fact table and
 * the decisions, funnel records netted) and both funnel tables must be equal (rows netted to zero by a
 * retraction left aside: the worker may revise a decision the time-ordered bulk path makes once).
 */
import { isDeepStrictEqual } from 'node:util';
import { createTestEnv } from '../../test/support/env.js';
import { factsSnapshot } from '../../test/support/facts.js';
import { waitForCatchUp, waitForPositions } from '../../test/support/workers.js';
import { eventually } from '../../test/support/env.js';
import { createKnex, type Knex } from '../../libs/db/knex.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { INPUT_TOPICS } from '../../libs/events/topics.js';
import { createGenerator, linksAndScopes, type PersonEvents, type Shape } from './dashboard-traffic.js';
import { generate } from './dashboard-data.js';
import { startService } from './processes.js';

const funnelTables = async (db: Knex) => ({
  hourly: (await db.raw<{ rows: unknown[] }>('select org_id, mentor_id, campaign_id, hour, clicks, unique_clicks, installs, registrations, activations from funnel_hourly where (clicks, unique_clicks, installs, registrations, activations) <> (0, 0, 0, 0, 0) order by 1, 2, 3, 4')).rows,
  daily: (await db.raw<{ rows: unknown[] }>('select org_id, mentor_id, campaign_id, day, clicks, unique_clicks, installs, registrations, activations from funnel_daily where (clicks, unique_clicks, installs, registrations, activations) <> (0, 0, 0, 0, 0) order by 1, 2, 3, 4')).rows,
  yearly: (await db.raw<{ rows: unknown[] }>('select org_id, year, mentor_id, clicks, unique_clicks, installs, registrations, activations from funnel_yearly where (clicks, unique_clicks, installs, registrations, activations) <> (0, 0, 0, 0, 0) order by 1, 2, 3')).rows,
});

export async function checkAgainstIngest(shape: Shape): Promise<{ equal: boolean; clicks: number; differing: string[] }> {
  const env = await createTestEnv('bench_dashboard_check');
  try {
    const bulk = await env.database('bulk');
    await bulk.db.destroy();
    await generate(bulk.url, shape, env.config.visitorHashKey, () => undefined);
    const bulkDb = createKnex(bulk.url, { min: 0, max: 1 });
    bulk.db = bulkDb;

    // The same people's events, through Kafka and the ingest worker.
    const generator = createGenerator(shape, env.config.visitorHashKey);
    const all: PersonEvents = { clicks: [], installs: [], registrations: [], logins: [] };
    for (let p = 0; all.clicks.length < shape.clicks; p++) {
      const e = generator.events(p);
      all.clicks.push(...e.clicks); all.installs.push(...e.installs); all.registrations.push(...e.registrations); all.logins.push(...e.logins);
    }
    const byTime = <T extends { occurredAt: number }>(xs: T[]) => xs.sort((a, b) => a.occurredAt - b.occurredAt);
    const producer = createEventProducer(env);
    await producer.connect();
    const { links, scopes } = linksAndScopes(shape);
    await producer.send('inviteLinks', links);
    await producer.send('coordinatorScopes', scopes);
    for (const [topic, records] of [['inviteClicks', byTime(all.clicks)], ['appInstalls', byTime(all.installs)], ['userRegistered', byTime(all.registrations)], ['userLogins', byTime(all.logins)]] as const) {
      for (let i = 0; i < records.length; i += 2000) await producer.send(topic, records.slice(i, i + 2000) as never);
    }
    await producer.disconnect();
    const target = { databaseUrl: env.config.databaseUrl, topicPrefix: env.config.kafka.topicPrefix };
    const ingest = await startService('ingest-worker', target, 'part 3 check');
    const aggregator = await startService('aggregator-worker', target, 'part 3 check');
    try {
      await waitForCatchUp(env.kafka, `${env.config.kafka.topicPrefix}recruitment.ingest-worker`, INPUT_TOPICS.map((t) => env.topics[t]), 600_000);
      await eventually(async () => ((await env.db.raw<{ rows: unknown[] }>('select 1 from ingest_outbox limit 1')).rows.length === 0 ? true : undefined), 60_000, 'outbox drained');
      await waitForPositions(env.kafka, env.db, env.topics.referralEvents, 600_000);
    } finally {
      await ingest.stop();
      await aggregator.stop();
    }
    const a = { ...(await factsSnapshot(bulkDb)), ...(await funnelTables(bulkDb)) };
    const b = { ...(await factsSnapshot(env.db)), ...(await funnelTables(env.db)) };
    const differing = Object.keys(a).filter((k) => !isDeepStrictEqual(a[k as keyof typeof a], b[k as keyof typeof b]));
    if (process.env.BENCH_DEBUG) for (const k of differing) { const x = a[k as keyof typeof a] as unknown[]; const y = b[k as keyof typeof b] as unknown[]; console.log(k, x.length, y.length, JSON.stringify(x.filter((r) => !y.some((q) => isDeepStrictEqual(q, r))).slice(0, 3)), JSON.stringify(y.filter((r) => !x.some((q) => isDeepStrictEqual(q, r))).slice(0, 3))); }
    return { equal: differing.length === 0, clicks: all.clicks.length, differing };
  } finally {
    await env.close();
  }
}
