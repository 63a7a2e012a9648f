import type { Knex } from 'knex';

/**
 * funnel_monthly and funnel_org_monthly: the daily tables summed per local month (the month of
 * the local day, so in the organization's timezone as the days are). funnel_monthly keeps the
 * daily key (mentor, month, campaign, org); funnel_org_monthly one row per organization and
 * month. A route over a range of days reads the whole months in it here and only the days of
 * its partial first and last months from the daily tables (libs/funnel/range-cut.ts): a year
 * is 12 rows per mentor and campaign instead of up to 365. The aggregator adds to them in the
 * same statement as to the daily tables, the rebuild recomputes them with the others; here
 * they are backfilled from the daily tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table funnel_monthly (
      org_id text not null,
      mentor_id text not null,
      campaign_id text,
      month date not null,
      clicks bigint not null default 0,
      unique_clicks bigint not null default 0,
      installs bigint not null default 0,
      registrations bigint not null default 0,
      activations bigint not null default 0,
      constraint funnel_monthly_key unique nulls not distinct (mentor_id, month, campaign_id, org_id),
      constraint funnel_monthly_first_day check (extract(day from month) = 1)
    );
    -- An organization's months are read whole (org summary, rank in the org): the index carries
    -- the row, so that read touches a few index pages instead of a heap page per few rows.
    create index funnel_monthly_org on funnel_monthly (org_id, month)
      include (mentor_id, campaign_id, clicks, unique_clicks, installs, registrations, activations);

    create table funnel_org_monthly (
      org_id text not null,
      month date not null,
      clicks bigint not null default 0,
      unique_clicks bigint not null default 0,
      installs bigint not null default 0,
      registrations bigint not null default 0,
      activations bigint not null default 0,
      constraint funnel_org_monthly_key primary key (org_id, month),
      constraint funnel_org_monthly_first_day check (extract(day from month) = 1)
    );

    insert into funnel_monthly (mentor_id, month, campaign_id, org_id, clicks, unique_clicks, installs, registrations, activations)
    select mentor_id, date_trunc('month', day)::date, campaign_id, org_id, sum(clicks), sum(unique_clicks), sum(installs), sum(registrations), sum(activations)
      from funnel_daily group by 1, 2, 3, 4;
    insert into funnel_org_monthly (org_id, month, clicks, unique_clicks, installs, registrations, activations)
    select org_id, date_trunc('month', day)::date, sum(clicks), sum(unique_clicks), sum(installs), sum(registrations), sum(activations)
      from funnel_org_daily group by 1, 2;
    analyze funnel_monthly;
    analyze funnel_org_monthly;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists funnel_org_monthly, funnel_monthly');
}
