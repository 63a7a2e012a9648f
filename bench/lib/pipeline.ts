import type { TestEnv } from '../../test/support/env.js';
import { eventually } from '../../test/support/env.js';
import { consumerLag } from '../../libs/kafka/lag.js';
import { INPUT_TOPICS, TOPICS, type TopicKey } from '../../libs/events/topics.js';
import type { RecordOf, RecordTopic } from '../../libs/events/codec.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';

/** A Kafka message as the producer sends it (kafkajs' own type stays behind libs/kafka). */
type Message = Parameters<EventProducer['sendRaw']>[1][number];
import type { SampleTraffic } from '../../libs/sample/sample-traffic.js';
import { freePort, startService, type RunningProcess } from './processes.js';
import { sleep } from './scale.js';

export interface Encoded {
  topic: TopicKey;
  message: Message;
}

/** Avro-encodes records of a topic with the env's codec, keyed as the topic catalogue says. */
export async function encode<T extends RecordTopic>(env: TestEnv, topic: T, records: readonly RecordOf<T>[]): Promise<Encoded[]> {
  const keyField = TOPICS[topic].keyField as string;
  const out: Encoded[] = [];
  for (const record of records) {
    out.push({ topic, message: { key: String((record as unknown as Record<string, unknown>)[keyField]), value: await env.codec.encode(topic, record) } });
  }
  return out;
}

/** The topics of a sample's events (links and scopes are not events). */
type EventTopic = 'inviteClicks' | 'appInstalls' | 'userRegistered' | 'userLogins';
/** An event of a sample with its topic and time. */
export type TimedEvent = { [T in EventTopic]: { topic: T; at: number; record: RecordOf<T> } }[EventTopic];

/** The event traffic of a sample (not links and scopes) in order of event time. */
export function timeOrdered(traffic: SampleTraffic): TimedEvent[] {
  return [
    ...traffic.clicks.map((record) => ({ topic: 'inviteClicks' as const, at: record.occurredAt, record })),
    ...traffic.installs.map((record) => ({ topic: 'appInstalls' as const, at: record.occurredAt, record })),
    ...traffic.registrations.map((record) => ({ topic: 'userRegistered' as const, at: record.occurredAt, record })),
    ...traffic.logins.map((record) => ({ topic: 'userLogins' as const, at: record.occurredAt, record })),
  ].sort((a, b) => a.at - b.at);
}

/** The event traffic of a sample (not links and scopes) in order of event time, encoded. */
export async function encodeTimeOrdered(env: TestEnv, traffic: SampleTraffic): Promise<Encoded[]> {
  const out: Encoded[] = [];
  for (const e of timeOrdered(traffic)) out.push(...(await encode(env, e.topic, [e.record] as RecordOf<typeof e.topic>[])));
  return out;
}

/**
 * The upstream services of SPEC §1, each publishing its own topics through a producer of its
 * own: the invite-link service (links, coordinator scopes), the link redirector (clicks) and
 * the app backend (installs, registrations, logins, erasures).
 */
const UPSTREAM_OF: Record<(typeof INPUT_TOPICS)[number], 'invite-link service' | 'link redirector' | 'app backend'> = {
  inviteLinks: 'invite-link service',
  coordinatorScopes: 'invite-link service',
  inviteClicks: 'link redirector',
  appInstalls: 'app backend',
  userRegistered: 'app backend',
  userLogins: 'app backend',
  userErasures: 'app backend',
};

/** The load generator's producers, one per upstream service. */
export interface Upstream {
  connect(): Promise<void>;
  /** Publishes records of one topic through its service's producer. */
  send: EventProducer['send'];
  /** Publishes encoded messages of any topics: one request per service, the services side by side. */
  publish(messages: readonly Encoded[]): Promise<void>;
  disconnect(): Promise<void>;
}

export function createUpstream(env: TestEnv): Upstream {
  const producers = new Map<string, EventProducer>();
  const producerOf = (topic: TopicKey): EventProducer => {
    const service = (UPSTREAM_OF as Partial<Record<TopicKey, string>>)[topic];
    if (!service) throw new Error(`no upstream service publishes ${topic}: the pipeline does`);
    let producer = producers.get(service);
    if (!producer) producers.set(service, (producer = createEventProducer(env)));
    return producer;
  };
  for (const topic of INPUT_TOPICS) producerOf(topic);
  return {
    async connect() {
      await Promise.all([...producers.values()].map((p) => p.connect()));
    },
    send: (topic, records, headers) => producerOf(topic).send(topic, records, headers),
    async publish(messages) {
      const byService = new Map<EventProducer, Map<TopicKey, Message[]>>();
      for (const { topic, message } of messages) {
        const producer = producerOf(topic);
        const byTopic = byService.get(producer) ?? new Map<TopicKey, Message[]>();
        byService.set(producer, byTopic);
        const list = byTopic.get(topic);
        if (list) list.push(message);
        else byTopic.set(topic, [message]);
      }
      await Promise.all([...byService].map(([producer, byTopic]) => producer.sendRawMany([...byTopic].map(([topic, list]) => ({ topic, messages: list })))));
    },
    async disconnect() {
      await Promise.all([...producers.values()].map((p) => p.disconnect()));
    },
  };
}

/** How long a producer gathers records before a request: a Java producer's default linger.ms (Kafka 4). */
export const LINGER_MS = 5;

/**
 * Sends messages in order at `rate` per second for at most `seconds`; returns how many were
 * sent and how long it took (and, after each request, how many so far to onSent). Each upstream service lingers as a Java producer does by default
 * (LINGER_MS): what is due goes out every few milliseconds, one request per service carrying
 * all its topics. (kafkajs does not linger. Before, every topic was a request of its own each
 * 5 ms, through one producer: at 7,450 events/s that cost the broker 57 µs of CPU per event
 * against about 34 now, which the end-to-end figures charged to the pipeline.)
 */
export async function pace(upstream: Upstream, messages: readonly Encoded[], rate: number, seconds: number, stop: () => boolean = () => false, onSent: (sent: number) => void = () => {}): Promise<{ sent: number; seconds: number }> {
  const total = Math.min(messages.length, Math.round(rate * seconds));
  const started = Date.now();
  let sent = 0;
  while (sent < total && !stop()) {
    const tick = Date.now();
    const due = Math.min(total, Math.floor(((tick - started) / 1000) * rate), sent + Math.max(1, Math.round(rate / 5)));
    if (due > sent) {
      await upstream.publish(messages.slice(sent, due));
      sent = due;
      onSent(sent);
    }
    const wait = tick + LINGER_MS - Date.now();
    if (wait > 0) await sleep(wait);
  }
  return { sent, seconds: (Date.now() - started) / 1000 };
}

export const ingestGroup = (env: TestEnv) => `${env.config.kafka.topicPrefix}recruitment.ingest-worker`;
export const aggregatorGroup = (env: TestEnv) => `${env.config.kafka.topicPrefix}recruitment.aggregator-worker`;

/** Messages the pipeline is behind: the ingest group on the input topics plus the aggregator group on the funnel events. */
export async function pipelineLag(env: TestEnv, admin: ReturnType<TestEnv['kafka']['admin']>): Promise<{ ingest: number; aggregator: number }> {
  const sum = (rows: { lag: number }[]) => rows.reduce((a, r) => a + r.lag, 0);
  const ingest = sum(await consumerLag(admin, ingestGroup(env), INPUT_TOPICS.map((t) => env.topics[t])));
  const aggregator = sum(await consumerLag(admin, aggregatorGroup(env), [env.topics.referralEvents]));
  return { ingest, aggregator };
}

/** Resolves once the group has members and is stable. */
export async function groupStable(env: TestEnv, admin: ReturnType<TestEnv['kafka']['admin']>, groupId: string): Promise<void> {
  await eventually(async () => {
    const { groups } = await admin.describeGroups([groupId]);
    return groups[0]?.state === 'Stable' && groups[0].members.length > 0 ? true : undefined;
  }, 120_000, `group ${groupId} to be stable`, 250);
}

/** The three services as processes on one database and topic prefix. */
export async function startPipeline(target: { databaseUrl: string; topicPrefix: string }, where: string, options: { ingestInstances?: number } = {}) {
  const port = await freePort();
  const processes: RunningProcess[] = await Promise.all([
    ...Array.from({ length: options.ingestInstances ?? 1 }, () => startService('ingest-worker', target, where)),
    startService('aggregator-worker', target, where),
    startService('query-service', target, where, { HTTP_PORT: String(port), RATE_LIMIT_PER_MINUTE: '10000000', RATE_LIMIT_IN_FLIGHT_PER_IDENTITY: '10000', RATE_LIMIT_IN_FLIGHT_PER_ORG: '10000', LOG_LEVEL: 'warn' }),
  ]);
  const address = `http://127.0.0.1:${port}`;
  await eventually(async () => ((await fetch(`${address}/readyz`).catch(() => null))?.ok ? true : undefined), 120_000, 'the query service');
  return {
    address,
    processes,
    /** Stops every process; returns the peak RSS of each, by name. */
    async stop(): Promise<Record<string, number | null>> {
      const out: Record<string, number | null> = {};
      for (const p of processes) out[p.name] = Math.max(out[p.name] ?? 0, (await p.stop()) ?? 0);
      return out;
    },
  };
}
