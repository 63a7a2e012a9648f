import { DateTime } from 'luxon';
import type { Queryable } from '../../../libs/db/queryable.js';
import { zeroTotals } from '../../../libs/funnel/increments.js';
import { funnelSeries } from '../../../libs/funnel/series.js';
import { cutRange } from '../../../libs/funnel/range-cut.js';
import { FUNNEL_GRAINS, rangeRows, sqlParams } from '../../../libs/funnel/range-rows.js';
import type { GrantFor } from '../policy.js';
import { restrict } from './grant-filter.js';

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
  if (restrict(grant.visibility, { orgId, mentorIds: [mentorId] }).mentorIds?.length !== 1) return { mentorId, year, from, to, timezone, totals: zeroTotals(), recruits: 0, rankInOrg: 1, percentileInOrg: 1 };
  const { totals } = await funnelSeries(db, { orgId, mentorIds: [mentorId], from, to, granularity: 'year' });
  // The year is twelve whole months: the org's monthly rows, not its days.
  const { values, add } = sqlParams();
  const org = add(orgId);
  const { rows } = await db.query<{ mentor_id: string; registrations: number }>(
    `with counted as (
       select mentor_id, sum(registrations)::int as registrations
         from (${rangeRows(cutRange(from, to, 'year'), FUNNEL_GRAINS.mentor, `org_id = ${org}`, add)}) f
        group by mentor_id
     ), mentors as (
       select mentor_id from invite_links where org_id = ${org}
       union select mentor_id from counted
       union select ${add(mentorId)}::text
     )
     select m.mentor_id, coalesce(c.registrations, 0) as registrations
       from mentors m left join counted c on c.mentor_id = m.mentor_id`,
    values,
  );
  const mine = rows.find((r) => r.mentor_id === mentorId)?.registrations ?? 0;
  const rankInOrg = 1 + rows.filter((r) => r.registrations > mine).length;
  const percentileInOrg = rows.filter((r) => r.registrations <= mine).length / rows.length;
  const { rows: recruits } = await db.query<{ n: number }>(
    `select count(*)::int as n from referrals
      where mentor_id = $1 and org_id = $2
        and registered_at >= ($3::date)::timestamp at time zone $5 and registered_at < (($4::date) + 1)::timestamp at time zone $5`,
    [mentorId, orgId, from, to, timezone],
  );
  return { mentorId, year, from, to, timezone, totals, recruits: recruits[0]?.n ?? 0, rankInOrg, percentileInOrg };
}
