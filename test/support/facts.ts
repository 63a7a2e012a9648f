import type { Knex } from '../../libs/db/knex.js';
import type { ReferralEventRecorded } from '../../libs/events/types.generated.js';
import { localDay } from '../../libs/funnel/periods.js';

/**
 * Every fact the ingest worker derives, without bookkeeping columns (arrival times, publish
 * marks): two runs over the same events must produce exactly this, row for row.
 */
export async function factsSnapshot(db: Knex) {
  const q = async (sql: string) => (await db.raw<{ rows: unknown[] }>(sql)).rows;
  return {
    links: await q('select link_id, org_id, mentor_id, campaign_id, expires_at, revoked_at from invite_links order by 1'),
    scopes: await q('select coordinator_id, org_id, mentor_ids, updated_at from coordinator_scopes order by 1, 2'),
    clicks: await q('select event_id, link_id, status, unique_visitor, is_bot, visitor_hash, device_id from clicks order by 1'),
    installs: await q('select event_id, status, attributed_link_id from installs order by 1'),
    registrations: await q('select event_id, status, display_name from registrations order by 1'),
    logins: await q('select event_id from logins order by 1'),
    referrals: await q('select * from referrals order by 1'),
    // What counts now, per subject: event ids are left out, because a run whose batches were
    // cut differently may have reached the same decisions through other revisions.
    // A click's and an install's decision is kept on its row (migrations 0029, 0030), a user's in funnel_decisions.
    decisions: await q(`select d.stage, d.subject, t.org_id, t.mentor_id, t.link_id, t.campaign_id, t.referral_id, t.user_id, t.unique_visitor, t.occurred_at, t.source_event_id
                          from (select stage, subject, live_occurred_at, live_event_id from funnel_decisions
                                union all
                                select 'CLICKED', event_id, occurred_at, live_event_id from clicks
                                union all
                                select 'INSTALLED', event_id, occurred_at, live_event_id from installs) d
                          join referral_trackings t on t.occurred_at = d.live_occurred_at and t.event_id = d.live_event_id order by 1, 2`),
    // The funnel records net out to the same events (each retraction cancels exactly one of them).
    net: await q(`select stage, mentor_id, unique_visitor, sum(case when retracts_event_id is null then 1 else -1 end)::int n
                    from referral_trackings group by 1, 2, 3 having sum(case when retracts_event_id is null then 1 else -1 end) <> 0 order by 1, 2, 3`),
  };
}

/** The funnel records (`referral_trackings`), retractions included, as the ingest worker published them. */
export async function funnelRecords(db: Knex): Promise<ReferralEventRecorded[]> {
  const { rows } = await db.raw<{ rows: { event_id: string; org_id: string; mentor_id: string; link_id: string; campaign_id: string | null; stage: ReferralEventRecorded['stage']; unique_visitor: boolean; occurred_at: Date; retracts_event_id: string | null }[] }>(
    'select * from referral_trackings',
  );
  return rows.map((r) => ({
    eventId: r.event_id, orgId: r.org_id, mentorId: r.mentor_id, linkId: r.link_id, campaignId: r.campaign_id, referralId: null, userId: null,
    stage: r.stage, uniqueVisitor: r.unique_visitor, occurredAt: r.occurred_at.getTime(), retractsEventId: r.retracts_event_id,
  }));
}

/** Funnel counts per mentor from the funnel records (a retraction cancels its event). */
export async function funnelByMentor(db: Knex): Promise<Record<string, Record<string, number>>> {
  const { rows } = await db.raw<{ rows: { mentor_id: string; stage: string; n: string; u: string }[] }>(
    `select mentor_id, stage, sum(case when retracts_event_id is null then 1 else -1 end) n,
            coalesce(sum(case when retracts_event_id is null then 1 else -1 end) filter (where unique_visitor), 0) u
       from referral_trackings group by 1, 2 having sum(case when retracts_event_id is null then 1 else -1 end) <> 0 order by 1, 2`,
  );
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    out[r.mentor_id] ??= {};
    out[r.mentor_id]![r.stage] = Number(r.n);
    if (r.stage === 'CLICKED') out[r.mentor_id]!.UNIQUE = Number(r.u);
  }
  return out;
}

export interface FunnelRow {
  mentorId: string;
  /** The UTC hour (ISO) for hourly rows, the local day for daily rows. */
  bucket: string;
  campaignId: string | null;
  orgId: string;
  clicks: number;
  uniqueClicks: number;
  installs: number;
  registrations: number;
  activations: number;
}

const byKey = (a: FunnelRow, b: FunnelRow) => {
  const ka = JSON.stringify([a.mentorId, a.bucket, a.campaignId, a.orgId]);
  const kb = JSON.stringify([b.mentorId, b.bucket, b.campaignId, b.orgId]);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** A row of the per-organization sums (funnel_org_daily, funnel_org_monthly). */
export type OrgDayRow = Omit<FunnelRow, 'mentorId' | 'campaignId'>;
const byOrgDay = (a: OrgDayRow, b: OrgDayRow) => {
  const ka = `${a.orgId}\u0000${a.bucket}`;
  const kb = `${b.orgId}\u0000${b.bucket}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};

/** The funnel tables as test support compares them: every row, sorted by key, counts as numbers. */
export interface FunnelTables {
  hourly: FunnelRow[];
  daily: FunnelRow[];
  orgDaily: OrgDayRow[];
  /** funnel_monthly: the bucket is the month's first day. */
  monthly: FunnelRow[];
  orgMonthly: OrgDayRow[];
  /** funnel_yearly: per organization, local year and mentor, over campaigns (campaignId null, the bucket the year). */
  yearly: FunnelRow[];
}

/** Every row of the funnel tables, sorted by key, counts as numbers. */
export async function funnelSnapshot(db: Knex): Promise<FunnelTables> {
  const counts = 'clicks::int as "clicks", unique_clicks::int as "uniqueClicks", installs::int as "installs", registrations::int as "registrations", activations::int as "activations"';
  const keys = 'mentor_id as "mentorId", campaign_id as "campaignId", org_id as "orgId"';
  const hourly = (await db.raw<{ rows: FunnelRow[] }>(`select ${keys}, to_char(hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24:00:00.000"Z"') as bucket, ${counts} from funnel_hourly`)).rows;
  const daily = (await db.raw<{ rows: FunnelRow[] }>(`select ${keys}, day::text as bucket, ${counts} from funnel_daily`)).rows;
  const orgDaily = (await db.raw<{ rows: OrgDayRow[] }>(`select org_id as "orgId", day::text as bucket, ${counts} from funnel_org_daily`)).rows;
  const monthly = (await db.raw<{ rows: FunnelRow[] }>(`select ${keys}, month::text as bucket, ${counts} from funnel_monthly`)).rows;
  const orgMonthly = (await db.raw<{ rows: OrgDayRow[] }>(`select org_id as "orgId", month::text as bucket, ${counts} from funnel_org_monthly`)).rows;
  const yearly = (await db.raw<{ rows: FunnelRow[] }>(`select mentor_id as "mentorId", null as "campaignId", org_id as "orgId", year::text as bucket, ${counts} from funnel_yearly`)).rows;
  return { hourly: hourly.sort(byKey), daily: daily.sort(byKey), orgDaily: orgDaily.sort(byOrgDay), monthly: monthly.sort(byKey), orgMonthly: orgMonthly.sort(byOrgDay), yearly: yearly.sort(byKey) };
}

/** Monthly rows added up per organization, year and mentor, over campaigns (funnel_yearly). */
function perMentorYear(rows: Iterable<FunnelRow>): FunnelRow[] {
  const sums = new Map<string, FunnelRow>();
  for (const m of rows) {
    const key = JSON.stringify([m.mentorId, m.bucket.slice(0, 4), m.orgId]);
    const row = sums.get(key) ?? { mentorId: m.mentorId, bucket: m.bucket.slice(0, 4), campaignId: null, orgId: m.orgId, clicks: 0, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 };
    sums.set(key, { ...row, clicks: row.clicks + m.clicks, uniqueClicks: row.uniqueClicks + m.uniqueClicks, installs: row.installs + m.installs, registrations: row.registrations + m.registrations, activations: row.activations + m.activations });
  }
  return [...sums.values()].sort(byKey);
}

/** Rows added up per organization and bucket, over mentors and campaigns. */
function perOrg(rows: Iterable<FunnelRow>): OrgDayRow[] {
  const sums = new Map<string, OrgDayRow>();
  for (const d of rows) {
    const key = `${d.orgId}\u0000${d.bucket}`;
    const row = sums.get(key) ?? { orgId: d.orgId, bucket: d.bucket, clicks: 0, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 };
    sums.set(key, { ...row, clicks: row.clicks + d.clicks, uniqueClicks: row.uniqueClicks + d.uniqueClicks, installs: row.installs + d.installs, registrations: row.registrations + d.registrations, activations: row.activations + d.activations });
  }
  return [...sums.values()].sort(byOrgDay);
}

/**
 * The funnel tables computed independently, in plain TypeScript, from distinct events: what
 * the aggregator must arrive at whatever the delivery order, duplicates or crashes.
 */
export function expectedFunnel(events: ReferralEventRecorded[], timezoneOf: (orgId: string) => string = () => 'Europe/Oslo'): FunnelTables {
  const distinct = new Map(events.map((e) => [e.eventId, e]));
  const tables = { hourly: new Map<string, FunnelRow>(), daily: new Map<string, FunnelRow>(), monthly: new Map<string, FunnelRow>() };
  for (const e of distinct.values()) {
    const day = localDay(e.occurredAt, timezoneOf(e.orgId));
    const buckets = {
      hourly: new Date(Math.floor(e.occurredAt / 3_600_000) * 3_600_000).toISOString(),
      daily: day,
      // The month of the local day, named by its first day.
      monthly: `${day.slice(0, 7)}-01`,
    };
    for (const table of ['hourly', 'daily', 'monthly'] as const) {
      const key = JSON.stringify([e.mentorId, buckets[table], e.campaignId ?? null, e.orgId]);
      let row = tables[table].get(key);
      if (!row) {
        row = { mentorId: e.mentorId, bucket: buckets[table], campaignId: e.campaignId ?? null, orgId: e.orgId, clicks: 0, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 };
        tables[table].set(key, row);
      }
      // Written out here rather than borrowed from the aggregator, so the oracle is its own.
      // A retraction takes away what the event it names added.
      const n = e.retractsEventId ? -1 : 1;
      if (e.stage === 'CLICKED') row.clicks += n;
      if (e.stage === 'CLICKED' && e.uniqueVisitor) row.uniqueClicks += n;
      if (e.stage === 'INSTALLED') row.installs += n;
      if (e.stage === 'REGISTERED') row.registrations += n;
      if (e.stage === 'ACTIVATED') row.activations += n;
    }
  }
  return {
    hourly: [...tables.hourly.values()].sort(byKey),
    daily: [...tables.daily.values()].sort(byKey),
    orgDaily: perOrg(tables.daily.values()),
    monthly: [...tables.monthly.values()].sort(byKey),
    orgMonthly: perOrg(tables.monthly.values()),
    yearly: perMentorYear(tables.monthly.values()),
  };
}
