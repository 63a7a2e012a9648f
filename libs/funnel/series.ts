import type { Queryable } from '../db/queryable.js';
import { FUNNEL_COUNT_CATALOGUE, FUNNEL_COUNTS, zeroTotals, type FunnelTotals } from './increments.js';
import { periodEnd, periodStarts, type Granularity } from './periods.js';
import { cutRange } from './range-cut.js';
import { FUNNEL_GRAINS, rangeRows, sqlParams } from './range-rows.js';

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

/** A period's numbers; `partial` when the range cuts into the period (its first or last). */
export type SeriesPoint = { periodStart: string; partial?: true } & FunnelTotals;

/** The five counts summed over funnel table rows, named as SumRow reads them. */
export const FUNNEL_SUMS = FUNNEL_COUNT_CATALOGUE.map((c) => `sum(${c.column})::int as ${c.column}`).join(', ');

export type SumRow = Record<(typeof FUNNEL_COUNT_CATALOGUE)[number]['column'], number>;

/** A row's sums as totals (written out like zeroTotals: it runs for every row a read returns). */
export const totalsOf = (r: SumRow | undefined): FunnelTotals =>
  r ? { clicks: r.clicks, uniqueClicks: r.unique_clicks, installs: r.installs, registrations: r.registrations, activations: r.activations } : zeroTotals();

/** One point per period start, zeros where nothing happened, and the totals over them all. */
export function fillSeries(
  starts: string[],
  byPeriod: ReadonlyMap<string, FunnelTotals> | undefined,
  range?: { from: string; to: string; granularity: Granularity },
): { totals: FunnelTotals; series: SeriesPoint[] } {
  const totals = zeroTotals();
  const last = starts.length - 1;
  const series = starts.map((periodStart, i): SeriesPoint => {
    const t = byPeriod?.get(periodStart) ?? zeroTotals();
    for (const k of FUNNEL_COUNTS) totals[k] += t[k];
    // Periods are contiguous and cover the range: only the first can start before it (when it
    // does not start on `from`), only the last end after it (when it does not end on `to`;
    // compared for equality, as the end of a week past 9999-12-31 is no YYYY-MM-DD).
    const partial = range !== undefined && ((i === 0 && periodStart !== range.from) || (i === last && periodEnd(periodStart, range.granularity) !== range.to));
    return partial ? { periodStart, partial: true, ...t } : { periodStart, ...t };
  });
  return { totals, series };
}

/**
 * Funnel totals and a series with one point per period overlapping [from, to], empty periods
 * included as zeros. One query grouped in Postgres: the whole months of the range from
 * funnel_monthly and its other days from funnel_daily (range-cut.ts; a daily or weekly series
 * reads days only). A period's start is its calendar start (a Monday, the 1st), even when
 * `from` cuts into it.
 *
 * `also`: a scalar SQL expression (text) the caller wants beside the series, written with the
 * same `add` for its parameters, read in the same statement (a round trip less) and returned
 * as `also` (null when it is null; undefined when not asked).
 */
export async function funnelSeries(
  db: Queryable,
  q: SeriesQuery,
  also?: (add: (value: unknown) => string) => string,
): Promise<{ totals: FunnelTotals; series: SeriesPoint[]; also?: string | null }> {
  const { values, add } = sqlParams();
  const granularity = add(q.granularity);
  const [org, mentors, campaign] = [add(q.orgId ?? null), add(q.mentorIds ?? null), add(q.campaignId ?? null)];
  const where = `(${org}::text is null or org_id = ${org}) and (${mentors}::text[] is null or mentor_id = any(${mentors})) and (${campaign}::text is null or campaign_id = ${campaign})`;
  const grouped = `select date_trunc(${granularity}, day::timestamp)::date::text as period_start, ${FUNNEL_SUMS}
       from (${rangeRows(cutRange(q.from, q.to, q.granularity), FUNNEL_GRAINS.mentor, where, add)}) f
      group by 1`;
  // The extra value comes as one more row, the only one without a period.
  const nulls = FUNNEL_COUNT_CATALOGUE.map((c) => `null::int as ${c.column}`).join(', ');
  const sql = also ? `select *, null::text as also from (${grouped}) g union all select null, ${nulls}, (${also(add)})::text` : grouped;
  const { rows } = await db.query<SumRow & { period_start: string | null; also?: string | null }>(sql, values);
  const periods = new Map<string, FunnelTotals>();
  let extra: string | null = null;
  for (const r of rows) {
    if (r.period_start === null) extra = r.also ?? null;
    else periods.set(r.period_start, totalsOf(r));
  }
  return { ...fillSeries(periodStarts(q.from, q.to, q.granularity), periods, q), ...(also ? { also: extra } : {}) };
}
