import type { Knex } from 'knex';

/**
 * Decisions that revise themselves (SPEC §4, "Order and replay"). Every ingest decision is
 * recomputed from the stored facts whenever a new fact can change it, and the difference to
 * what was published goes out as a retraction plus a corrected event.
 *
 * - funnel_decisions: per subject (a click or install event, or a user for registration and
 *   activation) the revision of its last issued event and the event that counts now.
 * - referral_trackings.retracts_event_id: the stage log now holds retractions too.
 * - erased_devices: keyed pseudonyms of erased devices, so a late event from one is matched
 *   without storing its device id again.
 * - ingest_subject_locks: one row per subject key; batches lock the rows of the links,
 *   devices and users they touch (in key order) instead of one global lock. Unlogged: the rows
 *   are recreated on demand after a crash.
 * - unique_visits goes: the unique click is decided from the clicks of a visitor-day itself.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table referral_trackings add column retracts_event_id text;
    create table funnel_decisions (
      stage text not null,
      subject text not null,
      revision integer not null,
      live_event_id text,
      primary key (stage, subject)
    );
    insert into funnel_decisions (stage, subject, revision, live_event_id)
    select stage, case when stage in ('CLICKED', 'INSTALLED') then source_event_id else user_id end, 0, event_id
      from referral_trackings;
    create table erased_devices (
      pseudonym text primary key,
      erased_at timestamptz not null default now()
    );
    create unlogged table ingest_subject_locks (
      key bigint primary key
    );
    drop table unique_visits;
    -- Clicks erased before this migration lost their visitor hash: each becomes its own visitor.
    update clicks set visitor_hash = 'event:' || event_id where visitor_hash is null;
    alter table clicks alter column visitor_hash set not null;
    drop index clicks_pending;
    create index clicks_visitor_day on clicks (link_id, visitor_hash, ((occurred_at at time zone 'UTC')::date)) where not is_bot;
    drop index clicks_device;
    create index clicks_device on clicks (device_id, occurred_at) where device_id is not null;
    drop index installs_pending;
    drop index installs_unattributed;
    create index installs_link on installs (link_id) where link_id is not null;
    drop index registrations_pending;
    drop index registrations_unattributed;
    create index registrations_link on registrations (link_id) where link_id is not null;
    create index registrations_device on registrations (device_id) where device_id is not null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index if exists registrations_device, registrations_link, installs_link, clicks_visitor_day, clicks_device;
    create index clicks_device on clicks (device_id, occurred_at) where device_id is not null and status = 'counted';
    create index registrations_pending on registrations (link_id) where status = 'pending';
    create index registrations_unattributed on registrations (device_id) where status = 'unattributed' and device_id is not null;
    create index installs_pending on installs (link_id) where status = 'pending';
    create index installs_unattributed on installs (device_id) where status = 'unattributed';
    create index clicks_pending on clicks (link_id) where status = 'pending';
    alter table clicks alter column visitor_hash drop not null;
    create table unique_visits (
      link_id text not null, visitor_hash text not null, day date not null, event_id text not null,
      primary key (link_id, visitor_hash, day)
    );
    drop table if exists ingest_subject_locks, erased_devices, funnel_decisions;
    alter table referral_trackings drop column retracts_event_id;
  `);
}
