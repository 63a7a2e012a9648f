import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { readTopic } from '../support/kafka.js';
import { createEventProducer, PARTITION_REQUEST_BYTES } from '../../libs/kafka/event-producer.js';
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
});
