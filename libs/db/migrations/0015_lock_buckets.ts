import type { Knex } from 'knex';

/**
 * Locks without a growing table (issue 21). ingest_subject_locks held one row per link,
 * device and user ever seen, inserted by the first batch that touched it: a heap and index
 * write per new subject, and a table that only grew. Batches now lock rows of a fixed table,
 * a bucket per hash of the subject key, 65,536 buckets per kind of subject, created here once.
 * Two batches whose subjects share a bucket wait for each other (as if they shared a subject);
 * that is the price of a bounded table, and with a few thousand subjects per batch it is rare.
 *
 * A worker of an earlier version locks in the dropped table: it fails and retries until it is
 * replaced, so two versions never ingest side by side without a common lock.
 */
export const BUCKETS_PER_KIND = 65_536;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create table ingest_lock_buckets (
      kind smallint not null,
      bucket integer not null,
      primary key (kind, bucket)
    );
    insert into ingest_lock_buckets (kind, bucket)
      select kind, bucket from generate_series(1, 3) kind, generate_series(0, ${BUCKETS_PER_KIND - 1}) bucket;
    analyze ingest_lock_buckets;
    drop table ingest_subject_locks;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    create unlogged table ingest_subject_locks (key bigint primary key);
    drop table ingest_lock_buckets;
  `);
}
