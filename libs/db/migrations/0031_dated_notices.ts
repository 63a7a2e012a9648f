import type { Knex } from 'knex';
import { DAY_COLUMNS, MENTOR_COLUMNS, changeTriggersSql, noticeFunctionOf, notifyMentorRowsFunctionSql } from '../change-notices.js';

/**
 * Change notices that name their table and, for the per-mentor rows by day and month, the
 * earliest day they count (issue 22; libs/db/change-notices.ts). An answer about closed months
 * (an organization's summary of last year, the months of this year before the current one) then
 * outlives the aggregator's commits of today's numbers: before, while ingest ran, every commit
 * dropped every answer about every organization it touched.
 */
const TABLES = Object.keys(MENTOR_COLUMNS) as (keyof typeof MENTOR_COLUMNS)[];
const EVENTS = ['insert', 'update', 'delete'] as const;
const dayOf = (table: string): string | null => DAY_COLUMNS[table as keyof typeof DAY_COLUMNS] ?? null;

export async function up(knex: Knex): Promise<void> {
  const made = new Set<string>();
  for (const table of TABLES) {
    const fn = noticeFunctionOf(table);
    if (!made.has(fn)) await knex.raw(notifyMentorRowsFunctionSql(MENTOR_COLUMNS[table], dayOf(table)));
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
