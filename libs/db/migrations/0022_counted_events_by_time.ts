import type { Knex } from 'knex';

/**
 * The aggregator's counted event ids keyed by when the event happened, then by id (issue 21).
 *
 * Keyed by id alone (a sha256 in hex), every claim inserted into a random leaf of an index
 * that grows with every event ever counted (75 MB at 1.3M events): in bench part 2 on the
 * 1M-click database each new id read a page into shared buffers, dirtied it, wrote another
 * out to make room and logged a full-page image (per id claimed: 0.7 pages read, 0.7 written,
 * 0.1 full-page images; 1.1 GB of WAL for 1.2M ids, the largest writer of the run with the
 * stage log). Funnel events arrive close to the time they describe, so keyed by
 * (occurred_at, event_id) a batch's claims land on the few leaves of the recent end.
 *
 * The key says the same as before: an event id names one body (ids are deterministic and
 * never reused for another body, funnel-decisions.ts), so one id comes with one occurred_at.
 * Ids counted before this migration take their occurred_at from the stage log; an id the stage
 * log does not hold (counted from a topic another producer wrote) is kept under -infinity,
 * where the claim looks for it too (funnel-store.ts claimEvents), so it is still counted once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table funnel_counted_events_by_time (
      occurred_at timestamptz not null,
      event_id text collate "C" not null
    );
    insert into funnel_counted_events_by_time (occurred_at, event_id)
      select coalesce(t.occurred_at, '-infinity'), c.event_id
        from funnel_counted_events c left join referral_trackings t on t.event_id = c.event_id
       order by 1, 2;
    drop table funnel_counted_events;
    alter table funnel_counted_events_by_time rename to funnel_counted_events;
    alter table funnel_counted_events add constraint funnel_counted_events_pkey primary key (occurred_at, event_id);
    analyze funnel_counted_events;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create table funnel_counted_events_by_id (event_id text collate "C" primary key);
    insert into funnel_counted_events_by_id (event_id) select event_id from funnel_counted_events on conflict do nothing;
    drop table funnel_counted_events;
    alter table funnel_counted_events_by_id rename to funnel_counted_events;
    alter index funnel_counted_events_by_id_pkey rename to funnel_counted_events_pkey;
  `);
}
