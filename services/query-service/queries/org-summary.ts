import type { Queryable } from '../../../libs/db/queryable.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import { FUNNEL_SUMS, fillSeries, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { periodStarts, type Granularity } from '../../../libs/funnel/periods.js';
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
 * The rows of an organization's mentors (all of them, or some: `target`) grouped by mentor and
 * by campaign, and by period: the whole months of the range from funnel_monthly, its other
 * days from funnel_daily. For the whole organization the periods come from its own rows
 * (funnel_org_monthly and funnel_org_daily, a row a period) instead, in the same statement:
 * grouping the mentors' rows a third way, by period, was about half of the statement's time
 * (a year by month at 10M clicks: 2,194 rows, 1.6-2.8 ms with three grouping sets, 0.7-1.2
 * ms with two).
 */
async function summaryOf(db: Queryable, target: Target, range: { from: string; to: string }, granularity: Granularity) {
  const { values, add } = sqlParams();
  const [grain, org, mentors] = [add(granularity), add(target.orgId), add(target.mentorIds)];
  const cut = cutRange(range.from, range.to, granularity);
  const mentorRows = rangeRows(cut, FUNNEL_GRAINS.mentor, `org_id = ${org} and (${mentors}::text[] is null or mentor_id = any(${mentors}))`, add);
  const sql = target.mentorIds === null
    ? `select date_trunc(${grain}, day::timestamp)::date::text as period_start, null::text as mentor_id, null::text as campaign_id, 'period' as by, ${FUNNEL_SUMS}
         from (${rangeRows(cut, FUNNEL_GRAINS.org, `org_id = ${org}`, add)}) o
        group by 1
       union all
       select null, mentor_id, campaign_id, case when grouping(mentor_id) = 0 then 'mentor' else 'campaign' end, ${FUNNEL_SUMS}
         from (${mentorRows}) f
        group by grouping sets ((mentor_id), (campaign_id))`
    : `select date_trunc(${grain}, day::timestamp)::date::text as period_start, mentor_id, campaign_id,
              case when grouping(mentor_id) = 0 then 'mentor' when grouping(campaign_id) = 0 then 'campaign' else 'period' end as by,
              ${FUNNEL_SUMS}
         from (${mentorRows}) f
        group by grouping sets ((date_trunc(${grain}, day::timestamp)), (mentor_id), (campaign_id))`;
  const { rows } = await db.query<SumRow & { period_start: string | null; mentor_id: string | null; campaign_id: string | null; by: 'period' | 'mentor' | 'campaign' }>(sql, values);
  const { totals, series } = fillSeries(
    periodStarts(range.from, range.to, granularity),
    new Map(rows.filter((r) => r.by === 'period').map((r) => [r.period_start as string, totalsOf(r)])),
    { ...range, granularity },
  );
  const byMentor = new Map(rows.filter((r) => r.by === 'mentor').map((r) => [r.mentor_id as string, totalsOf(r)]));
  const campaigns = rows
    .filter((r) => r.by === 'campaign')
    .sort((a, b) => b.registrations - a.registrations || (a.campaign_id === null ? 1 : b.campaign_id === null ? -1 : a.campaign_id < b.campaign_id ? -1 : 1))
    .map((r) => ({ campaignId: r.campaign_id, totals: totalsOf(r), conversion: conversionOf(totalsOf(r)) }));
  return { totals, conversion: conversionOf(totals), series, byMentor, campaigns };
}

/** OrgRecruitmentSummary: the organization's funnel, series, ten top mentors (with their names) and campaigns. */
export async function orgSummary(db: Queryable, grant: GrantFor<'org'>, q: { from?: string; to?: string; granularity: Granularity; compare?: CompareMode }) {
  const { orgId, timezone } = grant;
  const range = resolveRange(q, timezone, q.granularity);
  const target = restrict(grant.visibility, { orgId, mentorIds: null });
  const [{ byMentor, totals, conversion, series, campaigns }, previous] = await Promise.all([
    summaryOf(db, target, range, q.granularity),
    q.compare ? previousPeriod(db, target, range, q.compare) : null,
  ]);
  const topMentors = await withMentorNames(db, orgId, rank(byMentor, 'registrations').slice(0, 10));
  return { orgId, ...range, timezone, totals, conversion, series, topMentors, campaigns, ...(previous ? { previous } : {}) };
}

/**
 * CoordinatorRecruitmentSummary: the same, cut to the mentors of the coordinator's scope (their
 * ranking: mentor-performance). `firstDay`: the organization's first day when already read.
 */
export async function coordinatorSummary(db: Queryable, grant: GrantFor<'coordinator'>, q: { from?: string; to?: string; granularity: Granularity; compare?: CompareMode }, firstDay?: string | null) {
  const { coordinatorId, orgId, timezone } = grant;
  const range = resolveRange(q, timezone, q.granularity);
  const target = restrict(grant.visibility, { orgId, mentorIds: grant.mentorIds });
  const [{ totals, conversion, series, campaigns }, previous] = await Promise.all([
    summaryOf(db, target, range, q.granularity),
    q.compare ? previousPeriod(db, target, range, q.compare, null, firstDay) : null,
  ]);
  return { coordinatorId, orgId, ...range, timezone, totals, conversion, series, campaigns, ...(previous ? { previous } : {}) };
}
