import type { Knex } from 'knex';

/**
 * The lock buckets unlogged (issue 21). Taking a row lock writes the row's header, so every
 * bucket a batch locked was a WAL record and a dirtied page, with a full-page image after each
 * checkpoint: in bench part 2 on the 1M-click database, 1.2M bucket locks wrote 138 MB of WAL
 * (8,900 full-page images) for rows whose content nobody reads. Row locks on an unlogged table
 * write no WAL.
 *
 * An unlogged table is emptied when Postgres recovers from a crash (and is empty on a promoted
 * standby). The lock statement counts the buckets it locked against those it wanted and, short,
 * fills the table again inside the batch's transaction and locks again (facts/locks.ts), so a
 * batch never runs on fewer locks than it asked for.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table ingest_lock_buckets set unlogged');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table ingest_lock_buckets set logged');
}
