import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { ingestToEnd } from '../support/workers.js';
import { factsSnapshot } from '../support/facts.js';
import { readTopic } from '../support/kafka.js';
import { reconnectingAdmin } from '../../libs/kafka/client.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import type { TopicKey } from '../../libs/events/topics.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';

/**
 * Upstream producers choose their compression (a Java producer's `compression.type`), and the
 * broker keeps batches as written or, with a topic's own `compression.type`, compresses them
 * again with its own (Java) codecs. kafkajs reads only gzip by itself: a Snappy, LZ4 or ZSTD
 * batch stopped the whole consumer at every restart. Here the broker compresses each input topic
 * with another codec, and the ingest worker must store every record of the traffic (as many
 * links, clicks, installs, registrations and logins as it holds) and dead-letter none.
 */
let env: TestEnv;
const traffic = sampleTraffic({ seed: 5, clicks: 300 });
const COMPRESSION: Partial<Record<TopicKey, string>> = { inviteLinks: 'snappy', coordinatorScopes: 'zstd', inviteClicks: 'lz4', appInstalls: 'zstd', userRegistered: 'snappy', userLogins: 'gzip' };

beforeAll(async () => {
  env = await createTestEnv('compressed_input');
}, 60_000);

afterAll(async () => {
  await env?.close();
});

describe('input batches compressed with any codec Kafka offers', () => {
  it('are read and stored as plain ones are: the same facts, nothing dead-lettered', async () => {
    const admin = reconnectingAdmin(env.kafka);
    try {
      await admin.use((a) =>
        a.alterConfigs({ validateOnly: false, resources: Object.entries(COMPRESSION).map(([topic, codec]) => ({ type: 2, name: env.topics[topic as TopicKey], configEntries: [{ name: 'compression.type', value: codec }] })) }),
      );
    } finally {
      await admin.close();
    }
    await ingestToEnd(env, traffic, 5);
    const facts = await factsSnapshot(env.db);
    const distinct = (xs: { eventId: string }[]) => new Set(xs.map((x) => x.eventId)).size;
    expect(facts.links).toHaveLength(new Set(traffic.links.map((l) => l.linkId)).size);
    expect(facts.clicks).toHaveLength(distinct(traffic.clicks));
    expect(facts.installs).toHaveLength(distinct(traffic.installs));
    expect(facts.registrations).toHaveLength(distinct(traffic.registrations));
    expect(facts.logins).toHaveLength(distinct(traffic.logins));
    // Nothing refused: the dead-letter topic is empty (a probe record written now is the first one read).
    const probe = createEventProducer(env);
    await probe.connect();
    try {
      await probe.sendRaw('deadLetters', [{ key: 'probe', value: Buffer.from('probe') }]);
    } finally {
      await probe.disconnect();
    }
    const [first] = await readTopic(env.kafka, env.topics.deadLetters, 1);
    expect(first?.key?.toString()).toBe('probe');
  }, 180_000);
});
