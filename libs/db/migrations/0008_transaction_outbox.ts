import type { Knex } from 'knex';

/**
 * The outbox becomes one row per ingest transaction instead of a mark on every stage-log row.
 * ingest_outbox holds the event ids a committed transaction put in the stage log and has not
 * yet seen acknowledged by the broker; the worker deletes the row once they are. Marking each
 * referral_trackings row published rewrote the row (a new version of a wide row and of its
 * indexes, never a HOT update, since the partial index read published_at): about as much
 * write as the row itself, per funnel event. Rows not yet published move over, one row for
 * all of them.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table ingest_outbox (
      id bigserial primary key,
      event_ids text[] not null,
      created_at timestamptz not null default now()
    );
    insert into ingest_outbox (event_ids, created_at)
    select array_agg(event_id order by created_at, event_id), min(created_at) from referral_trackings where published_at is null
    having count(*) > 0;
    drop index referral_trackings_unpublished;
    alter table referral_trackings drop column published_at;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table referral_trackings add column published_at timestamptz;
    update referral_trackings set published_at = created_at
     where event_id not in (select unnest(event_ids) from ingest_outbox);
    create index referral_trackings_unpublished on referral_trackings (created_at) where published_at is null;
    drop table ingest_outbox;
  `);
}
