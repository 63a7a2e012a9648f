import type { Knex } from 'knex';

/**
 * One decision store for clicks (issue 21): what was last published for a click (the revision
 * of its last funnel event and the event that counts now) is kept on the click's own row,
 * written by the statement that stores the click or its decision, instead of in a
 * `funnel_decisions` row per click. Clicks are the most numerous subject: each new click wrote
 * a decision row and a key at a random place of an index as large as all history (1.7 GB at
 * 10M clicks).
 *
 * - clicks.revision: the revision of the click's last CLICKED event, null while none was
 *   published (bots, clicks never counted);
 * - clicks.live_event_id: the CLICKED event that counts now, or null. Its funnel record is found
 *   at the click's own time (a CLICKED event takes the click's occurred_at), so the key of the
 *   record is (occurred_at, live_event_id).
 *
 * The columns are not indexed, so a changed decision can stay on its page (HOT). Installs and
 * users keep their decisions in funnel_decisions. A CLICKED decision whose live record is not
 * at its click's time cannot be moved without losing the record it retracts later; none is
 * ever written so, and the migration stops with the count if it finds any.
 */
export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: { n: number }[] }>(`
    select count(*)::int n from funnel_decisions d join clicks c on c.event_id = d.subject
     where d.stage = 'CLICKED' and d.live_event_id is not null and d.live_occurred_at is distinct from c.occurred_at`);
  const misplaced = rows[0]?.n ?? 0;
  if (misplaced > 0) throw new Error(`0029: ${misplaced} CLICKED decisions have a live event at another time than their click; not moved`);
  await knex.raw(`
    alter table clicks add column revision integer, add column live_event_id text collate "C";
    update clicks c set revision = d.revision, live_event_id = d.live_event_id
      from funnel_decisions d where d.stage = 'CLICKED' and d.subject = c.event_id;
    delete from funnel_decisions d where d.stage = 'CLICKED' and exists (select 1 from clicks c where c.event_id = d.subject);
    analyze clicks, funnel_decisions;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    insert into funnel_decisions (stage, subject, revision, live_event_id, live_occurred_at)
    select 'CLICKED', event_id, revision, live_event_id, case when live_event_id is not null then occurred_at end
      from clicks where revision is not null
    on conflict (stage, subject) do update set revision = excluded.revision, live_event_id = excluded.live_event_id, live_occurred_at = excluded.live_occurred_at;
    alter table clicks drop column revision, drop column live_event_id;
  `);
}
