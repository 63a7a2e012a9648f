import type { Queryable } from '../../../libs/db/queryable.js';
import { zeroTotals, type FunnelTotals } from '../../../libs/funnel/increments.js';
import { FUNNEL_SUMS, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { cutRange } from '../../../libs/funnel/range-cut.js';
import { FUNNEL_GRAINS, rangeRows, sqlParams } from '../../../libs/funnel/range-rows.js';
import type { GrantFor } from '../policy.js';
import { resolveRange } from '../ranges.js';
import { restrict, type Target } from './grant-filter.js';
import { rank, type PerformanceSort } from './ranking.js';
import { withMentorNames } from './mentor-names.js';
import { comparisonRange, type CompareMode } from '../../../libs/funnel/compare-range.js';
import { orgFirstDay, previousOf } from './previous-period.js';

/**
 * Totals per mentor over a range, for the given mentors or (null) every mentor of the org:
 * whole months from funnel_monthly, the other days from funnel_daily.
 */
export async function totalsByMentor(db: Queryable, { orgId, mentorIds }: Target, from: string, to: string): Promise<Map<string, FunnelTotals>> {
  const { values, add } = sqlParams();
  const [org, mentors] = [add(orgId), add(mentorIds)];
  const { rows } = await db.query<SumRow & { mentor_id: string }>(
    `select mentor_id, ${FUNNEL_SUMS}
       from (${rangeRows(cutRange(from, to, null), FUNNEL_GRAINS.mentor, `org_id = ${org} and (${mentors}::text[] is null or mentor_id = any(${mentors}))`, add)}) f
      group by mentor_id`,
    values,
  );
  return new Map(rows.map((r) => [r.mentor_id, totalsOf(r)]));
}

/** The mentors of a coordinator's scope ranked, every one of them even with empty numbers. */
export async function mentorPerformance(db: Queryable, grant: GrantFor<'coordinator'>, q: { from?: string; to?: string; sort: PerformanceSort; limit: number; compare?: CompareMode }, firstDay?: string | null) {
  const { coordinatorId, orgId, timezone } = grant;
  const range = resolveRange(q, timezone, null);
  const target = restrict(grant.visibility, { orgId, mentorIds: grant.mentorIds });
  const earlier = q.compare ? comparisonRange(range, q.compare) : null;
  const [found, before, first] = await Promise.all([
    totalsByMentor(db, target, range.from, range.to),
    earlier ? totalsByMentor(db, target, earlier.from, earlier.to) : null,
    earlier ? (firstDay !== undefined ? firstDay : orgFirstDay(db, orgId)) : null,
  ]);
  const all = new Map((target.mentorIds ?? []).map((m) => [m, found.get(m) ?? zeroTotals()]));
  const items = await withMentorNames(db, orgId, rank(all, q.sort).slice(0, q.limit));
  // With `compare`, each mentor's same numbers over the earlier range (zeros where nothing happened).
  const compared = earlier && before ? items.map((item) => ({ ...item, previous: previousOf(earlier, first, before.get(item.mentorId) ?? zeroTotals()) })) : items;
  return { coordinatorId, ...range, timezone, items: compared };
}
