import type { Knex } from 'knex';

/**
 * The materialized funnel the query service reads, kept by the aggregator worker.
 *
 * funnel_hourly holds UTC hours (SPEC §4). funnel_daily holds days cut in the organization's
 * timezone at aggregation time from each event's own instant, which stays exact for zones
 * whose offset is not a whole number of hours; weeks, months and years are unions of those
 * days. Both are written in the same transaction as the consumer positions and the set of
 * counted event ids, so each ReferralEventRecorded counts exactly once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table funnel_hourly (
      org_id text not null,
      mentor_id text not null,
      campaign_id text,
      hour timestamptz not null,
      clicks bigint not null default 0,
      unique_clicks bigint not null default 0,
      installs bigint not null default 0,
      registrations bigint not null default 0,
      activations bigint not null default 0,
      constraint funnel_hourly_key unique nulls not distinct (mentor_id, hour, campaign_id, org_id)
    );
    create index funnel_hourly_org on funnel_hourly (org_id, hour);

    create table funnel_daily (
      org_id text not null,
      mentor_id text not null,
      campaign_id text,
      day date not null,
      clicks bigint not null default 0,
      unique_clicks bigint not null default 0,
      installs bigint not null default 0,
      registrations bigint not null default 0,
      activations bigint not null default 0,
      constraint funnel_daily_key unique nulls not distinct (mentor_id, day, campaign_id, org_id)
    );
    create index funnel_daily_org on funnel_daily (org_id, day);

    -- Every ReferralEventRecorded already counted: a re-published duplicate meets the key.
    create table funnel_counted_events (
      event_id text primary key
    );

    -- Where the aggregator is in each partition of its topic: the next offset to apply.
    create table funnel_positions (
      topic text not null,
      partition integer not null,
      next_offset bigint not null,
      updated_at timestamptz not null default now(),
      primary key (topic, partition)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop table if exists funnel_positions, funnel_counted_events, funnel_daily, funnel_hourly');
}
