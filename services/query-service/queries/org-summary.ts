import type { Queryable } from '../../../libs/db/queryable.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import { FUNNEL_COUNTS, type FunnelTotals } from '../../../libs/funnel/increments.js';
import { FUNNEL_SUMS, fillSeries, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { localDay, periodStart, periodStarts, type Granularity } from '../../../libs/funnel/periods.js';
import { cutRange } from '../../../libs/funnel/range-cut.js';
import { FUNNEL_GRAINS, rangeRows, sqlParams } from '../../../libs/funnel/range-rows.js';
import type { GrantFor } from '../policy.js';
import { resolveRange } from '../ranges.js';
import { restrict, type Target } from './grant-filter.js';
import { withMentorNames } from './mentor-names.js';
import { rank } from './ranking.js';
import type { CompareMode } from '../../../libs/funnel/compare-range.js';
import { previousPeriod } from './previous-period.js';

/**
 * A target's sums over some days, three ways: by period start, by mentor, by campaign (null: a
 * link of no campaign). Sums of disjoint days add up (addSums) to those of their union, so a
 * range can be read in parts. Plain arrays, so that a part kept between requests is its JSON.
 */
export interface Sums {
  periods: [start: string, totals: FunnelTotals][];
  mentors: [mentorId: string, totals: FunnelTotals][];
  campaigns: [campaignId: string | null, totals: FunnelTotals][];
}

/**
 * Keeps the sums of a range's closed months (`part`: its days before `before`, the first day
 * of the organization's current month) between requests: the route's answer cache, under a
 * scope that a commit of the current month's numbers leaves (answer-cache.ts AnswerScope
 * `before`). `compute` reads them.
 */
export type KeepClosed = (part: { from: string; to: string; before: string }, compute: () => Promise<Sums>) => Promise<Sums>;

/**
 * One scan of the rows of an organization's mentors (all of them, or some: `target`), grouped
 * three ways at once: by period, by mentor, by campaign. The whole months of the range come
 * from funnel_monthly, its other days from funnel_daily.
 */
async function sumsOf(db: Queryable, target: Target, range: { from: string; to: string }, granularity: Granularity): Promise<Sums> {
  const { values, add } = sqlParams();
  const [grain, org, mentors] = [add(granularity), add(target.orgId), add(target.mentorIds)];
  const { rows } = await db.query<SumRow & { period_start: string | null; mentor_id: string | null; campaign_id: string | null; by: 'period' | 'mentor' | 'campaign' }>(
    `select date_trunc(${grain}, day::timestamp)::date::text as period_start, mentor_id, campaign_id,
            case when grouping(mentor_id) = 0 then 'mentor' when grouping(campaign_id) = 0 then 'campaign' else 'period' end as by,
            ${FUNNEL_SUMS}
       from (${rangeRows(cutRange(range.from, range.to, granularity), FUNNEL_GRAINS.mentor, `org_id = ${org} and (${mentors}::text[] is null or mentor_id = any(${mentors}))`, add)}) f
      group by grouping sets ((date_trunc(${grain}, day::timestamp)), (mentor_id), (campaign_id))`,
    values,
  );
  const sums: Sums = { periods: [], mentors: [], campaigns: [] };
  for (const r of rows) {
    if (r.by === 'period') sums.periods.push([r.period_start as string, totalsOf(r)]);
    else if (r.by === 'mentor') sums.mentors.push([r.mentor_id as string, totalsOf(r)]);
    else sums.campaigns.push([r.campaign_id, totalsOf(r)]);
  }
  return sums;
}

/**
 * The sums of two disjoint sets of days: those of their union. Neither is changed (a kept part
 * is shared between requests); totals only one of them has are shared with the result.
 */
export function addSums(a: Sums, b: Sums): Sums {
  const add = <K>(x: [K, FunnelTotals][], y: [K, FunnelTotals][]): [K, FunnelTotals][] => {
    if (y.length === 0) return x;
    const sum = new Map<K, FunnelTotals>(x);
    for (const [k, t] of y) {
      const into = sum.get(k);
      if (!into) {
        sum.set(k, t);
        continue;
      }
      const both = { ...into };
      for (const c of FUNNEL_COUNTS) both[c] += t[c];
      sum.set(k, both);
    }
    return [...sum];
  };
  return { periods: add(a.periods, b.periods), mentors: add(a.mentors, b.mentors), campaigns: add(a.campaigns, b.campaigns) };
}

/** The day before a YYYY-MM-DD day. */
const dayBefore = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);

/**
 * The target's sums over the range: its closed months (days before the current month in the
 * organization's timezone) through `keep` when given, and the rest read now. Without `keep`,
 * one read of the whole range.
 */
async function rangeSums(db: Queryable, target: Target, range: { from: string; to: string }, granularity: Granularity, timezone: string, keep: KeepClosed | undefined, now: number): Promise<Sums> {
  const before = periodStart(localDay(now, timezone), 'month');
  if (!keep || range.from >= before) return sumsOf(db, target, range, granularity);
  const closed = { from: range.from, to: range.to < before ? range.to : dayBefore(before) };
  const kept = keep({ ...closed, before }, () => sumsOf(db, target, closed, granularity));
  if (range.to < before) return kept;
  const [past, current] = await Promise.all([kept, sumsOf(db, target, { from: before, to: range.to }, granularity)]);
  return addSums(past, current);
}

/** What the summaries show of a range's sums: totals, conversion, a series, totals per mentor and the campaigns. */
function summaryOf(sums: Sums, range: { from: string; to: string }, granularity: Granularity) {
  const { totals, series } = fillSeries(periodStarts(range.from, range.to, granularity), new Map(sums.periods), { ...range, granularity });
  const byMentor = new Map(sums.mentors);
  const campaigns = [...sums.campaigns]
    .sort(([a, ta], [b, tb]) => tb.registrations - ta.registrations || (a === null ? 1 : b === null ? -1 : a < b ? -1 : 1))
    .map(([campaignId, t]) => ({ campaignId, totals: t, conversion: conversionOf(t) }));
  return { totals, conversion: conversionOf(totals), series, byMentor, campaigns };
}

/** How a summary reads: `keep` its closed months' sums between requests, as of `now` (tests). */
export interface SummaryReading {
  keep?: KeepClosed;
  now?: number;
}

/** OrgRecruitmentSummary: the organization's funnel, series, ten top mentors (with their names) and campaigns. */
export async function orgSummary(db: Queryable, grant: GrantFor<'org'>, q: { from?: string; to?: string; granularity: Granularity; compare?: CompareMode }, reading: SummaryReading = {}) {
  const { orgId, timezone } = grant;
  const now = reading.now ?? Date.now();
  const range = resolveRange(q, timezone, q.granularity, now);
  const target = restrict(grant.visibility, { orgId, mentorIds: null });
  const [{ byMentor, totals, conversion, series, campaigns }, previous] = await Promise.all([
    rangeSums(db, target, range, q.granularity, timezone, reading.keep, now).then((sums) => summaryOf(sums, range, q.granularity)),
    q.compare ? previousPeriod(db, target, range, q.compare) : null,
  ]);
  const topMentors = await withMentorNames(db, orgId, rank(byMentor, 'registrations').slice(0, 10));
  return { orgId, ...range, timezone, totals, conversion, series, topMentors, campaigns, ...(previous ? { previous } : {}) };
}

/**
 * CoordinatorRecruitmentSummary: the same, cut to the mentors of the coordinator's scope (their
 * ranking: mentor-performance). `firstDay`: the organization's first day when already read.
 */
export async function coordinatorSummary(db: Queryable, grant: GrantFor<'coordinator'>, q: { from?: string; to?: string; granularity: Granularity; compare?: CompareMode }, firstDay?: string | null, reading: SummaryReading = {}) {
  const { coordinatorId, orgId, timezone } = grant;
  const now = reading.now ?? Date.now();
  const range = resolveRange(q, timezone, q.granularity, now);
  const target = restrict(grant.visibility, { orgId, mentorIds: grant.mentorIds });
  const [{ totals, conversion, series, campaigns }, previous] = await Promise.all([
    rangeSums(db, target, range, q.granularity, timezone, reading.keep, now).then((sums) => summaryOf(sums, range, q.granularity)),
    q.compare ? previousPeriod(db, target, range, q.compare, null, firstDay) : null,
  ]);
  return { coordinatorId, orgId, ...range, timezone, totals, conversion, series, campaigns, ...(previous ? { previous } : {}) };
}
