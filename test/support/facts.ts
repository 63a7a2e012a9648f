import type { Knex } from '../../libs/db/knex.js';

/**
 * Every fact the ingest worker derives, without bookkeeping columns (arrival times, publish
 * marks): two runs over the same events must produce exactly this, row for row.
 */
export async function factsSnapshot(db: Knex) {
  const q = async (sql: string) => (await db.raw<{ rows: unknown[] }>(sql)).rows;
  return {
    links: await q('select link_id, org_id, mentor_id, campaign_id, expires_at, revoked_at from invite_links order by 1'),
    scopes: await q('select coordinator_id, org_id, mentor_ids, updated_at from coordinator_scopes order by 1'),
    clicks: await q('select event_id, link_id, status, unique_visitor, is_bot, visitor_hash, device_id from clicks order by 1'),
    uniqueVisits: await q('select link_id, visitor_hash, day::text, event_id from unique_visits order by 1, 2, 3'),
    installs: await q('select event_id, status, attributed_link_id from installs order by 1'),
    registrations: await q('select event_id, status, display_name from registrations order by 1'),
    logins: await q('select event_id from logins order by 1'),
    referrals: await q('select * from referrals order by 1'),
    trackings: await q('select event_id, org_id, mentor_id, link_id, campaign_id, referral_id, user_id, stage, unique_visitor, occurred_at, source_event_id from referral_trackings order by 1'),
  };
}

/** Funnel counts per mentor from the stage log. */
export async function funnelByMentor(db: Knex): Promise<Record<string, Record<string, number>>> {
  const { rows } = await db.raw<{ rows: { mentor_id: string; stage: string; n: string; u: string }[] }>(
    `select mentor_id, stage, count(*) n, count(*) filter (where unique_visitor) u from referral_trackings group by 1, 2 order by 1, 2`,
  );
  const out: Record<string, Record<string, number>> = {};
  for (const r of rows) {
    out[r.mentor_id] ??= {};
    out[r.mentor_id]![r.stage] = Number(r.n);
    if (r.stage === 'CLICKED') out[r.mentor_id]!.UNIQUE = Number(r.u);
  }
  return out;
}
