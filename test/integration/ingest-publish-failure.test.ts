import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startIngestWorker, waitForCatchUp } from '../support/workers.js';
import { readTopic } from '../support/kafka.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import { INPUT_TOPICS } from '../../libs/events/topics.js';
import type { Kafka } from '../../libs/kafka/client.js';
import type { InviteClicked, InviteLink } from '../../libs/events/types.generated.js';

/**
 * A batch's funnel events are published after its transaction commits, beside the next batches
 * (services/ingest-worker/ingest-worker.ts, afterCommit): a send the broker refuses must not
 * hold the partition, nor lose or repeat an event. The events are in the outbox, and the relay
 * publishes them. Against the real broker, Postgres and Redis; only the first send of funnel
 * events is refused, by a wrapper around the worker's Kafka client.
 */
let env: TestEnv;
let producer: EventProducer;
const T0 = Date.UTC(2026, 10, 2, 12);
const link: InviteLink = { linkId: 'l1', orgId: 'o1', mentorId: 'm1', campaignId: null, createdAt: T0 - 86_400_000, expiresAt: null, revokedAt: null };
const clicks: InviteClicked[] = [1, 2, 3].map((n) => ({ eventId: `c${n}`, linkId: 'l1', occurredAt: T0 + n * 1000, visitor: { deviceId: `d${n}`, userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' } }));

/** The client, except that its producers' first send to `topic` (alone or with others) is refused (counted in `refused`). */
function refusingFirstSend(kafka: Kafka, topic: string, refused: { count: number }): Kafka {
  return refusingSends(kafka, topic, refused, () => refused.count > 0);
}

/** The client, except that its producers' sends to `topic` are refused (counted in `refused`) until `allowed()`. */
function refusingSends(kafka: Kafka, topic: string, refused: { count: number }, allowed: () => boolean): Kafka {
  return new Proxy(kafka, {
    get(target, prop) {
      if (prop === 'producer') {
        return (...args: Parameters<Kafka['producer']>): ReturnType<Kafka['producer']> => {
          const made = target.producer(...args);
          const refuse = (topics: string[]) => {
            if (!topics.includes(topic) || allowed()) return;
            refused.count += 1;
            throw new Error('refused by the test');
          };
          const send = made.send.bind(made);
          made.send = async (request) => {
            refuse([request.topic]);
            return send(request);
          };
          const sendBatch = made.sendBatch.bind(made);
          made.sendBatch = async (batch) => {
            refuse((batch.topicMessages ?? []).map((t) => t.topic));
            return sendBatch(batch);
          };
          return made;
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

beforeAll(async () => {
  env = await createTestEnv('ingest_publish_failure');
  producer = createEventProducer(env);
  await producer.connect();
  await producer.send('inviteLinks', [link]);
  await producer.send('inviteClicks', clicks);
});

afterAll(async () => {
  await producer?.disconnect();
  await env?.close();
});

describe('publishing funnel events after the commit', () => {
  it('a send the broker refuses leaves its events to the outbox relay: the partitions move on, each event is published once', async () => {
    const refused = { count: 0 };
    const ingest = await startIngestWorker(env, { kafka: refusingFirstSend(env.kafka, env.topics.referralEvents, refused) });
    try {
      // The offsets are committed though the events of the clicks' transaction were refused (the
      // send follows the commit, so it may come after the offsets).
      await waitForCatchUp(env.kafka, env.group('ingest'), INPUT_TOPICS.map((t) => env.topics[t]));
      await eventually(async () => (refused.count === 1 ? true : undefined), 10_000, 'the send refused');
      // The outbox relay publishes them (rows older than 10 s, looked for every 5 s), then clears the row.
      await eventually(async () => (Number((await env.db('ingest_outbox').count({ n: '*' }))[0]?.n) === 0 ? true : undefined), 30_000, 'the outbox relayed and cleared');
      const read = await readTopic(env.kafka, env.topics.referralEvents, clicks.length);
      const decoded = await Promise.all(read.map(async (m) => env.codec.decode('referralEvents', m.value as Buffer)));
      expect(decoded.map((e) => `${e.stage} ${e.linkId} ${e.retractsEventId}`)).toEqual(clicks.map(() => 'CLICKED l1 null'));
      expect(new Set(decoded.map((e) => e.eventId)).size).toBe(clicks.length);
      // Nothing published twice: the worker counts each event it had acknowledged.
      const out = (await ingest.worker.metrics.eventsOut.get()).values.reduce((n, v) => n + v.value, 0);
      expect(out).toBe(clicks.length);
    } finally {
      await ingest.stop();
    }
  }, 90_000);

  it('events the broker does not take for longer than the limit fail readiness and show in a gauge, until it takes them', async () => {
    const refused = { count: 0 };
    let broker = 'refusing';
    const ingest = await startIngestWorker(env, { kafka: refusingSends(env.kafka, env.topics.referralEvents, refused, () => broker === 'taking'), outbox: { staleSeconds: 2, intervalMs: 250 } });
    try {
      expect(ingest.worker.outboxProblem()).toBeNull();
      await producer.send('inviteClicks', [{ ...clicks[0], eventId: 'c4', occurredAt: T0 + 4000, visitor: { deviceId: 'd4', userAgent: 'Mozilla/5.0 (X11; Linux x86_64)' } } as InviteClicked]);
      const problem = await eventually(async () => ingest.worker.outboxProblem() ?? undefined, 20_000, 'the outbox reported stale');
      expect(problem).toMatch(/^1 committed transactions' referral events not yet taken by the broker, the oldest for \d+ s$/);
      expect((await ingest.worker.metrics.outboxOldestSeconds.get()).values[0]?.value).toBeGreaterThan(2);
      expect(refused.count).toBeGreaterThan(0);
      broker = 'taking';
      await eventually(async () => (ingest.worker.outboxProblem() === null ? true : undefined), 30_000, 'the outbox relayed');
      expect((await ingest.worker.metrics.outboxOldestSeconds.get()).values[0]?.value).toBe(0);
    } finally {
      broker = 'taking';
      await ingest.stop();
    }
  }, 90_000);
});
