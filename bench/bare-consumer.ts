/**
 * Baseline: a bare kafkajs consumer over the input topics (eachBatch, every value decoded with
 * the project's codec, nothing else done with it; kafkajs commits the offsets after each
 * batch), with the ingest worker's fetch settings. Run as its own process by
 * ingest-baselines.ts; exits once it has decoded BENCH_EXPECT messages and their offsets are
 * committed, and prints {"messages", "peakRssMb", "benchTiming": {firstFetchAt, lastCommitAt, cpuSeconds}}.
 */
import { loadConfig } from '../libs/config/config.js';
import { createLogger } from '../libs/log/logger.js';
import { createKafka } from '../libs/kafka/client.js';
import { createEventCodec, createSchemaRegistry } from '../libs/events/codec.js';
import { INPUT_TOPICS, topicNames, type TopicKey } from '../libs/events/topics.js';
import { watchConsumer } from './lib/consumer-timing.js';
import { reportBaseline, workerFetchSettings } from './lib/baseline-process.js';

const config = loadConfig();
const log = createLogger({ name: 'bare-consumer', level: 'error' });
const topics = topicNames(config.kafka.topicPrefix);
const codec = createEventCodec({ registry: createSchemaRegistry(config), topics });
const kafka = createKafka({ ...config.kafka, log });
const byName = new Map<string, (typeof INPUT_TOPICS)[number]>(INPUT_TOPICS.map((t) => [topics[t], t]));
const expect = Number(process.env.BENCH_EXPECT);
const fetch = workerFetchSettings(config.kafka, INPUT_TOPICS.length);
const consumer = kafka.consumer({ groupId: process.env.BENCH_GROUP ?? 'bare', ...fetch.consumer });
const watch = watchConsumer(consumer);
let seen = 0;
let done: () => void;
const finished = new Promise<void>((r) => (done = r));
await consumer.connect();
await consumer.subscribe({ topics: INPUT_TOPICS.map((t) => topics[t]), fromBeginning: true });
await consumer.run({
  partitionsConsumedConcurrently: fetch.partitionsConsumedConcurrently,
  eachBatch: async ({ batch }) => {
    const topic = byName.get(batch.topic) as TopicKey & (typeof INPUT_TOPICS)[number];
    for (const m of batch.messages) await codec.decode(topic, m.value);
    seen += batch.messages.length;
    if (seen >= expect) done();
  },
});
await finished;
await reportBaseline(watch, { messages: seen });
await consumer.disconnect();
process.exit(0);
