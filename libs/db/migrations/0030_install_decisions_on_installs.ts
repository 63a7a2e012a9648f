import type { Knex } from 'knex';

/**
 * Installs keep their published decision on their own row too (issue 21), as clicks do since
 * 0029: installs.revision (the revision of the install's last INSTALLED event, null while none
 * was published) and installs.live_event_id (the event that counts now, at the install's own
 * time). A new install is decided in the transaction that stores it and its row is updated
 * with its decision anyway, so the publication rides on that update instead of a
 * `funnel_decisions` row and key. funnel_decisions keeps the users' REGISTERED and ACTIVATED.
 * As in 0029, a decision whose live record is not at its install's time stops the migration.
 */
export async function up(knex: Knex): Promise<void> {
  const { rows } = await knex.raw<{ rows: { n: number }[] }>(`
    select count(*)::int n from funnel_decisions d join installs i on i.event_id = d.subject
     where d.stage = 'INSTALLED' and d.live_event_id is not null and d.live_occurred_at is distinct from i.occurred_at`);
  const misplaced = rows[0]?.n ?? 0;
  if (misplaced > 0) throw new Error(`0030: ${misplaced} INSTALLED decisions have a live event at another time than their install; not moved`);
  await knex.raw(`
    alter table installs add column revision integer, add column live_event_id text collate "C";
    update installs i set revision = d.revision, live_event_id = d.live_event_id
      from funnel_decisions d where d.stage = 'INSTALLED' and d.subject = i.event_id;
    delete from funnel_decisions d where d.stage = 'INSTALLED' and exists (select 1 from installs i where i.event_id = d.subject);
    analyze installs, funnel_decisions;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    insert into funnel_decisions (stage, subject, revision, live_event_id, live_occurred_at)
    select 'INSTALLED', event_id, revision, live_event_id, case when live_event_id is not null then occurred_at end
      from installs where revision is not null
    on conflict (stage, subject) do update set revision = excluded.revision, live_event_id = excluded.live_event_id, live_occurred_at = excluded.live_occurred_at;
    alter table installs drop column revision, drop column live_event_id;
  `);
}
