import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startAggregatorWorker, waitForPositions } from '../support/workers.js';
import { expectedFunnel, funnelSnapshot } from '../support/facts.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { createPool } from '../../libs/runtime/connections.js';
import { funnelSeries, type SeriesQuery } from '../../libs/funnel/series.js';
import { rebuildFunnels } from '../../libs/funnel/rebuild.js';
import { SLOT_MS, localDay, periodSql, slotStart } from '../../libs/funnel/periods.js';
import { prng } from '../../libs/sample/sample-traffic.js';
import type { FunnelStage, ReferralEventRecorded } from '../../libs/events/types.generated.js';
import type { Pool } from 'pg';

/**
 * Reporting periods in the org's timezone across daylight-saving changes. Europe/Oslo moves
 * from CET (+1) to CEST (+2) at 2026-03-29 01:00 UTC and back at 2026-10-25 01:00 UTC;
 * Australia/Adelaide is half an hour off whole hours. Every expected number below is worked
 * out by hand from the wall-clock times in the comments.
 */
let env: TestEnv;
let pool: Pool;

const OSLO = 'org-oslo';
const ADELAIDE = 'org-adelaide';
let n = 0;
const ev = (orgId: string, mentorId: string, iso: string, stage: FunnelStage = 'CLICKED'): ReferralEventRecorded => ({
  eventId: `rfe_dst_${n++}`, orgId, mentorId, linkId: `${mentorId}-link`, campaignId: null, referralId: null, userId: null, stage, uniqueVisitor: true, occurredAt: Date.parse(iso),
});

const events: ReferralEventRecorded[] = [
  // March, Oslo.
  ev(OSLO, 'm-oslo', '2026-03-28T22:59:00Z'), // Sat 28 Mar 23:59 CET
  ev(OSLO, 'm-oslo', '2026-03-28T23:30:00Z'), // Sun 29 Mar 00:30 CET
  ev(OSLO, 'm-oslo', '2026-03-29T01:30:00Z', 'INSTALLED'), // Sun 29 Mar 03:30 CEST, just after the change
  ev(OSLO, 'm-oslo', '2026-03-29T21:59:00Z', 'REGISTERED'), // Sun 29 Mar 23:59 CEST
  ev(OSLO, 'm-oslo', '2026-03-29T22:00:00Z'), // Mon 30 Mar 00:00 CEST: a new day and a new ISO week
  ev(OSLO, 'm-oslo', '2026-03-31T21:30:00Z', 'ACTIVATED'), // Tue 31 Mar 23:30 CEST: still March
  ev(OSLO, 'm-oslo', '2026-03-31T22:30:00Z'), // Wed 1 Apr 00:30 CEST: April
  // October, Oslo.
  ev(OSLO, 'm-oslo', '2026-10-24T21:59:00Z'), // Sat 24 Oct 23:59 CEST
  ev(OSLO, 'm-oslo', '2026-10-24T22:00:00Z'), // Sun 25 Oct 00:00 CEST
  ev(OSLO, 'm-oslo', '2026-10-25T00:30:00Z'), // Sun 25 Oct 02:30 CEST, the first 02:30
  ev(OSLO, 'm-oslo', '2026-10-25T01:30:00Z'), // Sun 25 Oct 02:30 CET, the second 02:30
  ev(OSLO, 'm-oslo', '2026-10-25T22:59:00Z', 'REGISTERED'), // Sun 25 Oct 23:59 CET
  ev(OSLO, 'm-oslo', '2026-10-25T23:00:00Z'), // Mon 26 Oct 00:00 CET: a new ISO week
  ev(OSLO, 'm-oslo', '2026-10-31T22:59:00Z'), // Sat 31 Oct 23:59 CET
  ev(OSLO, 'm-oslo', '2026-10-31T23:00:00Z'), // Sun 1 Nov 00:00 CET: November
  ev(OSLO, 'm-oslo-2', '2026-10-25T01:45:00Z'), // another mentor of the org, Sun 25 Oct 02:45 CET
  // Adelaide (+10:30 until 5 Apr 2026 03:00 local): one UTC hour, two local days.
  ev(ADELAIDE, 'm-adl', '2026-04-04T13:15:00Z'), // Sat 4 Apr 23:45 ACDT
  ev(ADELAIDE, 'm-adl', '2026-04-04T13:30:00Z'), // Sun 5 Apr 00:00 ACDT
];

const clicksOf = (series: { periodStart: string; clicks: number }[]) => series.map((p) => [p.periodStart, p.clicks]);
const series = (q: Omit<SeriesQuery, 'orgId'> & { orgId?: string }) => funnelSeries(pool, { orgId: OSLO, ...q });

beforeAll(async () => {
  env = await createTestEnv('aggregator_periods');
  pool = createPool(env.config, env.log, 2);
  await env.db.raw("insert into org_settings (org_id, timezone) values ('org-adelaide', 'Australia/Adelaide')");
  const producer = createEventProducer(env);
  await producer.connect();
  await producer.send('referralEvents', events);
  await producer.disconnect();
  const worker = await startAggregatorWorker(env);
  await waitForPositions(env.kafka, env.db, env.topics.referralEvents);
  await worker.stop();
});

afterAll(async () => {
  await pool?.end();
  await env?.close();
});

describe('funnel periods across clock changes', () => {
  it('keeps hourly buckets in UTC: the two 02:30s of 25 October are two hours', async () => {
    const { hourly } = await funnelSnapshot(env.db);
    const oslo = hourly.filter((r) => r.mentorId === 'm-oslo' && r.bucket.startsWith('2026-10-25'));
    expect(oslo.map((r) => [r.bucket, r.clicks])).toEqual([
      ['2026-10-25T00:00:00.000Z', 1],
      ['2026-10-25T01:00:00.000Z', 1],
      ['2026-10-25T22:00:00.000Z', 0],
      ['2026-10-25T23:00:00.000Z', 1],
    ]);
  });

  it('cuts days in Oslo time in March: the 23-hour Sunday holds what happened on it', async () => {
    const { series: days, totals } = await series({ mentorIds: ['m-oslo'], from: '2026-03-28', to: '2026-04-01', granularity: 'day' });
    expect(days).toEqual([
      { periodStart: '2026-03-28', clicks: 1, uniqueClicks: 1, installs: 0, registrations: 0, activations: 0 },
      { periodStart: '2026-03-29', clicks: 1, uniqueClicks: 1, installs: 1, registrations: 1, activations: 0 },
      { periodStart: '2026-03-30', clicks: 1, uniqueClicks: 1, installs: 0, registrations: 0, activations: 0 },
      { periodStart: '2026-03-31', clicks: 0, uniqueClicks: 0, installs: 0, registrations: 0, activations: 1 },
      { periodStart: '2026-04-01', clicks: 1, uniqueClicks: 1, installs: 0, registrations: 0, activations: 0 },
    ]);
    expect(totals).toEqual({ clicks: 4, uniqueClicks: 4, installs: 1, registrations: 1, activations: 1 });
  });

  it('cuts days in Oslo time in October: the 25-hour Sunday holds both 02:30s', async () => {
    const { series: days } = await series({ from: '2026-10-24', to: '2026-10-27', granularity: 'day' });
    expect(clicksOf(days)).toEqual([['2026-10-24', 1], ['2026-10-25', 4], ['2026-10-26', 1], ['2026-10-27', 0]]);
  });

  it('cuts ISO weeks (Monday first) in Oslo time', async () => {
    const march = await series({ mentorIds: ['m-oslo'], from: '2026-03-23', to: '2026-04-05', granularity: 'week' });
    expect(march.series.map((p) => [p.periodStart, p.clicks + p.installs + p.registrations + p.activations])).toEqual([['2026-03-23', 4], ['2026-03-30', 3]]);
    const october = await series({ from: '2026-10-19', to: '2026-11-01', granularity: 'week' });
    expect(clicksOf(october.series)).toEqual([['2026-10-19', 5], ['2026-10-26', 3]]);
    expect(october.totals.registrations).toBe(1);
  });

  it('cuts months and years in Oslo time, empty months present as zeros', async () => {
    const { series: months } = await series({ mentorIds: ['m-oslo'], from: '2026-03-01', to: '2026-11-30', granularity: 'month' });
    expect(months.map((p) => [p.periodStart, p.clicks + p.installs + p.registrations + p.activations])).toEqual([
      ['2026-03-01', 6], ['2026-04-01', 1], ['2026-05-01', 0], ['2026-06-01', 0], ['2026-07-01', 0], ['2026-08-01', 0], ['2026-09-01', 0], ['2026-10-01', 7], ['2026-11-01', 1],
    ]);
    const { series: years } = await series({ from: '2026-01-01', to: '2026-12-31', granularity: 'year' });
    expect(clicksOf(years)).toEqual([['2026-01-01', 12]]);
  });

  it('cuts days in a half-hour timezone exactly, though both events share one UTC hour', async () => {
    const { series: days } = await series({ orgId: ADELAIDE, from: '2026-04-04', to: '2026-04-05', granularity: 'day' });
    expect(clicksOf(days)).toEqual([['2026-04-04', 1], ['2026-04-05', 1]]);
    const { hourly } = await funnelSnapshot(env.db);
    expect(hourly.filter((r) => r.orgId === ADELAIDE).map((r) => [r.bucket, r.clicks])).toEqual([['2026-04-04T13:00:00.000Z', 2]]);
  });

  it('matches the funnel computed independently from the events', async () => {
    expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel(events, (org) => (org === ADELAIDE ? 'Australia/Adelaide' : 'Europe/Oslo')));
  });

  it('gives the same periods after a rebuild from the facts', async () => {
    // The funnel records the ingest worker keeps hold these same events.
    await env.db.raw(
      `insert into referral_trackings (event_id, org_id, mentor_id, link_id, campaign_id, stage, unique_visitor, occurred_at, source_event_id)
       select event_id, org_id, mentor_id, link_id, nullif(campaign_id, ''), stage, unique_visitor, occurred_at, source_event_id
         from unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::bool[], ?::timestamptz[], ?::text[])
           as t(event_id, org_id, mentor_id, link_id, campaign_id, stage, unique_visitor, occurred_at, source_event_id)`,
      [
        events.map((e) => e.eventId), events.map((e) => e.orgId), events.map((e) => e.mentorId), events.map((e) => e.linkId), events.map((e) => e.campaignId ?? ''),
        events.map((e) => e.stage), events.map((e) => e.uniqueVisitor), events.map((e) => new Date(e.occurredAt)), events.map((e) => `src_${e.eventId}`),
      ],
    );
    const before = await funnelSnapshot(env.db);
    const result = await rebuildFunnels(pool, { defaultTimezone: env.config.defaultTimezone, log: env.log });
    expect(result.events).toBe(events.length);
    expect(await funnelSnapshot(env.db)).toEqual(before);
    const { series: weeks } = await series({ from: '2026-10-19', to: '2026-11-01', granularity: 'week' });
    expect(clicksOf(weeks)).toEqual([['2026-10-19', 5], ['2026-10-26', 3]]);
  });
});

describe('the SQL cuts', () => {
  it('cut slots, UTC hours, local days, months and years as periods.ts does, on Postgres', async () => {
    const zones = ['Europe/Oslo', 'Australia/Adelaide', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns', 'America/Los_Angeles', 'UTC'];
    const rnd = prng(2026);
    const instants: number[] = [];
    // Either side of both of 2026's clock changes in Oslo and of a day's end, and random instants over 1971-2037.
    for (const iso of ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z', '2026-04-04T13:30:00Z', '2026-12-31T23:00:00Z']) {
      for (const d of [-SLOT_MS - 1, -1, 0, 1, SLOT_MS - 1, SLOT_MS]) instants.push(Date.parse(iso) + d);
    }
    for (let i = 0; i < 2000; i++) instants.push(Math.floor(Date.parse('1971-01-01T00:00:00Z') + rnd() * (Date.parse('2037-12-31T00:00:00Z') - Date.parse('1971-01-01T00:00:00Z'))));
    const cases = zones.flatMap((timezone) => instants.map((instant) => ({ instant, timezone })));
    const slot = periodSql.slotStart('x.t');
    const day = periodSql.localDay(slot, 'x.tz');
    const { rows } = await pool.query<{ slot: Date; hour: Date; day: string; month: string; year: number }>(
      `select ${slot} as slot, ${periodSql.utcHour(slot)} as hour, ${day}::text as day, ${periodSql.monthOf(day)}::text as month, ${periodSql.yearOf(day)} as year
         from unnest($1::timestamptz[], $2::text[]) with ordinality as x(t, tz, n) order by n`,
      [cases.map((c) => new Date(c.instant)), cases.map((c) => c.timezone)],
    );
    const fromSql = rows.map((r) => ({ slot: r.slot.getTime(), hour: r.hour.getTime(), day: r.day, month: r.month, year: r.year }));
    const fromTs = cases.map(({ instant, timezone }) => {
      const d = localDay(slotStart(instant), timezone);
      return { slot: slotStart(instant), hour: Math.floor(instant / 3_600_000) * 3_600_000, day: d, month: `${d.slice(0, 7)}-01`, year: Number(d.slice(0, 4)) };
    });
    expect(fromSql).toEqual(fromTs);
  });
});
