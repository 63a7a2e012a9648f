/**
 * Baseline: a bare kafkajs consumer over the input topics (eachBatch, every value decoded with
 * the project's codec, nothing else done with it). Run as its own process by
 * ingest-baselines.ts; exits once it has decoded BENCH_EXPECT messages and prints
 * {"messages", "peakRssMb"} on stdout.
 */
import { loadConfig } from '../libs/config/config.js';
import { createLogger } from '../libs/log/logger.js';
import { createKafka } from '../libs/kafka/client.js';
import { createEventCodec, createSchemaRegistry } from '../libs/events/codec.js';
import { INPUT_TOPICS, topicNames, type TopicKey } from '../libs/events/topics.js';
import { peakRssMb } from './lib/processes.js';

const config = loadConfig();
const log = createLogger({ name: 'bare-consumer', level: 'error' });
const topics = topicNames(config.kafka.topicPrefix);
const codec = createEventCodec({ registry: createSchemaRegistry(config), topics });
const kafka = createKafka({ ...config.kafka, log });
const byName = new Map<string, (typeof INPUT_TOPICS)[number]>(INPUT_TOPICS.map((t) => [topics[t], t]));
const expect = Number(process.env.BENCH_EXPECT);
// The same fetch settings as the workers' batch consumer (libs/kafka/batch-consumer.ts).
const consumer = kafka.consumer({ groupId: process.env.BENCH_GROUP ?? 'bare', maxBytesPerPartition: 2 * 1024 * 1024, maxWaitTimeInMs: 250 });
let seen = 0;
let done: () => void;
const finished = new Promise<void>((r) => (done = r));
await consumer.connect();
await consumer.subscribe({ topics: INPUT_TOPICS.map((t) => topics[t]), fromBeginning: true });
await consumer.run({
  partitionsConsumedConcurrently: 3,
  eachBatch: async ({ batch }) => {
    const topic = byName.get(batch.topic) as TopicKey & (typeof INPUT_TOPICS)[number];
    for (const m of batch.messages) await codec.decode(topic, m.value);
    seen += batch.messages.length;
    if (seen >= expect) done();
  },
});
await finished;
process.stdout.write(JSON.stringify({ messages: seen, peakRssMb: peakRssMb(process.pid) }) + '\n');
await consumer.disconnect();
process.exit(0);
