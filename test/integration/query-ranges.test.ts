import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pool } from 'pg';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { expectedFunnel, type FunnelRow } from '../support/facts.js';
import { createPool } from '../../libs/runtime/connections.js';
import { countFunnelEvents } from '../../libs/funnel/funnel-store.js';
import { funnelSeries } from '../../libs/funnel/series.js';
import { periodStart, periodStarts, type Granularity } from '../../libs/funnel/periods.js';
import { FUNNEL_COUNTS, zeroTotals, type FunnelTotals } from '../../libs/funnel/increments.js';
import type { FunnelStage, ReferralEventRecorded } from '../../libs/events/types.generated.js';
import { totalsByMentor } from '../../services/query-service/queries/mentor-performance.js';
import { coordinatorSummary, orgSummary } from '../../services/query-service/queries/org-summary.js';
import { platformGrowth } from '../../services/query-service/queries/platform-growth.js';
import { annualSummary } from '../../services/query-service/queries/annual-summary.js';
import { rank } from '../../services/query-service/queries/ranking.js';

/**
 * Ranges that take whole months from the monthly tables and their edge days from the daily
 * ones give exactly the numbers of their days. Events over fifteen months, in two timezones
 * (one half an hour off whole hours), many of them within hours of a month's end, some
 * retracted, are counted by the aggregator's own statement; every answer is then compared
 * with sums worked out here from the events, day by day.
 */
let env: TestEnv;
let pool: Pool;
const SEED = Number(process.env.FC_SEED ?? (process.env.CI ? 20261121 : Date.now() % 2 ** 31));
const RUNS = Number(process.env.FC_RUNS ?? 150);

const ORGS = { 'org-oslo': 'Europe/Oslo', 'org-adelaide': 'Australia/Adelaide' } as const;
type Org = keyof typeof ORGS;
const MENTORS = ['m1', 'm2', 'm3', 'm4'];
const CAMPAIGNS = [null, 'spring', 'autumn'];
const STAGES: FunnelStage[] = ['CLICKED', 'CLICKED', 'CLICKED', 'INSTALLED', 'REGISTERED', 'ACTIVATED'];
const START = Date.UTC(2025, 9, 1);
const END = Date.UTC(2027, 0, 1);

/** A small deterministic generator, so the data is the same on every run. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function makeEvents(): ReferralEventRecorded[] {
  const r = random(7);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)] as T;
  const monthEnds = Array.from({ length: 16 }, (_, i) => Date.UTC(2025, 9 + i, 1));
  const events: ReferralEventRecorded[] = [];
  for (let i = 0; i < 3000; i++) {
    // Half of them within 16 hours of a UTC month start, where the local month differs by zone.
    const at = r() < 0.5 ? pick(monthEnds) + Math.round((r() - 0.5) * 32 * 3_600_000) : START + Math.floor(r() * (END - START));
    const orgId = pick(Object.keys(ORGS) as Org[]);
    const mentorId = pick(MENTORS);
    events.push({
      eventId: `rfe_range_${i}`, orgId, mentorId, linkId: `${orgId}-${mentorId}`, campaignId: pick(CAMPAIGNS), referralId: null, userId: null,
      stage: pick(STAGES), uniqueVisitor: r() < 0.7, occurredAt: at,
    });
  }
  // Some are retracted: the retraction takes away what the event added, in its own period.
  for (const e of events.slice(0, 200)) events.push({ ...e, eventId: `${e.eventId}_retracted`, retractsEventId: e.eventId });
  return events;
}

const events = makeEvents();
const daily = expectedFunnel(events, (org) => ORGS[org as Org]).daily;

/** Sums of the daily rows of [from, to] that match, keyed by what `by` says. */
function expected(rows: FunnelRow[], from: string, to: string, match: (r: FunnelRow) => boolean, by: (r: FunnelRow) => string): Map<string, FunnelTotals> {
  const out = new Map<string, FunnelTotals>();
  for (const row of rows) {
    if (row.bucket < from || row.bucket > to || !match(row)) continue;
    const key = by(row);
    const t = out.get(key) ?? zeroTotals();
    for (const k of FUNNEL_COUNTS) t[k] += row[k];
    out.set(key, t);
  }
  return out;
}

const total = (m: Map<string, FunnelTotals>) => {
  const t = zeroTotals();
  for (const v of m.values()) for (const k of FUNNEL_COUNTS) t[k] += v[k];
  return t;
};
const seriesOf = (m: Map<string, FunnelTotals>, from: string, to: string, granularity: Granularity) =>
  periodStarts(from, to, granularity).map((p) => ({ periodStart: p, ...(m.get(p) ?? zeroTotals()) }));
const strip = (series: { periodStart: string; partial?: true }[]) => series.map(({ partial: _, ...p }) => p);

beforeAll(async () => {
  env = await createTestEnv('query_ranges');
  pool = createPool(env.config, env.log, 2);
  await env.db.raw("insert into org_settings (org_id, timezone) values ('org-adelaide', 'Australia/Adelaide')");
  for (let i = 0; i < events.length; i += 500) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await countFunnelEvents(client, events.slice(i, i + 500), 'Europe/Oslo');
      await client.query('commit');
    } finally {
      client.release();
    }
  }
});

afterAll(async () => {
  await pool?.end();
  await env?.close();
});

const day = fc.integer({ min: 0, max: Math.round((END - START) / 86_400_000) + 20 }).map((d) => new Date(START - 10 * 86_400_000 + d * 86_400_000).toISOString().slice(0, 10));
const range = fc.tuple(day, fc.integer({ min: 1, max: 500 })).map(([from, days]) => ({ from, to: new Date(Date.parse(`${from}T00:00:00Z`) + (days - 1) * 86_400_000).toISOString().slice(0, 10) }));
const org = fc.constantFrom(...(Object.keys(ORGS) as Org[]));
const caller = { sub: 'root', org: null, role: 'platform_admin' as const };
const visibility = { kind: 'platform' as const };

describe('a range read from whole months and edge days', () => {
  it("gives a mentor's series and totals the numbers of its days", async () => {
    await fc.assert(
      fc.asyncProperty(range, org, fc.constantFrom<Granularity>('month', 'year', 'week'), fc.subarray(MENTORS, { minLength: 1 }), fc.option(fc.constantFrom('spring', 'autumn')), async ({ from, to }, orgId, granularity, mentorIds, campaignId) => {
        const got = await funnelSeries(pool, { orgId, mentorIds, ...(campaignId ? { campaignId } : {}), from, to, granularity });
        const want = expected(daily, from, to, (r) => r.orgId === orgId && mentorIds.includes(r.mentorId) && (!campaignId || r.campaignId === campaignId), (r) => periodStart(r.bucket, granularity));
        expect(strip(got.series)).toEqual(seriesOf(want, from, to, granularity));
        expect(got.totals).toEqual(total(want));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("gives the org summary's series, mentors and campaigns, and the coordinator's totals per mentor, the numbers of its days", async () => {
    await fc.assert(
      fc.asyncProperty(range, org, fc.constantFrom<Granularity>('month', 'year', 'week'), async ({ from, to }, orgId, granularity) => {
        const inOrg = (r: FunnelRow) => r.orgId === orgId;
        const summary = await orgSummary(pool, { resource: 'org', caller, visibility, orgId, timezone: ORGS[orgId] }, { from, to, granularity });
        const byMentor = expected(daily, from, to, inOrg, (r) => r.mentorId);
        expect(strip(summary.series)).toEqual(seriesOf(expected(daily, from, to, inOrg, (r) => periodStart(r.bucket, granularity)), from, to, granularity));
        expect(summary.totals).toEqual(total(byMentor));
        expect(summary.topMentors).toEqual(rank(byMentor, 'registrations').slice(0, 10).map((m) => ({ ...m, mentorName: null }))); // no mentor here registered
        const byCampaign = expected(daily, from, to, inOrg, (r) => JSON.stringify(r.campaignId));
        expect(new Map(summary.campaigns.map((c) => [JSON.stringify(c.campaignId), c.totals]))).toEqual(byCampaign);
        expect(await totalsByMentor(pool, { orgId, mentorIds: null }, from, to)).toEqual(byMentor);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("gives a coordinator's summary (some mentors: their own rows by period) the numbers of its mentors' days", async () => {
    await fc.assert(
      fc.asyncProperty(range, org, fc.constantFrom<Granularity>('month', 'year', 'week'), fc.subarray(MENTORS, { minLength: 1 }), async ({ from, to }, orgId, granularity, mentorIds) => {
        const mine = (r: FunnelRow) => r.orgId === orgId && mentorIds.includes(r.mentorId);
        const summary = await coordinatorSummary(pool, { resource: 'coordinator', coordinatorId: 'c1', caller, visibility, orgId, timezone: ORGS[orgId], mentorIds }, { from, to, granularity });
        expect(strip(summary.series)).toEqual(seriesOf(expected(daily, from, to, mine, (r) => periodStart(r.bucket, granularity)), from, to, granularity));
        expect(summary.totals).toEqual(total(expected(daily, from, to, mine, (r) => r.mentorId)));
        expect(new Map(summary.campaigns.map((c) => [JSON.stringify(c.campaignId), c.totals]))).toEqual(expected(daily, from, to, mine, (r) => JSON.stringify(r.campaignId)));
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('gives growth across organizations, read from the per-org sums, the numbers of its days', async () => {
    await fc.assert(
      fc.asyncProperty(range, fc.constantFrom<Granularity>('month', 'year'), async ({ from, to }, granularity) => {
        const growth = await platformGrowth(pool, { resource: 'platform', caller, visibility }, { from, to, granularity, limit: 10 }, 'Europe/Oslo');
        for (const o of growth.organizations) {
          const want = expected(daily, from, to, (r) => r.orgId === o.orgId, (r) => periodStart(r.bucket, granularity));
          expect(strip(o.series), o.orgId).toEqual(seriesOf(want, from, to, granularity));
        }
        // An organization with no settings is listed when it has rows in the range.
        const listed = growth.organizations.map((o) => o.orgId);
        expect(expected(daily, from, to, (r) => r.orgId === 'org-oslo', () => '').size > 0).toBe(listed.includes('org-oslo'));
        expect(listed).toContain('org-adelaide');
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it("ranks a mentor's year among the org's mentors by the registrations of its days", async () => {
    for (const year of [2025, 2026, 2027]) {
      for (const orgId of Object.keys(ORGS) as Org[]) {
        const byMentor = expected(daily, `${year}-01-01`, `${year}-12-31`, (r) => r.orgId === orgId, (r) => r.mentorId);
        const regs = (m: string) => byMentor.get(m)?.registrations ?? 0;
        for (const mentorId of MENTORS) {
          const got = await annualSummary(pool, { resource: 'mentor', caller, visibility, mentorId, orgId, timezone: ORGS[orgId] }, { year });
          // Every mentor with links in the org counts; this fixture has no links, so the mentors with rows in the year and this one.
          const field = new Set([...byMentor.keys(), mentorId]);
          expect(got.totals).toEqual(byMentor.get(mentorId) ?? zeroTotals());
          expect(got.rankInOrg).toBe(1 + [...field].filter((m) => regs(m) > regs(mentorId)).length);
          expect(got.percentileInOrg).toBe([...field].filter((m) => regs(m) <= regs(mentorId)).length / field.size);
        }
      }
    }
  });
});
