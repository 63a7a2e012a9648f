import type { Queryable } from '../../../libs/db/queryable.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import { FUNNEL_SUMS, fillSeries, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { periodStarts, type Granularity } from '../../../libs/funnel/periods.js';
import { cutRange } from '../../../libs/funnel/range-cut.js';
import { FUNNEL_GRAINS, rangeRows, sqlParams } from '../../../libs/funnel/range-rows.js';
import type { GrantFor } from '../policy.js';
import { resolveRange } from '../ranges.js';
import { restrict } from './grant-filter.js';
import { rank } from './ranking.js';

/**
 * One scan of the org's rows, grouped three ways at once: by period, by mentor, by campaign.
 * The whole months of the range come from funnel_monthly, its other days from funnel_daily.
 */
export async function orgSummary(db: Queryable, grant: GrantFor<'org'>, q: { from?: string; to?: string; granularity: Granularity }) {
  const { orgId, timezone } = grant;
  const range = resolveRange(q, timezone, q.granularity);
  const target = restrict(grant.visibility, { orgId, mentorIds: null });
  const { values, add } = sqlParams();
  const [granularity, org, mentors] = [add(q.granularity), add(orgId), add(target.mentorIds)];
  const { rows } = await db.query<SumRow & { period_start: string | null; mentor_id: string | null; campaign_id: string | null; by: 'period' | 'mentor' | 'campaign' }>(
    `select date_trunc(${granularity}, day::timestamp)::date::text as period_start, mentor_id, campaign_id,
            case when grouping(mentor_id) = 0 then 'mentor' when grouping(campaign_id) = 0 then 'campaign' else 'period' end as by,
            ${FUNNEL_SUMS}
       from (${rangeRows(cutRange(range.from, range.to, q.granularity), FUNNEL_GRAINS.mentor, `org_id = ${org} and (${mentors}::text[] is null or mentor_id = any(${mentors}))`, add)}) f
      group by grouping sets ((date_trunc(${granularity}, day::timestamp)), (mentor_id), (campaign_id))`,
    values,
  );
  const { totals, series } = fillSeries(
    periodStarts(range.from, range.to, q.granularity),
    new Map(rows.filter((r) => r.by === 'period').map((r) => [r.period_start as string, totalsOf(r)])),
    { ...range, granularity: q.granularity },
  );
  const topMentors = rank(new Map(rows.filter((r) => r.by === 'mentor').map((r) => [r.mentor_id as string, totalsOf(r)])), 'registrations').slice(0, 10);
  const campaigns = rows
    .filter((r) => r.by === 'campaign')
    .sort((a, b) => b.registrations - a.registrations || (a.campaign_id === null ? 1 : b.campaign_id === null ? -1 : a.campaign_id < b.campaign_id ? -1 : 1))
    .map((r) => ({ campaignId: r.campaign_id, totals: totalsOf(r), conversion: conversionOf(totalsOf(r)) }));
  return { orgId, ...range, timezone, totals, conversion: conversionOf(totals), series, topMentors, campaigns };
}
