import type { Knex } from 'knex';
import { MENTOR_COLUMNS, changeTriggersSql, noticeFunctionOf, notifyMentorRowsFunctionSql } from '../change-notices.js';

/**
 * Change notices of the tables kept per mentor that name their table and send a list of
 * mentors too long for one notice in several, each of whole organizations (issue 22;
 * libs/db/change-notices.ts). 0028 named the organizations instead, which drops every answer
 * about them: in two loaded rounds of part 3 that came 33 and 50 times, once the aggregator's
 * batches grew.
 */
const TABLES = Object.keys(MENTOR_COLUMNS) as (keyof typeof MENTOR_COLUMNS)[];
const EVENTS = ['insert', 'update', 'delete'] as const;

export async function up(knex: Knex): Promise<void> {
  const made = new Set<string>();
  for (const table of TABLES) {
    const fn = noticeFunctionOf(table);
    if (!made.has(fn)) await knex.raw(notifyMentorRowsFunctionSql(MENTOR_COLUMNS[table]));
    made.add(fn);
    for (const event of EVENTS) await knex.raw(`drop trigger if exists ${table}_changed_${event} on ${table}`);
    for (const sql of changeTriggersSql(table, table, fn)) await knex.raw(sql);
  }
}

export async function down(knex: Knex): Promise<void> {
  for (const table of TABLES) {
    for (const event of EVENTS) await knex.raw(`drop trigger if exists ${table}_changed_${event} on ${table}`);
    for (const sql of changeTriggersSql(table, table, `rt_notify_changed_mentors_${MENTOR_COLUMNS[table]}`)) await knex.raw(sql);
  }
  for (const fn of new Set(TABLES.map(noticeFunctionOf))) await knex.raw(`drop function if exists ${fn}()`);
}
