import type { Knex } from 'knex';
import { AGGREGATE_TABLES, MENTOR_COLUMNS, NOTIFY_AGGREGATES_FUNCTION_SQL, changeTriggersSql, notifyMentorsFunctionSql } from '../change-notices.js';

/**
 * Change notices that name mentors (issue 22): a statement on a table kept per mentor
 * (funnel_daily, funnel_monthly, funnel_yearly, referrals; registrations, which give a
 * mentor's name) names the mentors it touched, and one on an organization's own totals
 * (funnel_org_daily, funnel_org_monthly) says only that (libs/db/change-notices.ts). The query
 * service's answers about one mentor, or a coordinator's mentors, then outlive a commit about
 * other mentors of the organization: before, every aggregator commit dropped every answer of
 * each organization it touched, so while ingest ran nearly every request was a miss.
 */
const TABLES = [...Object.keys(MENTOR_COLUMNS), ...AGGREGATE_TABLES];
const EVENTS = ['insert', 'update', 'delete'] as const;

export async function up(knex: Knex): Promise<void> {
  for (const column of new Set(Object.values(MENTOR_COLUMNS))) await knex.raw(notifyMentorsFunctionSql(column));
  await knex.raw(NOTIFY_AGGREGATES_FUNCTION_SQL);
  for (const table of TABLES) {
    for (const event of EVENTS) await knex.raw(`drop trigger if exists ${table}_changed_${event} on ${table}`);
    for (const sql of changeTriggersSql(table)) await knex.raw(sql);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    for (const event of EVENTS) await knex.raw(`drop trigger if exists ${table}_changed_${event} on ${table}`);
    for (const sql of changeTriggersSql(table, table, 'rt_notify_changed_orgs')) await knex.raw(sql);
  }
  for (const column of new Set(Object.values(MENTOR_COLUMNS))) await knex.raw(`drop function if exists rt_notify_changed_mentors_${column}()`);
  await knex.raw('drop function if exists rt_notify_changed_aggregates()');
}
