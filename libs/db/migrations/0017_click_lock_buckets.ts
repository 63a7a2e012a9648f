import type { Knex } from 'knex';
import { BUCKETS_PER_KIND } from './0015_lock_buckets.js';

/**
 * A fourth kind of lock bucket: a link's clicks, apart from the link itself (issue 21). A batch
 * that adds clicks to a link held the link exclusively, so a batch of installs or registrations
 * merely naming it (which needs only that the link does not change) waited for it; clicks are
 * keyed by link, installs and registrations are not, so two lanes of one worker waited on each
 * other nearly every time. Now the link is held shared by every batch naming it and exclusively
 * only by one changing it; the link's clicks (its visitor-days) exclusively by a batch adding
 * clicks to it or changing it.
 */
export const CLICKS_KIND = 4;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    insert into ingest_lock_buckets (kind, bucket)
      select ${CLICKS_KIND}, bucket from generate_series(0, ${BUCKETS_PER_KIND - 1}) bucket;
    analyze ingest_lock_buckets;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`delete from ingest_lock_buckets where kind = ${CLICKS_KIND}`);
}
