import type { Knex } from 'knex';

/**
 * Every id, key and code column compares its bytes (`COLLATE "C"`) instead of through the
 * database's locale (issue 21). An id has no linguistic order, but under any collation other
 * than "C" (Postgres 15 treats even `C.UTF-8` as a locale) each comparison in a B-tree, of which
 * an insert or a probe makes a dozen per index, copies both strings to terminate them and calls
 * strcoll. In a `perf` profile of the ingest worker's Postgres backends catching up, text
 * comparisons were about a seventh of their CPU; inserting 400k sha256-hex ids into a table
 * shaped like the fact tables took 21% less time with byte comparison, probing them 13% less.
 *
 * Orders do not change where the database's collation is `C.UTF-8` (code point order is byte
 * order in UTF-8); elsewhere a cursor over ids follows byte order, consistently with its
 * index. Names (display_name) and time zones keep the database's collation. A value compared
 * with these columns (a parameter, an unnest) takes their collation, so every index is still
 * used. No table is rewritten; the indexes over the columns are rebuilt.
 */
const KEYS: Record<string, string[]> = {
  clicks: ['event_id', 'link_id', 'visitor_hash', 'device_id', 'platform', 'status'],
  installs: ['event_id', 'device_id', 'link_id', 'attributed_link_id', 'platform', 'status'],
  registrations: ['event_id', 'user_id', 'org_id', 'device_id', 'link_id', 'status'],
  logins: ['event_id', 'user_id'],
  invite_links: ['link_id', 'org_id', 'mentor_id', 'campaign_id'],
  coordinator_scopes: ['coordinator_id', 'org_id'],
  org_settings: ['org_id'],
  erased_devices: ['pseudonym'],
  erased_users: ['user_id', 'org_id'],
  referrals: ['referral_id', 'user_id', 'org_id', 'mentor_id', 'link_id', 'campaign_id', 'device_id', 'registration_event_id', 'attributed_by'],
  referral_trackings: ['event_id', 'org_id', 'mentor_id', 'link_id', 'campaign_id', 'referral_id', 'user_id', 'stage', 'source_event_id', 'retracts_event_id'],
  funnel_decisions: ['stage', 'subject', 'live_event_id'],
  funnel_counted_events: ['event_id'],
  funnel_positions: ['topic'],
  funnel_hourly: ['mentor_id', 'campaign_id', 'org_id'],
  funnel_daily: ['mentor_id', 'campaign_id', 'org_id'],
  funnel_monthly: ['mentor_id', 'campaign_id', 'org_id'],
  funnel_yearly: ['mentor_id', 'org_id'],
  funnel_org_daily: ['org_id'],
  funnel_org_monthly: ['org_id'],
};

async function collate(knex: Knex, collation: string): Promise<void> {
  for (const [table, columns] of Object.entries(KEYS)) {
    await knex.raw(`alter table ${table} ${columns.map((c) => `alter column ${c} type text collate ${collation}`).join(', ')}`);
    await knex.raw(`analyze ${table}`);
  }
}

export const up = (knex: Knex): Promise<void> => collate(knex, '"C"');
export const down = (knex: Knex): Promise<void> => collate(knex, '"default"');
