import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { ingestToEnd } from '../support/workers.js';
import { factsSnapshot } from '../support/facts.js';
import { readTopic } from '../support/kafka.js';
import { CompressionTypes } from '../../libs/kafka/client.js';
import { replay } from '../../libs/kafka/replay.js';
import { MAX_DECOMPRESSED_BYTES } from '../../libs/kafka/compression.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';

/**
 * Record batches any producer can write and the broker accepts, which the Kafka client could not
 * read: each failed the whole fetch, every partition of the worker, at every restart (or ran it
 * out of heap, or held it for hours). With the patched client (patches/kafkajs+2.2.4.patch) each
 * batch goes whole to the dead-letter topic, with its reason and offsets, and every record around
 * it is stored:
 * - a gzip batch of 150,000 empty records (a few kilobytes; the client's spread of its records
 *   overflowed the stack);
 * - a gzip batch of one record of 65 MiB of zeros (64 kB on the wire; past what a batch may grow
 *   to once decompressed);
 * - a valid click with 300,000 headers of one key (decoded in quadratic time before): stored.
 * A replay of the range skips the unreadable batch instead of writing it back as a record.
 */
let env: TestEnv;
const traffic = sampleTraffic({ seed: 23, clicks: 200 });

beforeAll(async () => {
  env = await createTestEnv('hostile_batches');
}, 60_000);

afterAll(async () => {
  await env?.close();
});

describe('record batches the client cannot read', () => {
  it('go whole to the dead-letter topic with their reason, and every other record is stored', async () => {
    const [first] = traffic.clicks;
    if (!first) throw new Error('the sample traffic has no click');
    const headered = { ...first, eventId: 'click-with-300000-headers' };
    // Every message names its partition.
    const raw = env.kafka.producer({ createPartitioner: () => ({ message }) => message.partition ?? 0 });
    await raw.connect();
    try {
      await raw.send({ topic: env.topics.inviteClicks, acks: -1, compression: CompressionTypes.GZIP, messages: Array.from({ length: 150_000 }, () => ({ partition: 0, value: null })) });
      await raw.send({ topic: env.topics.appInstalls, acks: -1, compression: CompressionTypes.GZIP, messages: [{ partition: 1, value: Buffer.alloc(MAX_DECOMPRESSED_BYTES + 1024 * 1024) }] });
      const value = await env.codec.encode('inviteClicks', headered);
      await raw.send({ topic: env.topics.inviteClicks, acks: -1, compression: CompressionTypes.GZIP, messages: [{ partition: 2, key: headered.linkId, value, headers: { trace: Array.from({ length: 300_000 }, () => '') } }] });
    } finally {
      await raw.disconnect();
    }
    await ingestToEnd(env, traffic, 11);

    const facts = await factsSnapshot(env.db);
    const distinct = (xs: { eventId: string }[]) => new Set(xs.map((x) => x.eventId)).size;
    expect(facts.clicks).toHaveLength(distinct(traffic.clicks) + 1);
    expect((facts.clicks as { event_id: string }[]).map((c) => c.event_id)).toContain(headered.eventId);
    expect(facts.installs).toHaveLength(distinct(traffic.installs));
    expect(facts.registrations).toHaveLength(distinct(traffic.registrations));
    expect(facts.logins).toHaveLength(distinct(traffic.logins));

    const letters = await readTopic(env.kafka, env.topics.deadLetters, 2);
    const seen = letters
      .map((m) => ({
        topic: m.headers?.['dlq.source.topic']?.toString(),
        partition: m.headers?.['dlq.source.partition']?.toString(),
        offset: m.headers?.['dlq.source.offset']?.toString(),
        errorClass: m.headers?.['dlq.error.class']?.toString(),
        message: m.headers?.['dlq.error.message']?.toString(),
        hasBytes: (m.value?.length ?? 0) > 0,
      }))
      .sort((a, b) => String(a.topic).localeCompare(String(b.topic)));
    expect(seen).toEqual([
      { topic: env.topics.appInstalls, partition: '1', offset: '0', errorClass: 'UndecodableBatchError', message: expect.stringMatching(/^the record batch at offsets 0\.\.0 could not be read \(RangeError: .*\); its bytes are this letter's value$/), hasBytes: true },
      { topic: env.topics.inviteClicks, partition: '0', offset: '149999', errorClass: 'UndecodableBatchError', message: 'the record batch at offsets 0..149999 could not be read (RangeError: the batch claims 150000 records (at most 100000)); its bytes are this letter\'s value', hasBytes: true },
    ]);
    // Nothing else was refused: the topic holds these two letters only.
    const admin = env.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(env.topics.deadLetters);
      expect(offsets.reduce((n, p) => n + Number(p.high) - Number(p.low), 0)).toBe(2);
    } finally {
      await admin.disconnect();
    }

    // A replay of the unreadable batch's range sends nothing again: its bytes are a whole batch, not a record.
    const admin2 = env.kafka.admin();
    await admin2.connect();
    try {
      const high = async () => (await admin2.fetchTopicOffsets(env.topics.inviteClicks)).find((p) => p.partition === 0)?.high;
      const before = await high();
      const replayed = await replay(env.kafka, { ranges: [{ topic: env.topics.inviteClicks, partition: 0, start: 0n, end: 150_000n }], stateTopics: [], total: 150_000 }, { log: env.log });
      expect(replayed).toEqual({ read: 0, sent: 0, stopped: false });
      expect(await high()).toBe(before);
    } finally {
      await admin2.disconnect();
    }
  }, 240_000);
});
