import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { readTopic } from '../support/kafka.js';
import { createEventProducer, PARTITION_REQUEST_BYTES } from '../../libs/kafka/event-producer.js';
import { DEAD_LETTER_MAX_BYTES, publishDeadLetters } from '../../libs/kafka/dead-letters.js';
import { PoisonRecordError } from '../../libs/events/codec.js';
import type { ReferralEventRecorded } from '../../libs/events/types.generated.js';

/**
 * A worker catching up publishes the funnel events of a whole lane at once: thousands for one
 * mentor, so for one partition. The broker refuses a record batch over its message.max.bytes
 * (1 MiB by default) as a whole; found in the bench at a million events, where every such
 * send failed, its batch was applied again and the outbox relay republished it. Against the
 * real broker: a send of 1.4 MB for one partition arrives whole and in order.
 */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('event_producer');
});
afterAll(async () => {
  await env?.close();
});

describe('the event producer', () => {
  it('splits a send larger than the broker takes in one batch, keeping each partition in order', async () => {
    const producer = createEventProducer({ kafka: env.kafka, codec: env.codec, topics: env.topics });
    await producer.connect();
    const records: ReferralEventRecorded[] = Array.from({ length: 12_000 }, (_, i) => ({
      eventId: `fe-${String(i).padStart(6, '0')}-${'x'.repeat(60)}`, orgId: 'org-1', mentorId: 'mentor-1', linkId: 'link-1', campaignId: 'campaign-1',
      referralId: null, userId: null, stage: 'CLICKED', uniqueVisitor: i % 2 === 0, occurredAt: Date.UTC(2026, 0, 1) + i, retractsEventId: null,
    }));
    try {
      await producer.send('referralEvents', records);
    } finally {
      await producer.disconnect();
    }
    const bytes = (await Promise.all(records.slice(0, 10).map((r) => env.codec.encode('referralEvents', r)))).reduce((a, b) => a + b.length, 0) * (records.length / 10);
    expect(bytes).toBeGreaterThan(1024 * 1024); // more than the broker takes in one batch
    expect(bytes).toBeGreaterThan(2 * PARTITION_REQUEST_BYTES); // three of this producer's requests
    const read = await readTopic(env.kafka, env.topics.referralEvents, records.length);
    expect(new Set(read.map((m) => m.partition)).size).toBe(1);
    const decoded = await Promise.all(read.map(async (m) => (await env.codec.decode('referralEvents', m.value as Buffer)).eventId));
    expect(decoded).toEqual(records.map((r) => r.eventId));
  });

  it('sends several topics in one call, a partition too large for one request included, each partition whole and in order', async () => {
    const producer = createEventProducer({ kafka: env.kafka, codec: env.codec, topics: env.topics });
    await producer.connect();
    // Logins keyed by few users (so a partition gets far more than one request carries) and
    // installs keyed by many devices, as one upstream service publishes them.
    const logins = Array.from({ length: 6_000 }, (_, i) => ({ key: `user-${i % 3}`, value: Buffer.from(`login-${String(i).padStart(5, '0')}-${'y'.repeat(600)}`) }));
    const installs = Array.from({ length: 900 }, (_, i) => ({ key: `device-${i}`, value: Buffer.from(`install-${String(i).padStart(5, '0')}`) }));
    try {
      await producer.sendRawMany([
        { topic: 'userLogins', messages: logins.slice(0, 3_000) },
        { topic: 'appInstalls', messages: installs },
        { topic: 'userLogins', messages: logins.slice(3_000) },
      ]);
    } finally {
      await producer.disconnect();
    }
    expect(logins.filter((m) => m.key === 'user-0').reduce((a, m) => a + m.value.length, 0)).toBeGreaterThan(2 * PARTITION_REQUEST_BYTES);
    const inOrder = (read: { key: Buffer | null; value: Buffer | null }[], sent: { key: string; value: Buffer }[]) => {
      const byKey = (list: { key: string; value: string }[]) => {
        const out = new Map<string, string[]>();
        for (const m of list) {
          const values = out.get(m.key);
          if (values) values.push(m.value);
          else out.set(m.key, [m.value]);
        }
        return out;
      };
      expect(byKey(read.map((m) => ({ key: String(m.key), value: String(m.value) })))).toEqual(byKey(sent.map((m) => ({ key: m.key, value: String(m.value) }))));
    };
    inOrder(await readTopic(env.kafka, env.topics.userLogins, logins.length), logins);
    inOrder(await readTopic(env.kafka, env.topics.appInstalls, installs.length), installs);
  });

  it('a refused record larger than the broker takes (it came compressed) goes to the dead-letter topic cut, with its size: the partition moves on', async () => {
    const producer = createEventProducer({ kafka: env.kafka, codec: env.codec, topics: env.topics });
    await producer.connect();
    const value = Buffer.alloc(1_048_500, 0);
    value.writeInt32BE(1, 1);
    try {
      await publishDeadLetters(producer, { topic: env.topics.inviteClicks, partition: 3, log: env.log }, [
        { message: { key: Buffer.from('k-big'), value, offset: '41', timestamp: '0', attributes: 0, headers: {} }, error: new PoisonRecordError(`value of ${value.length} bytes is over the limit`) },
      ]);
    } finally {
      await producer.disconnect();
    }
    const [letter] = await readTopic(env.kafka, env.topics.deadLetters, 1);
    expect(letter?.value?.length).toBe(DEAD_LETTER_MAX_BYTES);
    expect(letter?.value?.equals(value.subarray(0, DEAD_LETTER_MAX_BYTES))).toBe(true);
    expect(Object.fromEntries(Object.entries(letter?.headers ?? {}).map(([k, v]) => [k, String(v)]))).toMatchObject({
      'dlq.source.offset': '41', 'dlq.source.partition': '3', 'dlq.value.bytes': '1048500', 'dlq.error.class': 'PoisonRecordError',
    });
  }, 60_000);
});
