import type { Knex } from 'knex';
import { notifyFunctionSql } from '../change-notices.js';

/**
 * Scope notices (issue 22): the change-notice trigger function also tells SCOPE_CHANNEL of
 * writes to the tables scope decisions read, so the query service can keep those decisions'
 * facts between requests (libs/db/change-notices.ts). Same triggers, same payload.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(notifyFunctionSql({ scopes: true }));
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(notifyFunctionSql({ scopes: false }));
}
