import type { Knex } from 'knex';

/**
 * Facts written by the ingest worker. Every input event is keyed by its eventId, so a
 * redelivered or replayed event meets a primary key and changes nothing. No table holds a raw
 * IP address: visitors are stored as a keyed hash.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    -- Identifies this database to caches outside it (Redis keys carry it), so a recreated
    -- database never trusts markers written for an older one.
    create table store_identity (
      singleton boolean primary key default true check (singleton),
      epoch uuid not null default gen_random_uuid()
    );
    insert into store_identity default values;

    create table org_settings (
      org_id text primary key,
      timezone text not null
    );

    create table invite_links (
      link_id text primary key,
      org_id text not null,
      mentor_id text not null,
      campaign_id text,
      created_at timestamptz not null,
      expires_at timestamptz,
      revoked_at timestamptz,
      updated_at timestamptz not null default now()
    );
    create index invite_links_mentor on invite_links (mentor_id);

    create table coordinator_scopes (
      coordinator_id text primary key,
      org_id text not null,
      mentor_ids text[] not null,
      updated_at timestamptz not null
    );

    -- Click status: counted (in mentor numbers), bot (kept, never counted), rejected (link
    -- inactive at occurredAt), pending (link not seen yet; resolved when it arrives).
    create table clicks (
      event_id text primary key,
      link_id text not null,
      occurred_at timestamptz not null,
      visitor_hash text,
      device_id text,
      platform text,
      is_bot boolean not null,
      status text not null check (status in ('counted', 'bot', 'rejected', 'pending')),
      unique_visitor boolean not null default false,
      recorded_at timestamptz not null default now()
    );
    create index clicks_pending on clicks (link_id) where status = 'pending';
    create index clicks_device on clicks (device_id, occurred_at) where device_id is not null and status = 'counted';
    create index clicks_link_time on clicks (link_id, occurred_at);

    -- First click of a visitor on a link per UTC day: the unique-click rule.
    create table unique_visits (
      link_id text not null,
      visitor_hash text not null,
      day date not null,
      event_id text not null,
      primary key (link_id, visitor_hash, day)
    );

    -- Install status: counted, unattributed (no link found yet), pending (its link not seen yet).
    create table installs (
      event_id text primary key,
      device_id text,
      link_id text,
      platform text,
      occurred_at timestamptz not null,
      attributed_link_id text,
      status text not null check (status in ('counted', 'unattributed', 'pending')),
      recorded_at timestamptz not null default now()
    );
    create index installs_device on installs (device_id, occurred_at) where device_id is not null;
    create index installs_pending on installs (link_id) where status = 'pending';
    create index installs_unattributed on installs (device_id) where status = 'unattributed';

    -- Every registration delivery, earliest per user decides attribution.
    create table registrations (
      event_id text primary key,
      user_id text not null,
      org_id text not null,
      link_id text,
      device_id text,
      display_name text,
      occurred_at timestamptz not null,
      status text not null check (status in ('attributed', 'pending', 'unattributed', 'self_referral', 'superseded')),
      recorded_at timestamptz not null default now()
    );
    create index registrations_user on registrations (user_id, occurred_at);
    create index registrations_pending on registrations (link_id) where status = 'pending';
    create index registrations_unattributed on registrations (device_id) where status = 'unattributed' and device_id is not null;

    create table logins (
      event_id text primary key,
      user_id text not null,
      occurred_at timestamptz not null
    );
    create index logins_user on logins (user_id, occurred_at);

    -- One referral per attributed user (RecruitProfile / ConversionRecord).
    create table referrals (
      referral_id text primary key,
      user_id text not null unique,
      org_id text not null,
      mentor_id text not null,
      link_id text not null,
      campaign_id text,
      attributed_by text not null check (attributed_by in ('LINK', 'DEVICE')),
      display_name text,
      device_id text,
      clicked_at timestamptz,
      installed_at timestamptz,
      registered_at timestamptz not null,
      activated_at timestamptz,
      registration_event_id text not null
    );
    create index referrals_mentor on referrals (mentor_id, registered_at desc, referral_id);
    create index referrals_org on referrals (org_id, registered_at desc, referral_id);

    -- The referral stage log (the seed's referral_trackings) and the outbox of
    -- ReferralEventRecorded: a row is written in the same transaction as the fact it counts,
    -- published after commit, and marked. event_id is deterministic, so a re-publish after a
    -- crash carries the same id.
    create table referral_trackings (
      event_id text primary key,
      org_id text not null,
      mentor_id text not null,
      link_id text not null,
      campaign_id text,
      referral_id text,
      user_id text,
      stage text not null check (stage in ('CLICKED', 'INSTALLED', 'REGISTERED', 'ACTIVATED')),
      unique_visitor boolean not null,
      occurred_at timestamptz not null,
      source_event_id text not null,
      published_at timestamptz,
      created_at timestamptz not null default now()
    );
    create index referral_trackings_unpublished on referral_trackings (created_at) where published_at is null;
    create index referral_trackings_referral on referral_trackings (referral_id) where referral_id is not null;

    create table erased_users (
      user_id text primary key,
      org_id text not null,
      erased_at timestamptz not null
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop table if exists erased_users, referral_trackings, referrals, logins, registrations,
      installs, unique_visits, clicks, coordinator_scopes, invite_links, org_settings, store_identity;
  `);
}
