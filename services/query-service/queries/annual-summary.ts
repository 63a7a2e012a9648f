import { DateTime } from 'luxon';
import type { Queryable } from '../../../libs/db/queryable.js';
import { FUNNEL_COUNT_CATALOGUE, zeroTotals } from '../../../libs/funnel/increments.js';
import { FUNNEL_SUMS, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { cutRange } from '../../../libs/funnel/range-cut.js';
import { FUNNEL_GRAINS, rangeRows, sqlParams } from '../../../libs/funnel/range-rows.js';
import type { GrantFor } from '../policy.js';
import { restrict } from './grant-filter.js';
import { mentorNameSql } from './mentor-names.js';

/**
 * A mentor's year: totals, recruits registered in it, and where the mentor stands among the
 * org's mentors by registrations (rank 1 is best, ties share a rank; the percentile is the
 * share of the org's mentors with no more registrations).
 */
export async function annualSummary(db: Queryable, grant: GrantFor<'mentor'>, q: { year?: number }, now = Date.now()) {
  const { mentorId, orgId, timezone } = grant;
  const year = q.year ?? DateTime.fromMillis(now, { zone: timezone }).year;
  const from = `${year}-01-01`;
  const to = `${year}-12-31`;
  // The mentor's own numbers are bounded by the grant; the standing in the org leaves only as a rank.
  if (restrict(grant.visibility, { orgId, mentorIds: [mentorId] }).mentorIds?.length !== 1) return { mentorId, mentorName: null, year, from, to, timezone, totals: zeroTotals(), recruits: 0, rankInOrg: 1, percentileInOrg: 1 };
  // One read of the org's year (twelve whole months: its monthly rows, not its days) gives the
  // mentor's totals and every mentor's registrations; the recruits are counted beside it.
  const { values, add } = sqlParams();
  const org = add(orgId);
  const [{ rows }, { rows: recruits }] = await Promise.all([
    db.query<SumRow & { mentor_id: string }>(
      `with counted as (
         select mentor_id, ${FUNNEL_SUMS}
           from (${rangeRows(cutRange(from, to, 'year'), FUNNEL_GRAINS.mentor, `org_id = ${org}`, add)}) f
          group by mentor_id
       ), mentors as (
         select mentor_id from invite_links where org_id = ${org}
         union select mentor_id from counted
         union select ${add(mentorId)}::text
       )
       select m.mentor_id, ${FUNNEL_COUNT_CATALOGUE.map((c) => `coalesce(c.${c.column}, 0) as ${c.column}`).join(', ')}
         from mentors m left join counted c on c.mentor_id = m.mentor_id`,
      values,
    ),
    db.query<{ n: number; mentor_name: string | null }>(
      `select count(*)::int as n, ${mentorNameSql('$1', '$2')} as mentor_name from referrals
        where mentor_id = $1 and org_id = $2
          and registered_at >= ($3::date)::timestamp at time zone $5 and registered_at < (($4::date) + 1)::timestamp at time zone $5`,
      [mentorId, orgId, from, to, timezone],
    ),
  ]);
  const totals = totalsOf(rows.find((r) => r.mentor_id === mentorId));
  const mine = totals.registrations;
  const rankInOrg = 1 + rows.filter((r) => r.registrations > mine).length;
  const percentileInOrg = rows.filter((r) => r.registrations <= mine).length / rows.length;
  return { mentorId, mentorName: recruits[0]?.mentor_name ?? null, year, from, to, timezone, totals, recruits: recruits[0]?.n ?? 0, rankInOrg, percentileInOrg };
}
