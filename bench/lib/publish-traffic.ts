import type { TestEnv } from '../../test/support/env.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import type { SampleTraffic } from '../../libs/sample/sample-traffic.js';
import type { RecordOf } from '../../libs/events/codec.js';
import { encode } from './pipeline.js';

type Message = Parameters<EventProducer['sendRaw']>[1][number];
type TrafficTopic = 'inviteLinks' | 'coordinatorScopes' | 'inviteClicks' | 'appInstalls' | 'userRegistered' | 'userLogins';

/** Sample traffic encoded once, topic by topic in publishing order (links and scopes first, as publishSample sends them). */
export type EncodedTraffic = { topic: TrafficTopic; messages: Message[] }[];

/**
 * Encodes sample traffic with the env's codec. The bytes carry the id the registry gave the
 * schema, and every env of the run shares the one registry, so the same bytes can be published
 * to the topics of any of them (each decodes them by that id): a million events are encoded once.
 */
export async function encodeTraffic(env: TestEnv, traffic: SampleTraffic): Promise<EncodedTraffic> {
  const messages = async <T extends TrafficTopic>(topic: T, records: readonly RecordOf<T>[]) => ({ topic, messages: (await encode(env, topic, records)).map((e) => e.message) });
  return [
    await messages('inviteLinks', traffic.links),
    await messages('coordinatorScopes', traffic.scopes),
    await messages('inviteClicks', traffic.clicks),
    await messages('appInstalls', traffic.installs),
    await messages('userRegistered', traffic.registrations),
    await messages('userLogins', traffic.logins),
  ];
}

export const eventCount = (encoded: EncodedTraffic): number => encoded.reduce((a, t) => a + t.messages.length, 0);

/** The links and scopes, then the first `fraction` of every other topic. */
export function sliceTraffic(encoded: EncodedTraffic, fraction: number): EncodedTraffic {
  return encoded.map(({ topic, messages }) => ({ topic, messages: topic === 'inviteLinks' || topic === 'coordinatorScopes' ? messages : messages.slice(0, Math.round(messages.length * fraction)) }));
}

/**
 * Publishes encoded traffic to the env's topics in sends of `chunk` messages (a send is one
 * produce request per broker, acknowledged by every in-sync replica). 5,000 keeps the largest
 * partition's share of a send (links are Zipf-like, clicks are keyed by link) under the
 * broker's 1 MB batch limit. Answers how many were sent and in how many seconds.
 */
export async function publishEncoded(env: TestEnv, encoded: EncodedTraffic, chunk = 5000): Promise<{ events: number; seconds: number }> {
  const producer = createEventProducer(env);
  await producer.connect();
  const started = Date.now();
  let events = 0;
  try {
    for (const { topic, messages } of encoded) {
      for (let i = 0; i < messages.length; i += chunk) {
        const part = messages.slice(i, i + chunk);
        await producer.sendRaw(topic, part);
        events += part.length;
      }
    }
  } finally {
    await producer.disconnect();
  }
  return { events, seconds: (Date.now() - started) / 1000 };
}
