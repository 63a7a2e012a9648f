import type { Kafka, Message, Producer } from 'kafkajs';
import { CompressionTypes, Partitioners } from 'kafkajs';
import type { EventCodec, RecordOf, RecordTopic } from '../events/codec.js';
import { TOPICS, type TopicKey, type TopicNames } from '../events/topics.js';

/** Publishes typed records, Avro-encoded and keyed as the topic catalogue says. */
export interface EventProducer {
  connect(): Promise<void>;
  /** Encodes and publishes records in one batch; resolves when the broker acknowledged all. */
  send<T extends RecordTopic>(topic: T, records: readonly RecordOf<T>[], headers?: Message['headers']): Promise<void>;
  /** Publishes already-encoded messages (dead letters, replays). */
  sendRaw(topic: TopicKey, messages: Message[]): Promise<void>;
  disconnect(): Promise<void>;
}

export function createEventProducer(deps: { kafka: Kafka; codec: EventCodec; topics: TopicNames }): EventProducer {
  const { kafka, codec, topics } = deps;
  // Idempotent producer: broker-side dedupe of our own retries, acks from all in-sync replicas.
  // Retries are unbounded on purpose: a broker outage pauses the caller instead of losing data.
  const producer: Producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 5,
    allowAutoTopicCreation: false,
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5000 },
  });
  let connected: Promise<void> | undefined;

  const sendRaw = async (topic: TopicKey, messages: Message[]): Promise<void> => {
    if (messages.length === 0) return;
    await producer.send({ topic: topics[topic], messages, acks: -1, compression: CompressionTypes.None });
  };

  return {
    connect: () => (connected ??= producer.connect()),
    async send(topic, records, headers) {
      const keyField = TOPICS[topic].keyField as string;
      const messages = await Promise.all(
        records.map(async (record) => ({
          key: String((record as unknown as Record<string, unknown>)[keyField]),
          value: await codec.encode(topic, record),
          ...(headers ? { headers } : {}),
        })),
      );
      await sendRaw(topic, messages);
    },
    sendRaw,
    async disconnect() {
      if (connected) await producer.disconnect();
      connected = undefined;
    },
  };
}
