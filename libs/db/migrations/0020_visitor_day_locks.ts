import type { Knex } from 'knex';

/**
 * Clicks locked by visitor-day, not by link (issue 21). A batch adding clicks to a link held
 * all of the link's clicks exclusively (kind 4, migration 0017), though a click's decision
 * reads only its own visitor-day (the unique click of a visitor, link and UTC day) and the
 * link's state: batches adding clicks to a popular link waited for each other, and a fetch
 * could not be split into lanes that lock nothing in common (a link's clicks joined every
 * device that clicked it). Kind 4 now stands for a link's visitor-day, its bucket computed by
 * the worker (services/ingest-worker/facts/locks.ts); a batch changing a link still excludes
 * every batch adding clicks to it, by the link's own lock (exclusive against their shared one).
 *
 * The table is renamed so that a worker of an earlier version, which would lock kind 4 by
 * link and so not exclude one locking by visitor-day, fails and retries until it is replaced:
 * two versions never ingest side by side without a common lock.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table ingest_lock_buckets rename to ingest_locks');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table ingest_locks rename to ingest_lock_buckets');
}
