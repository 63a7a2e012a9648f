import type { Knex } from 'knex';

/**
 * An organization's timezone must be one Postgres knows: the aggregator cuts local days with
 * it, and a misspelt zone would otherwise fail every batch of that org's events. The check
 * evaluates the zone, so an unknown one is refused when it is written.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table org_settings add constraint org_settings_timezone_known
      check ((timestamptz '2000-01-01 00:00:00+00' at time zone timezone) is not null)
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table org_settings drop constraint if exists org_settings_timezone_known');
}
