import type { Queryable } from '../../../libs/db/queryable.js';
import { COUNT_COLUMNS, FUNNEL_COUNT_CATALOGUE, zeroTotals } from '../../../libs/funnel/increments.js';
import { totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { localDay } from '../../../libs/funnel/periods.js';
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
  const year = q.year ?? Number(localDay(now, timezone).slice(0, 4));
  const from = `${year}-01-01`;
  const to = `${year}-12-31`;
  // The mentor's own numbers are bounded by the grant; the standing in the org leaves only as a rank.
  if (restrict(grant.visibility, { orgId, mentorIds: [mentorId] }).mentorIds?.length !== 1) return { mentorId, mentorName: null, year, from, to, timezone, totals: zeroTotals(), recruits: 0, rankInOrg: 1, percentileInOrg: 1 };
  // The mentor's year is one row of funnel_yearly (the org's local year, over campaigns), and
  // the standing two counts beside it: the org's mentors (with links or rows this year, and the
  // mentor) and those of them with more registrations. The recruits are counted beside it.
  const [{ rows }, { rows: recruits }] = await Promise.all([
    db.query<SumRow & { above: number; mentors: number }>(
      `with yr as (select mentor_id, ${COUNT_COLUMNS} from funnel_yearly where org_id = $1 and year = $2),
            mine as (select * from yr where mentor_id = $3)
       select ${FUNNEL_COUNT_CATALOGUE.map((c) => `coalesce(mine.${c.column}, 0)::int as ${c.column}`).join(', ')},
              (select count(*) from yr where yr.registrations > coalesce(mine.registrations, 0))::int as above,
              (select count(*) from (select mentor_id from invite_links where org_id = $1 union select mentor_id from yr union select $3::text) m)::int as mentors
         from (select) one left join mine on true`,
      [orgId, year, mentorId],
    ),
    db.query<{ n: number; mentor_name: string | null }>(
      `select count(*)::int as n, ${mentorNameSql('$1', '$2')} as mentor_name from referrals
        where mentor_id = $1 and org_id = $2
          and registered_at >= ($3::date)::timestamp at time zone $5 and registered_at < (($4::date) + 1)::timestamp at time zone $5`,
      [mentorId, orgId, from, to, timezone],
    ),
  ]);
  const row = rows[0] as SumRow & { above: number; mentors: number };
  const totals = totalsOf(row);
  const rankInOrg = 1 + row.above;
  const percentileInOrg = (row.mentors - row.above) / row.mentors;
  return { mentorId, mentorName: recruits[0]?.mentor_name ?? null, year, from, to, timezone, totals, recruits: recruits[0]?.n ?? 0, rankInOrg, percentileInOrg };
}
