import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { readTopic } from '../support/kafka.js';
import { planReplay, replay } from '../../libs/kafka/replay.js';
import type { KafkaMessage } from '../../libs/kafka/client.js';

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

/** The committed records of one partition up to `end` (transaction markers and aborted records count toward it). */
async function readPartition(topic: string, partition: number, end: number): Promise<KafkaMessage[]> {
  const consumer = env.kafka.consumer({ groupId: env.group(`read-${topic}-${partition}-${Date.now()}`), maxWaitTimeInMs: 200 });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await within(new Promise<void>((resolve) => {
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.partition === partition && Number(payload.lastOffset) + 1 >= end) resolve();
      });
      void consumer.run({
        eachBatch: async ({ batch }) => {
          if (batch.partition === partition) messages.push(...batch.messages);
        },
      });
    }), 60_000, `reading ${topic}[${partition}]`);
  } finally {
    await consumer.disconnect();
  }
  return messages;
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
  it("sends a link's state again when upstream's transaction, open while the copies were sent, commits a newer one", async () => {
    // A state topic; the first test wrote to its partition 0 only.
    const links = env.topics.coordinatorScopes;
    const producer = env.kafka.producer();
    const upstream = env.kafka.producer({ transactionalId: `${env.namespace}.links`, idempotent: true, maxInFlightRequests: 1 });
    await Promise.all([producer.connect(), upstream.connect()]);
    try {
      await producer.send({ topic: links, acks: -1, messages: [{ key: 'T1', value: 'T1 active', partition: 1 }] });
      await producer.send({ topic: env.topics.appInstalls, acks: -1, messages: Array.from({ length: 2_000 }, (_, i) => ({ key: `d${i}`, value: `install ${i}`, partition: 1 })) });
      // Upstream's transaction is open while the replay reads and sends its copies, and commits a few seconds in.
      const tx = await upstream.transaction();
      await tx.send({ topic: links, messages: [{ key: 'T1', value: 'T1 revoked', partition: 1 }] });
      const plan = await planOf([{ name: links, state: true }, { name: env.topics.appInstalls, state: false }]);
      const committed = new Promise((resolve) => setTimeout(resolve, 5_000)).then(() => tx.commit());
      const result = await within(replay(env.kafka, plan, { log: env.log }), 90_000, 'the replay');
      await committed;
      expect(result.stopped).toBe(false);
      const admin = env.kafka.admin();
      await admin.connect();
      const high = Number((await admin.fetchTopicOffsets(links)).find((p) => p.partition === 1)?.high);
      await admin.disconnect();
      const last = (await readPartition(links, 1, high)).filter((m) => m.key?.toString() === 'T1').at(-1);
      expect(last?.value?.toString()).toBe('T1 revoked');
    } finally {
      await Promise.all([producer.disconnect(), upstream.disconnect()]);
    }
  }, 150_000);
});
