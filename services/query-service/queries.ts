import { DateTime } from 'luxon';
import type { Queryable } from '../../libs/db/queryable.js';
import { zeroTotals, type FunnelTotals } from '../../libs/funnel/increments.js';
import { conversionOf } from '../../libs/funnel/conversion.js';
import { FUNNEL_SUMS, fillSeries, funnelSeries, totalsOf, type SumRow } from '../../libs/funnel/series.js';
import { periodStarts, type Granularity } from '../../libs/funnel/periods.js';
import type { Grant, Visibility } from './auth.js';
import { decodeCursor, decodeOrgCursor, encodeCursor, encodeOrgCursor } from './cursor.js';
import { resolveRange } from './ranges.js';
import type { MentorPerformanceSummaryT, OrgRecruitProfileT, RecruitProfileT } from './schemas.js';

/**
 * The reads behind the routes. All of them read the funnel tables, or the referrals facts for
 * recruit lists, with indexed range scans grouped in Postgres: never the raw clicks, never a
 * query per row. Each takes the caller's grant and filters by it.
 */

type Stage = RecruitProfileT['stage'];

/** What a query asks for: one organization, and some of its mentors or (null) all of them. */
interface Target {
  orgId: string;
  mentorIds: string[] | null;
}

/**
 * A query's target cut down to what the grant may read: the grant's visibility, not only the
 * route's check, bounds every read, so a route whose check went missing still could not leak.
 * `mentorIds` [] means nothing is visible.
 */
function restrict(grant: Grant, target: Target): Target {
  const v = grant.visibility;
  if (v.kind === 'platform') return target;
  if (v.orgId !== target.orgId) return { orgId: target.orgId, mentorIds: [] };
  if (v.kind === 'org') return target;
  return { orgId: target.orgId, mentorIds: (target.mentorIds ?? v.mentorIds).filter((m) => v.mentorIds.includes(m)) };
}

export async function mentorStats(db: Queryable, grant: Grant, mentorId: string, q: { from?: string; to?: string; granularity: Granularity; campaignId?: string }) {
  const timezone = grant.timezone as string;
  const range = resolveRange(q, timezone, q.granularity);
  const target = restrict(grant, { orgId: grant.orgId as string, mentorIds: [mentorId] });
  const { totals, series } = await funnelSeries(db, { orgId: target.orgId, mentorIds: target.mentorIds ?? [], ...(q.campaignId ? { campaignId: q.campaignId } : {}), ...range, granularity: q.granularity });
  return { mentorId, orgId: grant.orgId as string, ...range, timezone, totals, conversion: conversionOf(totals), series };
}

interface ReferralRow {
  referral_id: string;
  user_id: string;
  mentor_id: string;
  org_id: string;
  display_name: string | null;
  link_id: string;
  campaign_id: string | null;
  attributed_by: 'LINK' | 'DEVICE';
  clicked_at: Date | null;
  installed_at: Date | null;
  registered_at: Date;
  activated_at: Date | null;
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const stageSql = "case when activated_at is null then 'REGISTERED' else 'ACTIVATED' end";

function profileOf(r: ReferralRow): OrgRecruitProfileT {
  return {
    referralId: r.referral_id, userId: r.user_id, mentorId: r.mentor_id, displayName: r.display_name, linkId: r.link_id, campaignId: r.campaign_id,
    stage: r.activated_at ? 'ACTIVATED' : 'REGISTERED', clickedAt: iso(r.clicked_at), installedAt: iso(r.installed_at), registeredAt: iso(r.registered_at), activatedAt: iso(r.activated_at),
  };
}

/**
 * One keyset page of recruits (newest registration first) of an organization, optionally of
 * some mentors and a current stage. A recruit is a registered user; their stage is ACTIVATED
 * once they logged in, else REGISTERED, so filtering on CLICKED or INSTALLED finds nobody.
 */
async function recruitPage(db: Queryable, where: Target, q: { stage?: Stage; limit: number; cursor?: string }) {
  const after = decodeCursor(q.cursor);
  if (q.stage === 'CLICKED' || q.stage === 'INSTALLED') return { items: [] as OrgRecruitProfileT[], nextCursor: null };
  const { rows } = await db.query<ReferralRow>(
    `select * from referrals
      where org_id = $1 and ($2::text[] is null or mentor_id = any($2))
        and ($3::text is null or ${stageSql} = $3)
        and ($4::timestamptz is null or (registered_at, referral_id) < ($4::timestamptz, $5::text))
      order by registered_at desc, referral_id desc
      limit $6`,
    [where.orgId, where.mentorIds, q.stage ?? null, after?.registeredAt ?? null, after?.referralId ?? null, q.limit + 1],
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > q.limit && last ? encodeCursor({ registeredAt: last.registered_at.toISOString(), referralId: last.referral_id }) : null;
  return { items: page.map(profileOf), nextCursor };
}

export async function mentorRecruits(db: Queryable, grant: Grant, mentorId: string, q: { stage?: Stage; limit: number; cursor?: string }): Promise<{ items: RecruitProfileT[]; nextCursor: string | null }> {
  const { items, nextCursor } = await recruitPage(db, restrict(grant, { orgId: grant.orgId as string, mentorIds: [mentorId] }), q);
  return { items: items.map(({ mentorId: _m, ...profile }) => profile), nextCursor };
}

export async function orgReferrals(db: Queryable, grant: Grant, orgId: string, q: { stage?: Stage; mentorId?: string; limit: number; cursor?: string }) {
  return recruitPage(db, restrict(grant, { orgId, mentorIds: q.mentorId ? [q.mentorId] : null }), q);
}

/** Totals per mentor over a range, for the given mentors or (null) every mentor of the org. */
async function totalsByMentor(db: Queryable, { orgId, mentorIds }: Target, from: string, to: string): Promise<Map<string, FunnelTotals>> {
  const { rows } = await db.query<SumRow & { mentor_id: string }>(
    `select mentor_id, ${FUNNEL_SUMS} from funnel_daily
      where org_id = $1 and ($2::text[] is null or mentor_id = any($2)) and day between $3::date and $4::date
      group by mentor_id`,
    [orgId, mentorIds, from, to],
  );
  return new Map(rows.map((r) => [r.mentor_id, totalsOf(r)]));
}

type PerformanceSort = 'registrations' | 'activations' | 'clickToRegistration';

/** Ranks mentors best first by the sort key (a null rate ranks last), ties by mentor id. */
function rank(totals: Map<string, FunnelTotals>, sort: PerformanceSort): MentorPerformanceSummaryT[] {
  const summaries = [...totals].map(([mentorId, t]) => ({ mentorId, totals: t, conversion: conversionOf(t) }));
  const key = (s: (typeof summaries)[number]) => (sort === 'clickToRegistration' ? (s.conversion.clickToRegistration ?? -1) : s.totals[sort]);
  summaries.sort((a, b) => key(b) - key(a) || (a.mentorId < b.mentorId ? -1 : 1));
  return summaries.map((s, i) => ({ ...s, rank: i + 1 }));
}

export async function mentorPerformance(db: Queryable, grant: Grant, coordinatorId: string, q: { from?: string; to?: string; sort: PerformanceSort; limit: number }) {
  const range = resolveRange(q, grant.timezone as string, null);
  const target = restrict(grant, { orgId: grant.orgId as string, mentorIds: grant.mentorIds });
  const found = await totalsByMentor(db, target, range.from, range.to);
  const all = new Map((target.mentorIds ?? []).map((m) => [m, found.get(m) ?? zeroTotals()]));
  return { coordinatorId, ...range, timezone: grant.timezone as string, items: rank(all, q.sort).slice(0, q.limit) };
}

/** One scan of the org's days, grouped three ways at once: by period, by mentor, by campaign. */
export async function orgSummary(db: Queryable, grant: Grant, orgId: string, q: { from?: string; to?: string; granularity: Granularity }) {
  const range = resolveRange(q, grant.timezone as string, q.granularity);
  const target = restrict(grant, { orgId, mentorIds: null });
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
  return { orgId, ...range, timezone: grant.timezone as string, totals, conversion: conversionOf(totals), series, topMentors, campaigns };
}

/**
 * A mentor's year: totals, recruits registered in it, and where the mentor stands among the
 * org's mentors by registrations (rank 1 is best, ties share a rank; the percentile is the
 * share of the org's mentors with no more registrations).
 */
export async function annualSummary(db: Queryable, grant: Grant, mentorId: string, q: { year?: number }, now = Date.now()) {
  const timezone = grant.timezone as string;
  const orgId = grant.orgId as string;
  const year = q.year ?? DateTime.fromMillis(now, { zone: timezone }).year;
  const from = `${year}-01-01`;
  const to = `${year}-12-31`;
  // The mentor's own numbers are bounded by the grant; the standing in the org leaves only as a rank.
  if (restrict(grant, { orgId, mentorIds: [mentorId] }).mentorIds?.length !== 1) return { mentorId, year, from, to, timezone, totals: zeroTotals(), recruits: 0, rankInOrg: 1, percentileInOrg: 1 };
  const { totals } = await funnelSeries(db, { orgId, mentorIds: [mentorId], from, to, granularity: 'year' });
  const { rows } = await db.query<{ mentor_id: string; registrations: number }>(
    `with mentors as (
       select mentor_id from invite_links where org_id = $1
       union select mentor_id from funnel_daily where org_id = $1 and day between $2::date and $3::date
       union select $4::text
     )
     select m.mentor_id, coalesce(sum(f.registrations), 0)::int as registrations
       from mentors m left join funnel_daily f on f.mentor_id = m.mentor_id and f.org_id = $1 and f.day between $2::date and $3::date
      group by m.mentor_id`,
    [orgId, from, to, mentorId],
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

/**
 * Totals and series per organization, a page of organizations (by id) at a time, so one
 * request's work and answer stay bounded however many organizations there are.
 */
export async function platformGrowth(db: Queryable, grant: Grant, q: { from?: string; to?: string; granularity: Granularity; limit: number; cursor?: string }, defaultTimezone: string) {
  const after = decodeOrgCursor(q.cursor);
  // Only a platform grant reads across organizations; any other would read nothing.
  const limit = grant.visibility.kind === 'platform' ? q.limit : 0;
  const range = resolveRange(q, defaultTimezone, q.granularity);
  const { rows: found } = await db.query<{ org_id: string; timezone: string | null }>(
    `select o.org_id, s.timezone from (
       select org_id from invite_links union select org_id from org_settings
       union select distinct org_id from funnel_daily where day between $1::date and $2::date
     ) o left join org_settings s using (org_id)
      where $3::text is null or o.org_id > $3
      order by o.org_id limit $4`,
    [range.from, range.to, after, limit === 0 ? 0 : limit + 1],
  );
  const orgs = found.slice(0, limit);
  const nextCursor = found.length > limit && orgs.length > 0 ? encodeOrgCursor(orgs[orgs.length - 1]!.org_id) : null;
  const { rows } = await db.query<SumRow & { org_id: string; period_start: string }>(
    `select org_id, date_trunc($3, day::timestamp)::date::text as period_start, ${FUNNEL_SUMS}
       from funnel_daily where org_id = any($4::text[]) and day between $1::date and $2::date group by 1, 2`,
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

/** The attribution of one user, if the caller may see the mentor it belongs to. */
export async function conversionRecord(db: Queryable, visibility: Visibility, userId: string) {
  const orgId = visibility.kind === 'platform' ? null : visibility.orgId;
  const mentorIds = visibility.kind === 'mentors' ? visibility.mentorIds : null;
  const { rows } = await db.query<ReferralRow>(
    `select * from referrals where user_id = $1 and ($2::text is null or org_id = $2) and ($3::text[] is null or mentor_id = any($3))`,
    [userId, orgId, mentorIds],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    userId: r.user_id, referralId: r.referral_id, linkId: r.link_id, mentorId: r.mentor_id, campaignId: r.campaign_id, orgId: r.org_id,
    attributedBy: r.attributed_by, registeredAt: r.registered_at.toISOString(), activatedAt: iso(r.activated_at),
  };
}

/** The organization of a known invite link, or null when the link is not known (yet). */
export async function linkOrg(db: Queryable, linkId: string): Promise<string | null> {
  const { rows } = await db.query<{ org_id: string }>('select org_id from invite_links where link_id = $1', [linkId]);
  return rows[0]?.org_id ?? null;
}
