import type { Queryable } from '../../../libs/db/queryable.js';
import type { FunnelTotals } from '../../../libs/funnel/increments.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import { FUNNEL_SUMS, fillSeries, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { periodStarts, type Granularity } from '../../../libs/funnel/periods.js';
import { cutRange } from '../../../libs/funnel/range-cut.js';
import { FUNNEL_GRAINS, rangeRows, sqlParams } from '../../../libs/funnel/range-rows.js';
import type { GrantFor } from '../policy.js';
import { decodeOrgCursor, encodeOrgCursor } from '../cursor.js';
import { resolveRange } from '../ranges.js';

/**
 * The most rows one page holds, an organization's series points and its total each a row. A
 * page holds fewer organizations than `limit` asks when their series are long: a daily series
 * of two years (731 points) takes 13 organizations a page, a monthly one of a year 200. At
 * `limit` 200 such a page was 146,000 points (15 MB of JSON, 60 MB of heap while built), and a
 * few at once ran the service out of memory.
 */
export const MAX_GROWTH_ROWS = 10_000;

/**
 * Totals and series per organization, a page of organizations (by id) at a time, so one
 * request's work and answer stay bounded however many organizations there are (at most
 * MAX_GROWTH_ROWS rows). Reads the per-org sums, not the mentors' rows:
 * whole months from funnel_org_monthly, the other days from funnel_org_daily.
 */
export async function platformGrowth(db: Queryable, grant: GrantFor<'platform'>, q: { from?: string; to?: string; granularity: Granularity; limit: number; cursor?: string }, defaultTimezone: string) {
  const after = decodeOrgCursor(q.cursor);
  const range = resolveRange(q, defaultTimezone, q.granularity);
  const starts = periodStarts(range.from, range.to, q.granularity);
  // Only a platform grant reads across organizations; any other would read nothing.
  const limit = grant.visibility.kind === 'platform' ? Math.min(q.limit, Math.max(1, Math.floor(MAX_GROWTH_ROWS / (starts.length + 1)))) : 0;
  // Organizations known, or with rows in the range (its whole months read by month).
  const known = sqlParams();
  const afterOrg = known.add(after);
  // The organizations with links by a loose scan of invite_links_org_mentor: one probe per organization, not every link.
  const { rows: found } = await db.query<{ org_id: string; timezone: string | null }>(
    `with recursive link_orgs(org_id) as (
       (select org_id from invite_links order by org_id limit 1)
       union all
       select (select l.org_id from invite_links l where l.org_id > p.org_id order by l.org_id limit 1) from link_orgs p where p.org_id is not null
     )
     select o.org_id, s.timezone from (
       select org_id from link_orgs where org_id is not null union select org_id from org_settings
       union select org_id from (${rangeRows(cutRange(range.from, range.to, null), FUNNEL_GRAINS.org, 'true', known.add)}) f
     ) o left join org_settings s using (org_id)
      where ${afterOrg}::text is null or o.org_id > ${afterOrg}
      order by o.org_id limit ${known.add(limit === 0 ? 0 : limit + 1)}`,
    known.values,
  );
  const orgs = found.slice(0, limit);
  const nextCursor = found.length > limit && orgs.length > 0 ? encodeOrgCursor(orgs[orgs.length - 1]!.org_id) : null;
  const { values, add } = sqlParams();
  const granularity = add(q.granularity);
  const { rows } = await db.query<SumRow & { org_id: string; period_start: string }>(
    `select org_id, date_trunc(${granularity}, day::timestamp)::date::text as period_start, ${FUNNEL_SUMS}
       from (${rangeRows(cutRange(range.from, range.to, q.granularity), FUNNEL_GRAINS.org, `org_id = any(${add(orgs.map((o) => o.org_id))}::text[])`, add)}) f
      group by 1, 2`,
    values,
  );
  const byOrg = new Map<string, Map<string, FunnelTotals>>();
  for (const r of rows) {
    if (!byOrg.has(r.org_id)) byOrg.set(r.org_id, new Map());
    byOrg.get(r.org_id)?.set(r.period_start, totalsOf(r));
  }
  const organizations = orgs.map((o) => {
    const { totals, series } = fillSeries(starts, byOrg.get(o.org_id), { ...range, granularity: q.granularity });
    return { orgId: o.org_id, timezone: o.timezone ?? defaultTimezone, totals, conversion: conversionOf(totals), series };
  });
  return { ...range, organizations, nextCursor };
}
