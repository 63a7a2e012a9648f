import type { Queryable } from '../../../libs/db/queryable.js';
import { zeroTotals, type FunnelTotals } from '../../../libs/funnel/increments.js';
import { FUNNEL_SUMS, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import type { GrantFor } from '../policy.js';
import { resolveRange } from '../ranges.js';
import { restrict, type Target } from './grant-filter.js';
import { rank, type PerformanceSort } from './ranking.js';

/** Totals per mentor over a range, for the given mentors or (null) every mentor of the org. */
export async function totalsByMentor(db: Queryable, { orgId, mentorIds }: Target, from: string, to: string): Promise<Map<string, FunnelTotals>> {
  const { rows } = await db.query<SumRow & { mentor_id: string }>(
    `select mentor_id, ${FUNNEL_SUMS} from funnel_daily
      where org_id = $1 and ($2::text[] is null or mentor_id = any($2)) and day between $3::date and $4::date
      group by mentor_id`,
    [orgId, mentorIds, from, to],
  );
  return new Map(rows.map((r) => [r.mentor_id, totalsOf(r)]));
}

/** The mentors of a coordinator's scope ranked, every one of them even with empty numbers. */
export async function mentorPerformance(db: Queryable, grant: GrantFor<'coordinator'>, q: { from?: string; to?: string; sort: PerformanceSort; limit: number }) {
  const { coordinatorId, orgId, timezone } = grant;
  const range = resolveRange(q, timezone, null);
  const target = restrict(grant.visibility, { orgId, mentorIds: grant.mentorIds });
  const found = await totalsByMentor(db, target, range.from, range.to);
  const all = new Map((target.mentorIds ?? []).map((m) => [m, found.get(m) ?? zeroTotals()]));
  return { coordinatorId, ...range, timezone, items: rank(all, q.sort).slice(0, q.limit) };
}
