import type { Queryable } from '../../../libs/db/queryable.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import { funnelSeries } from '../../../libs/funnel/series.js';
import type { Granularity } from '../../../libs/funnel/periods.js';
import type { GrantFor } from '../policy.js';
import { resolveRange } from '../ranges.js';
import { restrict } from './grant-filter.js';
import { mentorNames } from './mentor-names.js';

/** MentorReferralStats: a mentor's totals, conversion and series over a range of local dates. */
export async function mentorStats(db: Queryable, grant: GrantFor<'mentor'>, q: { from?: string; to?: string; granularity: Granularity; campaignId?: string }) {
  const { mentorId, orgId, timezone } = grant;
  const range = resolveRange(q, timezone, q.granularity);
  const target = restrict(grant.visibility, { orgId, mentorIds: [mentorId] });
  const [{ totals, series }, names] = await Promise.all([
    funnelSeries(db, { orgId, mentorIds: target.mentorIds ?? [], ...(q.campaignId ? { campaignId: q.campaignId } : {}), ...range, granularity: q.granularity }),
    mentorNames(db, orgId, target.mentorIds ?? []),
  ]);
  return { mentorId, mentorName: names.get(mentorId) ?? null, orgId, ...range, timezone, totals, conversion: conversionOf(totals), series };
}
