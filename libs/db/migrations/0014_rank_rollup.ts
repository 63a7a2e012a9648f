import type { Knex } from 'knex';

/**
 * Two reads of the mentor's annual summary and of platform growth, made small (issue 22).
 *
 * invite_links by organization: the annual summary lists an organization's mentors from its
 * links, and platform growth lists the organizations that have links; nothing indexed
 * invite_links by organization, so each request read every organization's links. With
 * (org_id, mentor_id) the first is an index-only range of the organization's links and the
 * second a loose index scan (one probe per organization).
 *
 * funnel_yearly: the monthly rows summed per organization, local year and mentor (over
 * campaigns). The annual summary placed one mentor in the organization by reading the org's
 * whole year of monthly rows (12 per mentor and campaign) and grouping them per request; here
 * the year is one row per mentor, and a rank is a count of the rows above one. The aggregator
 * adds to it in the statement that writes the daily and monthly tables, the rebuild
 * recomputes it with them; here it is backfilled from the monthly rows.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index invite_links_org_mentor on invite_links (org_id, mentor_id);
    analyze invite_links;

    create table funnel_yearly (
      org_id text not null,
      year integer not null,
      mentor_id text not null,
      clicks bigint not null default 0,
      unique_clicks bigint not null default 0,
      installs bigint not null default 0,
      registrations bigint not null default 0,
      activations bigint not null default 0,
      constraint funnel_yearly_key primary key (org_id, year, mentor_id)
    );
    insert into funnel_yearly (org_id, year, mentor_id, clicks, unique_clicks, installs, registrations, activations)
    select org_id, extract(year from month)::int, mentor_id, sum(clicks), sum(unique_clicks), sum(installs), sum(registrations), sum(activations)
      from funnel_monthly group by 1, 2, 3;
    analyze funnel_yearly;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists funnel_yearly; drop index if exists invite_links_org_mentor');
}
