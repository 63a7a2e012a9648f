import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { readTopic } from '../support/kafka.js';
import { planReplay, replay } from '../../libs/kafka/replay.js';

/**
 * The replay CLI's two ways of going wrong on a live cluster:
 * - a range whose last offsets are transaction markers (or aborted records), which the client
 *   never hands over: the replay waited for them for ever;
 * - a link's state upstream publishes while the replay runs (a revocation): the replay sent
 *   the older state it had read after it, so the compacted topic's latest state, and the
 *   ingest worker's, went back to the older one for good.
 * The records are opaque bytes: the replay sends them back as they are, without decoding.
 */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('replay_ranges');
}, 60_000);

afterAll(async () => {
  await env?.close();
});

async function planOf(topics: { name: string; state: boolean }[]) {
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    return await planReplay(admin, topics, {}, {});
  } finally {
    await admin.disconnect();
  }
}

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish in ${ms} ms`)), ms);
    }),
  ]);
}

describe('replay', () => {
  it('finishes ranges that end on transaction markers, sending the committed records and not the aborted ones', async () => {
    // The invite-link service writes its scopes in transactions; the app backend aborted one.
    const producer = env.kafka.producer({ transactionalId: `${env.namespace}.upstream`, idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const committed = await producer.transaction();
      await committed.send({ topic: env.topics.coordinatorScopes, messages: ['a', 'b', 'c'].map((v) => ({ partition: 0, key: v, value: v })) });
      await committed.commit();
      for (const topic of [env.topics.coordinatorScopes, env.topics.appInstalls]) {
        const aborted = await producer.transaction();
        await aborted.send({ topic, messages: ['x', 'y'].map((v) => ({ partition: 0, key: v, value: v })) });
        await aborted.abort();
      }
    } finally {
      await producer.disconnect();
    }
    const plan = await planOf([{ name: env.topics.coordinatorScopes, state: true }, { name: env.topics.appInstalls, state: false }]);
    expect(plan.ranges).toEqual([
      // Three records and a commit marker, then two aborted records and an abort marker.
      { topic: env.topics.coordinatorScopes, partition: 0, start: 0n, end: 7n },
      // Two aborted records and an abort marker: nothing to send.
      { topic: env.topics.appInstalls, partition: 0, start: 0n, end: 3n },
    ]);

    expect(await within(replay(env.kafka, plan, { log: env.log }), 60_000, 'the replay')).toEqual({ read: 3, sent: 3, stopped: false });
    const copies = (await readTopic(env.kafka, env.topics.coordinatorScopes, 6)).filter((m) => m.headers?.['replay.source.offset'] !== undefined);
    expect(copies.map((m) => m.value?.toString()).sort()).toEqual(['a', 'b', 'c']);
  }, 120_000);

  it('sends every link\'s latest state, a state upstream publishes while the replay runs included', async () => {
    const producer = env.kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic: env.topics.inviteLinks, acks: -1, messages: ['L1', 'L2', 'L3'].map((link) => ({ key: link, value: `${link} active` })) });
      // Clicks to replay before the states: the revocation below is published while they are read.
      await producer.send({ topic: env.topics.inviteClicks, acks: -1, messages: Array.from({ length: 3_000 }, (_, i) => ({ key: `L${(i % 3) + 1}`, value: `click ${i}` })) });
      const plan = await planOf([{ name: env.topics.inviteLinks, state: true }, { name: env.topics.inviteClicks, state: false }]);
      expect(plan.total).toBe(3_003);

      let revoked: Promise<unknown> | undefined;
      const result = await within(
        replay(env.kafka, plan, {
          log: env.log,
          onProgress: () => {
            revoked ??= producer.send({ topic: env.topics.inviteLinks, acks: -1, messages: [{ key: 'L1', value: 'L1 revoked' }] });
          },
        }),
        90_000,
        'the replay',
      );
      await revoked;
      expect(result.stopped).toBe(false);
      expect(result.read).toBe(3_003);

      const admin = env.kafka.admin();
      await admin.connect();
      const held = (await admin.fetchTopicOffsets(env.topics.inviteLinks)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
      await admin.disconnect();
      // The three states, the revocation, and a copy of each key's latest (L1's revocation sent once more at most, had it landed while the copies were sent).
      expect(held).toBe(4 + result.sent - 3_000);
      const records = await readTopic(env.kafka, env.topics.inviteLinks, held);
      const last = new Map<string, string>();
      // One partition per key: the topic's order per key is its order per partition.
      for (const m of [...records].sort((a, b) => Number(BigInt(a.offset) - BigInt(b.offset)))) last.set(m.key?.toString() ?? '', m.value?.toString() ?? '');
      expect(Object.fromEntries(last)).toEqual({ L1: 'L1 revoked', L2: 'L2 active', L3: 'L3 active' });
    } finally {
      await producer.disconnect();
    }
  }, 150_000);
});
