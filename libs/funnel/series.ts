import type { Queryable } from '../db/queryable.js';
import { FUNNEL_COUNTS, zeroTotals, type FunnelTotals } from './increments.js';
import { periodStarts, type Granularity } from './periods.js';

export interface SeriesQuery {
  /** Only this organization's rows. */
  orgId?: string;
  /** Only these mentors' rows. */
  mentorIds?: string[];
  campaignId?: string;
  /** Local dates (YYYY-MM-DD) in the org's timezone, both included. */
  from: string;
  to: string;
  granularity: Granularity;
}

export type SeriesPoint = { periodStart: string } & FunnelTotals;

interface Row {
  period_start: string;
  clicks: string;
  unique_clicks: string;
  installs: string;
  registrations: string;
  activations: string;
}

const toTotals = (r: Row): FunnelTotals => ({
  clicks: Number(r.clicks), uniqueClicks: Number(r.unique_clicks), installs: Number(r.installs), registrations: Number(r.registrations), activations: Number(r.activations),
});

/**
 * Funnel totals and a series with one point per period overlapping [from, to], empty periods
 * included as zeros. Reads funnel_daily only: one indexed range scan, grouped in Postgres.
 * A period's start is its calendar start (a Monday, the 1st), even when `from` cuts into it.
 */
export async function funnelSeries(db: Queryable, q: SeriesQuery): Promise<{ totals: FunnelTotals; series: SeriesPoint[] }> {
  const { rows } = await db.query<Row>(
    `select date_trunc($1, day::timestamp)::date::text as period_start,
            sum(clicks) as clicks, sum(unique_clicks) as unique_clicks, sum(installs) as installs,
            sum(registrations) as registrations, sum(activations) as activations
       from funnel_daily
      where day between $2::date and $3::date
        and ($4::text is null or org_id = $4)
        and ($5::text[] is null or mentor_id = any($5))
        and ($6::text is null or campaign_id = $6)
      group by 1`,
    [q.granularity, q.from, q.to, q.orgId ?? null, q.mentorIds ?? null, q.campaignId ?? null],
  );
  const byPeriod = new Map(rows.map((r) => [r.period_start, toTotals(r)]));
  const totals = zeroTotals();
  const series = periodStarts(q.from, q.to, q.granularity).map((periodStart) => {
    const t = byPeriod.get(periodStart) ?? zeroTotals();
    for (const k of FUNNEL_COUNTS) totals[k] += t[k];
    return { periodStart, ...t };
  });
  return { totals, series };
}
