import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createTestEnv, dropDatabase, type TestEnv } from '../support/env.js';
import { startIngestWorker, waitForCatchUp } from '../support/workers.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { seenMarkerPrefix } from '../../services/ingest-worker/seen-markers.js';
import type { InviteClicked, InviteLink } from '../../libs/events/types.generated.js';

/**
 * The ingest worker's "already durable" markers live in Redis under its store's epoch, and go
 * with the database: dropping a store (as every test file and bench trial does) deletes them,
 * and only them. Against the real worker, Postgres and Redis.
 */
let env: TestEnv;
let redis: Redis;
const T0 = Date.UTC(2026, 10, 2, 12);
const link: InviteLink = { linkId: 'l1', orgId: 'o1', mentorId: 'm1', campaignId: null, createdAt: T0 - 86_400_000, expiresAt: null, revokedAt: null };
const clicks: InviteClicked[] = Array.from({ length: 120 }, (_, n) => ({ eventId: `c${n}`, linkId: 'l1', occurredAt: T0 + n * 1000, visitor: { deviceId: `d${n}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' } }));
const countKeys = async (prefix: string) => {
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 10_000);
    cursor = next;
    n += keys.length;
  } while (cursor !== '0');
  return n;
};

beforeAll(async () => {
  env = await createTestEnv('seen_markers');
  redis = new Redis(env.config.redisUrl);
});

afterAll(async () => {
  redis?.disconnect();
  await env?.close();
});

describe('the ingest markers of a dropped store', () => {
  it('are deleted with its database, and another store keeps its own', async () => {
    const store = await env.database('dropped');
    const epoch = String((await store.db.raw<{ rows: { epoch: string }[] }>('select epoch from store_identity')).rows[0]?.epoch);
    const other = `${(await env.db.raw<{ rows: { epoch: string }[] }>('select epoch from store_identity')).rows[0]?.epoch}`;
    const otherMarker = `${seenMarkerPrefix(other)}inviteClicks:kept`;
    await redis.set(otherMarker, '1', 'EX', 600);

    const producer = createEventProducer(env);
    await producer.connect();
    await producer.send('inviteLinks', [link]);
    await producer.send('inviteClicks', clicks);
    await producer.disconnect();
    const worker = await startIngestWorker(env, { databaseUrl: store.url });
    await waitForCatchUp(env.kafka, env.group('ingest'), [env.topics.inviteClicks]);
    await worker.stop();
    expect(await countKeys(`${seenMarkerPrefix(epoch)}inviteClicks:`)).toBe(clicks.length);

    await store.db.destroy();
    await dropDatabase(store.url);
    expect(await countKeys(seenMarkerPrefix(epoch))).toBe(0);
    expect(await redis.exists(otherMarker)).toBe(1);
    await redis.del(otherMarker);
  });
});
