import type { Redis } from 'ioredis';

/**
 * The ingest worker's Redis markers of events already made durable, per store: a database's
 * `store_identity.epoch` scopes them, so a recreated or copied database never trusts another's.
 * A marker is `<prefix><topic>:<eventId>`, kept for `REDIS_SEEN_TTL_SECONDS`.
 */
export const seenMarkerPrefix = (epoch: string): string => `rt:${epoch}:seen:`;

/**
 * Deletes every marker of a store, for a database that is being dropped: nothing can read them
 * again (a new database gets a new epoch), and left alone they hold Redis memory for their
 * whole TTL (a bench run leaves hundreds of thousands per trial). Walks the keyspace with SCAN
 * (no blocking KEYS) and frees with UNLINK. Answers how many it deleted.
 */
export async function forgetSeenMarkers(redis: Redis, epoch: string): Promise<number> {
  if (!/^[0-9a-f-]+$/i.test(epoch)) throw new Error(`not a store epoch: ${JSON.stringify(epoch)}`);
  const match = `${seenMarkerPrefix(epoch)}*`;
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 10_000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
