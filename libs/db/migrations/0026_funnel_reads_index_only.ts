import type { Knex } from 'knex';

/**
 * The indexes the routes read funnel_daily and funnel_monthly through carry the counts
 * (issue 22), so a read is an index-only scan instead of a heap page per row.
 *
 * A mentor's daily rows are written on the day they count, beside every other mentor's of
 * that day, so a 90-day series visited about a hundred heap pages for a hundred rows, and an
 * organization's month of edge days thousands. Measured on a copy of bench part 3's database
 * (10M clicks, 2.9M daily rows), prepared statements, 8 clients on two cores: a mentor's 90
 * days 3,817 -> 11,514-13,212 reads/s; an organization's 31 days grouped by mentor 117 ->
 * 1,700-2,388 reads/s.
 *
 * The price is on the aggregator's upsert: a daily row whose counts change can no longer stay
 * on its page without touching the indexes (a HOT update needs every indexed column unchanged,
 * INCLUDE columns too), so each changed row writes an entry in both indexes. Same copy, one
 * client, 150 rows per statement: 1.66 -> 2.74-2.90 ms (about 7 us a row). funnel_monthly's
 * rows paid that already (funnel_monthly_org has carried the counts since 0006), so covering
 * its key costs only wider entries.
 */
const COUNTS = 'clicks, unique_clicks, installs, registrations, activations';

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table funnel_daily drop constraint funnel_daily_key,
      add constraint funnel_daily_key unique nulls not distinct (mentor_id, day, campaign_id, org_id) include (${COUNTS});
    drop index funnel_daily_org;
    create index funnel_daily_org on funnel_daily (org_id, day) include (mentor_id, campaign_id, ${COUNTS});
    alter table funnel_monthly drop constraint funnel_monthly_key,
      add constraint funnel_monthly_key unique nulls not distinct (mentor_id, month, campaign_id, org_id) include (${COUNTS});
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table funnel_daily drop constraint funnel_daily_key,
      add constraint funnel_daily_key unique nulls not distinct (mentor_id, day, campaign_id, org_id);
    drop index funnel_daily_org;
    create index funnel_daily_org on funnel_daily (org_id, day);
    alter table funnel_monthly drop constraint funnel_monthly_key,
      add constraint funnel_monthly_key unique nulls not distinct (mentor_id, month, campaign_id, org_id);
  `);
}
