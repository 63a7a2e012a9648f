import type { Queryable } from '../../../libs/db/queryable.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import { funnelSeries } from '../../../libs/funnel/series.js';
import type { Granularity } from '../../../libs/funnel/periods.js';
import type { GrantFor } from '../policy.js';
import { resolveRange } from '../ranges.js';
import { restrict } from './grant-filter.js';
import { mentorNameSql } from './mentor-names.js';
import type { CompareMode } from '../../../libs/funnel/compare-range.js';
import { previousPeriod } from './previous-period.js';

/**
 * MentorReferralStats: a mentor's totals, conversion and series over a range of local dates.
 * `firstDay`: the organization's first day of activity when already read (previousPeriod).
 */
export async function mentorStats(db: Queryable, grant: GrantFor<'mentor'>, q: { from?: string; to?: string; granularity: Granularity; campaignId?: string; compare?: CompareMode }, firstDay?: string | null) {
  const { mentorId, orgId, timezone } = grant;
  const range = resolveRange(q, timezone, q.granularity);
  const target = restrict(grant.visibility, { orgId, mentorIds: [mentorId] });
  const mentors = { orgId, mentorIds: target.mentorIds ?? [] };
  // The mentor's name is read in the series' statement (one round trip); none when the grant hides the mentor.
  const visible = mentors.mentorIds.includes(mentorId);
  const [{ totals, series, also: name }, previous] = await Promise.all([
    funnelSeries(db, { ...mentors, ...(q.campaignId ? { campaignId: q.campaignId } : {}), ...range, granularity: q.granularity }, visible ? (add) => mentorNameSql(add(mentorId), add(orgId)) : undefined),
    q.compare ? previousPeriod(db, mentors, range, q.compare, q.campaignId ?? null, firstDay) : null,
  ]);
  return { mentorId, mentorName: name ?? null, orgId, ...range, timezone, totals, conversion: conversionOf(totals), series, ...(previous ? { previous } : {}) };
}
