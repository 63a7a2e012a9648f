import type { Kafka, Message, PartitionerArgs, Producer } from 'kafkajs';
import { errorChain, reconnectingAdmin } from './client.js';
import { CompressionTypes, Partitioners } from 'kafkajs';
import type { EventCodec, RecordOf, RecordTopic } from '../events/codec.js';
import { TOPICS, type TopicKey, type TopicNames } from '../events/topics.js';
import { partitionOf } from './partition-of.js';

/** Publishes typed records, Avro-encoded and keyed as the topic catalogue says. */
export interface EventProducer {
  connect(): Promise<void>;
  /** Encodes and publishes records in one batch; resolves when the broker acknowledged all. */
  send<T extends RecordTopic>(topic: T, records: readonly RecordOf<T>[], headers?: Message['headers']): Promise<void>;
  /** Publishes already-encoded messages (dead letters, replays). */
  sendRaw(topic: TopicKey, messages: Message[]): Promise<void>;
  /**
   * Publishes already-encoded messages of several topics in one produce request (more only
   * past PARTITION_REQUEST_BYTES a partition): what a client that lingers batches every topic's
   * records into. The broker's cost is mostly per request, not per record.
   */
  sendRawMany(batches: readonly { topic: TopicKey; messages: Message[] }[]): Promise<void>;
  disconnect(): Promise<void>;
}

/**
 * Broker answers that mean the producer's sequence numbers no longer match the partition's:
 * this producer id cannot write there again, a new one (a new kafkajs producer) can.
 */
const SEQUENCE_LOST = new Set(['OUT_OF_ORDER_SEQUENCE_NUMBER', 'DUPLICATE_SEQUENCE_NUMBER', 'UNKNOWN_PRODUCER_ID', 'INVALID_PRODUCER_EPOCH', 'INVALID_PRODUCER_ID_MAPPING']);

/** A partition's share of one produce request: half the broker's default message.max.bytes. */
export const PARTITION_REQUEST_BYTES = 512 * 1024;

/** A message's bytes in a record batch, near enough (key, value, headers, and the record's own fields). */
function messageBytes(m: Message): number {
  let bytes = 32 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  for (const [k, v] of Object.entries(m.headers ?? {})) bytes += 8 + k.length + (Array.isArray(v) ? v.reduce((a, x) => a + String(x).length, 0) : String(v ?? '').length);
  return bytes;
}

/**
 * An idempotent producer (acks from all in-sync replicas, broker-side dedupe of its own
 * retries) that stays correct through a broker failover.
 *
 * Sends go out one at a time. kafkajs numbers an idempotent producer's batches per partition
 * and, when a request fails without an answer, takes the numbers back for the retry; had a
 * second send meanwhile taken those numbers, a dead leader's last write (replicated, never
 * acknowledged) would make the broker drop that other send's messages as "duplicates" while
 * acknowledging them. One send at a time, its retries reuse its own numbers.
 *
 * If the broker no longer accepts the producer's numbers at all (out of order, unknown
 * producer id), the kafkajs producer is replaced by a new one with a new producer id and the
 * send fails, so the caller retries it: at least once, and every consumer of these topics
 * deduplicates by event id.
 *
 * Every partition of a send must be acknowledged. kafkajs 2.2.4 retries a send broker by
 * broker: when a partition's leader dies mid-send and the partition moves to a broker that
 * already answered for its own partitions, the retry skips it, and send() resolves without
 * those messages ever written (seen here: two funnel events lost, never counted). So messages
 * are given their partition here (the default partitioner's murmur2 of the key, partitionOf,
 * on the topic's current partition count), and any partition missing from the
 * acknowledgements is sent again.
 */
export function createEventProducer(deps: { kafka: Kafka; codec: EventCodec; topics: TopicNames }): EventProducer {
  const { kafka, codec, topics } = deps;
  const create = (): Producer =>
    // Retries are unbounded on purpose: a broker outage pauses the caller instead of losing data.
    kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      // sendAcknowledged gives every message its partition; kafkajs' default partitioner would
      // filter the topic's partition list for each message before looking at it.
      createPartitioner: () => ({ message }) => message.partition as number,
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
    });
  let producer = create();
  let connected: Promise<void> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  // Keyed messages are placed as the default partitioner places them (partitionOf); an unkeyed one by its round robin.
  const roundRobin = Partitioners.DefaultPartitioner();
  const partitionCounts = new Map<string, { count: number; at: number }>();
  const admin = reconnectingAdmin(kafka);

  /** The topic's partition count, asked of the cluster at most once a minute (partitions can be added). */
  async function partitionCount(topic: string): Promise<number> {
    const known = partitionCounts.get(topic);
    if (known && Date.now() - known.at < 60_000) return known.count;
    const { topics: meta } = await admin.use((a) => a.fetchTopicMetadata({ topics: [topic] }));
    const count = meta[0]?.partitions.length ?? 0;
    if (count === 0) throw new Error(`topic ${topic} has no partitions`);
    partitionCounts.set(topic, { count, at: Date.now() });
    return count;
  }

  const connect = () => (connected ??= producer.connect().catch((err: unknown) => {
    connected = undefined;
    throw err;
  }));

  async function replace(): Promise<void> {
    const old = producer;
    producer = create();
    connected = undefined;
    await old.disconnect().catch(() => undefined);
    await connect();
  }

  /** Runs sends strictly one after another, whatever their callers do concurrently. */
  function serially<T>(f: () => Promise<T>): Promise<T> {
    const run = queue.then(f, f);
    queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Sends until every partition the messages go to has acknowledged them, each partition's
   * messages in order, at most PARTITION_REQUEST_BYTES of them per request: kafkajs puts a
   * partition's messages of one send in one record batch, and a broker refuses a batch over
   * its message.max.bytes (1 MiB by default) as a whole, so a catching-up worker's few thousand
   * funnel events for one partition must go in several requests. Every topic's partitions go
   * in the same request.
   */
  async function sendAcknowledged(batches: readonly { name: string; messages: Message[] }[]): Promise<void> {
    /** Per topic name, per partition, the messages not yet acknowledged. */
    const pending = new Map<string, Map<number, Message[]>>();
    for (const { name, messages } of batches) {
      if (messages.length === 0) continue;
      const count = await partitionCount(name);
      // The partition list only the round robin reads (unkeyed messages: dead letters, replays), built for a send that has one.
      let partitionMetadata: PartitionerArgs['partitionMetadata'] | undefined;
      const unkeyed = (message: Message): number => {
        partitionMetadata ??= Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [], isr: [] })) as unknown as PartitionerArgs['partitionMetadata'];
        return roundRobin({ topic: name, partitionMetadata, message });
      };
      const partitions = pending.get(name) ?? new Map<number, Message[]>();
      pending.set(name, partitions);
      for (const message of messages) {
        const partition = message.partition ?? (message.key != null ? partitionOf(message.key, count) : unkeyed(message));
        const group = partitions.get(partition);
        if (group) group.push({ ...message, partition });
        else partitions.set(partition, [{ ...message, partition }]);
      }
    }
    for (let unanswered = 0; pending.size > 0; ) {
      const topicMessages: { topic: string; messages: Message[] }[] = [];
      const taken = new Map<string, Map<number, number>>();
      let requested = 0;
      for (const [name, partitions] of pending) {
        const request: Message[] = [];
        const counts = new Map<number, number>();
        for (const [partition, group] of partitions) {
          let n = 0;
          for (let bytes = 0; n < group.length; n++) {
            const size = messageBytes(group[n] as Message);
            if (n > 0 && bytes + size > PARTITION_REQUEST_BYTES) break;
            bytes += size;
          }
          counts.set(partition, n);
          for (let i = 0; i < n; i++) request.push(group[i] as Message);
        }
        topicMessages.push({ topic: name, messages: request });
        taken.set(name, counts);
        requested += counts.size;
      }
      const acknowledged = await producer.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.None });
      let answered = 0;
      for (const r of acknowledged) {
        const partitions = r.errorCode === 0 ? pending.get(r.topicName) : undefined;
        const group = partitions?.get(r.partition);
        if (!partitions || !group) continue;
        answered++;
        group.splice(0, taken.get(r.topicName)?.get(r.partition));
        if (group.length === 0) partitions.delete(r.partition);
        if (partitions.size === 0) pending.delete(r.topicName);
      }
      if (answered < requested && ++unanswered >= 10) {
        const left = [...pending].map(([name, partitions]) => `${[...partitions.keys()].join(', ')} of ${name}`).join('; ');
        throw new Error(`partitions ${left} unacknowledged after ${unanswered} sends`);
      }
    }
  }

  const sendRawMany = (batches: readonly { topic: TopicKey; messages: Message[] }[]): Promise<void> => {
    if (batches.every((b) => b.messages.length === 0)) return Promise.resolve();
    return serially(async () => {
      await connect();
      try {
        await sendAcknowledged(batches.map((b) => ({ name: topics[b.topic], messages: b.messages })));
      } catch (err) {
        if (errorChain(err).some((e) => SEQUENCE_LOST.has(e.type ?? ''))) await replace();
        throw err;
      }
    });
  };

  return {
    connect,
    async send(topic, records, headers) {
      const keyField = TOPICS[topic].keyField as string;
      const values = await codec.encodeAll(topic, records);
      const messages = records.map((record, i) => ({
        key: String((record as unknown as Record<string, unknown>)[keyField]),
        value: values[i] as Buffer,
        ...(headers ? { headers } : {}),
      }));
      await sendRawMany([{ topic, messages }]);
    },
    sendRaw: (topic, messages) => sendRawMany([{ topic, messages }]),
    sendRawMany,
    async disconnect() {
      await queue;
      if (connected) await producer.disconnect();
      connected = undefined;
      await admin.close();
    },
  };
}
