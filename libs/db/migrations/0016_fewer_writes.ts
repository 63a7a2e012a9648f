import type { Knex } from 'knex';

/**
 * Fewer writes per event (issue 21): indexes no route and no rule reads go, and the tables
 * the aggregator updates in place leave room on each page for the new version of a row.
 *
 * - funnel_hourly_org (org_id, hour): no query reads funnel_hourly by organization (the
 *   routes read the daily, monthly and yearly tables); every funnel event paid an index write.
 * - clicks_link_time (link_id, occurred_at): the re-decision reads a link's clicks through
 *   clicks_visitor_day (link_id leads it, and it holds exactly the clicks decided: not bots);
 *   nothing else reads clicks by link.
 * - fillfactor 85 on the funnel tables and funnel_decisions: an upsert that changes only
 *   counts (no indexed column) can then stay on its page (a HOT update, no index write).
 */
const UPDATED = ['funnel_hourly', 'funnel_daily', 'funnel_org_daily', 'funnel_monthly', 'funnel_org_monthly', 'funnel_yearly', 'funnel_decisions'];

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index funnel_hourly_org;
    drop index clicks_link_time;
    ${UPDATED.map((t) => `alter table ${t} set (fillfactor = 85);`).join('\n    ')}
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create index funnel_hourly_org on funnel_hourly (org_id, hour);
    create index clicks_link_time on clicks (link_id, occurred_at);
    ${UPDATED.map((t) => `alter table ${t} reset (fillfactor);`).join('\n    ')}
  `);
}
