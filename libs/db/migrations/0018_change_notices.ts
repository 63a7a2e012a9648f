import type { Knex } from 'knex';
import { notifyFunctionSql, WATCHED_TABLES, changeTriggersSql } from '../change-notices.js';

/**
 * Change notices (issue 22): statement-level triggers on every table a cached answer of the
 * query service reads send the organizations a committed statement touched (see
 * libs/db/change-notices.ts), so its answer cache drops what changed and nothing else.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(notifyFunctionSql({ scopes: false }));
  for (const table of WATCHED_TABLES) for (const sql of changeTriggersSql(table, table, 'rt_notify_changed_orgs')) await knex.raw(sql);
}

export async function down(knex: Knex): Promise<void> {
  for (const table of WATCHED_TABLES) for (const event of ['insert', 'update', 'delete']) await knex.raw(`drop trigger if exists ${table}_changed_${event} on ${table}`);
  await knex.raw('drop function if exists rt_notify_changed_orgs()');
}
