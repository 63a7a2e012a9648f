import type { Knex } from 'knex';

/**
 * funnel_org_daily: the daily table summed over mentors and campaigns, one row per
 * organization and local day. Growth across organizations reads it instead of every mentor's
 * daily rows (at 10M clicks a year of funnel_daily is 1.4M rows; this is 50 × 365). The
 * aggregator adds to it in the same statement as to funnel_daily, the rebuild recomputes it
 * with the others; here it is backfilled from funnel_daily.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table funnel_org_daily (
      org_id text not null,
      day date not null,
      clicks bigint not null default 0,
      unique_clicks bigint not null default 0,
      installs bigint not null default 0,
      registrations bigint not null default 0,
      activations bigint not null default 0,
      constraint funnel_org_daily_key primary key (org_id, day)
    );
    insert into funnel_org_daily (org_id, day, clicks, unique_clicks, installs, registrations, activations)
    select org_id, day, sum(clicks), sum(unique_clicks), sum(installs), sum(registrations), sum(activations)
      from funnel_daily group by 1, 2;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists funnel_org_daily');
}
