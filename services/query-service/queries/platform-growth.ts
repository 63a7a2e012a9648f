import type { Queryable } from '../../../libs/db/queryable.js';
import type { FunnelTotals } from '../../../libs/funnel/increments.js';
import { conversionOf } from '../../../libs/funnel/conversion.js';
import { FUNNEL_SUMS, fillSeries, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { periodStarts, type Granularity } from '../../../libs/funnel/periods.js';
import type { GrantFor } from '../policy.js';
import { decodeOrgCursor, encodeOrgCursor } from '../cursor.js';
import { resolveRange } from '../ranges.js';

/**
 * Totals and series per organization, a page of organizations (by id) at a time, so one
 * request's work and answer stay bounded however many organizations there are. Reads the
 * per-org daily sums (funnel_org_daily): a row per organization and day, not per mentor.
 */
export async function platformGrowth(db: Queryable, grant: GrantFor<'platform'>, q: { from?: string; to?: string; granularity: Granularity; limit: number; cursor?: string }, defaultTimezone: string) {
  const after = decodeOrgCursor(q.cursor);
  // Only a platform grant reads across organizations; any other would read nothing.
  const limit = grant.visibility.kind === 'platform' ? q.limit : 0;
  const range = resolveRange(q, defaultTimezone, q.granularity);
  const { rows: found } = await db.query<{ org_id: string; timezone: string | null }>(
    `select o.org_id, s.timezone from (
       select org_id from invite_links union select org_id from org_settings
       union select distinct org_id from funnel_org_daily where day between $1::date and $2::date
     ) o left join org_settings s using (org_id)
      where $3::text is null or o.org_id > $3
      order by o.org_id limit $4`,
    [range.from, range.to, after, limit === 0 ? 0 : limit + 1],
  );
  const orgs = found.slice(0, limit);
  const nextCursor = found.length > limit && orgs.length > 0 ? encodeOrgCursor(orgs[orgs.length - 1]!.org_id) : null;
  const { rows } = await db.query<SumRow & { org_id: string; period_start: string }>(
    `select org_id, date_trunc($3, day::timestamp)::date::text as period_start, ${FUNNEL_SUMS}
       from funnel_org_daily where org_id = any($4::text[]) and day between $1::date and $2::date group by 1, 2`,
    [range.from, range.to, q.granularity, orgs.map((o) => o.org_id)],
  );
  const byOrg = new Map<string, Map<string, FunnelTotals>>();
  for (const r of rows) {
    if (!byOrg.has(r.org_id)) byOrg.set(r.org_id, new Map());
    byOrg.get(r.org_id)?.set(r.period_start, totalsOf(r));
  }
  const starts = periodStarts(range.from, range.to, q.granularity);
  const organizations = orgs.map((o) => {
    const { totals, series } = fillSeries(starts, byOrg.get(o.org_id), { ...range, granularity: q.granularity });
    return { orgId: o.org_id, timezone: o.timezone ?? defaultTimezone, totals, conversion: conversionOf(totals), series };
  });
  return { ...range, organizations, nextCursor };
}
