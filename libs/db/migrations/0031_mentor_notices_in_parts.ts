import type { Knex } from 'knex';
import { MENTOR_COLUMNS, notifyMentorsFunctionSql, notifyMentorsInPartsFunctionSql } from '../change-notices.js';

/**
 * Change notices of the tables kept per mentor send a list of mentors too long for one notice
 * in several, each of whole organizations (issue 22; libs/db/change-notices.ts). 0028 named
 * the organizations instead, which drops every answer about them: in two loaded rounds of
 * part 3 that came 33 and 50 times, once the aggregator's batches grew. The trigger functions
 * keep their names, so their triggers stay as 0028 made them.
 */
const COLUMNS = [...new Set(Object.values(MENTOR_COLUMNS))];

export async function up(knex: Knex): Promise<void> {
  for (const column of COLUMNS) await knex.raw(notifyMentorsInPartsFunctionSql(column));
}

export async function down(knex: Knex): Promise<void> {
  for (const column of COLUMNS) await knex.raw(notifyMentorsFunctionSql(column));
}
