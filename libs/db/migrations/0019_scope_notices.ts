import type { Knex } from 'knex';
import { NOTIFY_TRUNCATED_FUNCTION_SQL, WATCHED_TABLES, notifyFunctionSql, truncateTriggerSql } from '../change-notices.js';

/**
 * Scope notices (issue 22): the change-notice trigger function also tells SCOPE_CHANNEL of
 * writes to the tables scope decisions read, so the query service can keep those decisions'
 * facts between requests (libs/db/change-notices.ts). Same triggers, same payload. And a
 * TRUNCATE of a watched table, which fires none of them, now says everything changed.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(notifyFunctionSql({ scopes: true }));
  await knex.raw(NOTIFY_TRUNCATED_FUNCTION_SQL);
  for (const table of WATCHED_TABLES) await knex.raw(truncateTriggerSql(table));
}

export async function down(knex: Knex): Promise<void> {
  for (const table of WATCHED_TABLES) await knex.raw(`drop trigger if exists ${table}_truncated on ${table}`);
  await knex.raw('drop function if exists rt_notify_truncated()');
  await knex.raw(notifyFunctionSql({ scopes: false }));
}
