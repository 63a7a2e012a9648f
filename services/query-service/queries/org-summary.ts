import type { Queryable } from '../../../libs/db/queryable.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import { FUNNEL_SUMS, fillSeries, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { periodStarts, type Granularity } from '../../../libs/funnel/periods.js';
import type { GrantFor } from '../policy.js';
import { resolveRange } from '../ranges.js';
import { restrict } from './grant-filter.js';
import { rank } from './ranking.js';

/** One scan of the org's days, grouped three ways at once: by period, by mentor, by campaign. */
export async function orgSummary(db: Queryable, grant: GrantFor<'org'>, q: { from?: string; to?: string; granularity: Granularity }) {
  const { orgId, timezone } = grant;
  const range = resolveRange(q, timezone, q.granularity);
  const target = restrict(grant.visibility, { orgId, mentorIds: null });
  const { rows } = await db.query<SumRow & { period_start: string | null; mentor_id: string | null; campaign_id: string | null; by: 'period' | 'mentor' | 'campaign' }>(
    `select date_trunc($4, day::timestamp)::date::text as period_start, mentor_id, campaign_id,
            case when grouping(mentor_id) = 0 then 'mentor' when grouping(campaign_id) = 0 then 'campaign' else 'period' end as by,
            ${FUNNEL_SUMS}
       from funnel_daily where org_id = $1 and ($5::text[] is null or mentor_id = any($5)) and day between $2::date and $3::date
      group by grouping sets ((date_trunc($4, day::timestamp)), (mentor_id), (campaign_id))`,
    [orgId, range.from, range.to, q.granularity, target.mentorIds],
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
