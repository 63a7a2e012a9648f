import type { Knex } from 'knex';

/**
 * The stage log keyed by when each event happened, then by id (issue 21), as the counted ids
 * are since 0022. Keyed by id alone (a sha256 in hex), every funnel event the ingest worker
 * logged went to a random leaf of an index as large as the log's history: in bench part 2 on
 * the 1M-click database the insert was the largest writer of the run (per event 0.6 pages
 * read, 0.6 written out to make room, 0.1 full-page images; 1.4 GB of WAL for 1.2M events).
 * Keyed by (occurred_at, event_id), a batch's events land on the recent end.
 *
 * A stage-log row is then found by both: the live event of each decision
 * (funnel_decisions.live_occurred_at, new) and the outbox's rows (ingest_outbox.occurred_ats,
 * new, beside event_ids). The pair says what the id says: an id names one body, so one
 * occurred_at.
 *
 * referral_trackings_referral goes: no statement reads the stage log by referral.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table funnel_decisions add column live_occurred_at timestamptz;
    update funnel_decisions d set live_occurred_at = t.occurred_at from referral_trackings t where t.event_id = d.live_event_id;
    alter table ingest_outbox add column occurred_ats timestamptz[];
    update ingest_outbox o set occurred_ats = array(
      select t.occurred_at from unnest(o.event_ids) with ordinality as e(id, n) left join referral_trackings t on t.event_id = e.id order by e.n);
    alter table ingest_outbox alter column occurred_ats set not null;
    alter table referral_trackings drop constraint referral_trackings_pkey;
    alter table referral_trackings add constraint referral_trackings_pkey primary key (occurred_at, event_id);
    drop index referral_trackings_referral;
    analyze funnel_decisions;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create index referral_trackings_referral on referral_trackings (referral_id) where referral_id is not null;
    alter table referral_trackings drop constraint referral_trackings_pkey;
    alter table referral_trackings add constraint referral_trackings_pkey primary key (event_id);
    alter table ingest_outbox drop column occurred_ats;
    alter table funnel_decisions drop column live_occurred_at;
  `);
}
