/**
 * Baseline: the ingest worker as a first attempt would be written. One message at a time
 * (eachMessage, kafkajs' default auto-commit): decode, validate, check Redis for a duplicate,
 * apply the event in a transaction of its own with the project's fact code (so the result is
 * the same facts), publish each resulting funnel event with its own send and mark it, set the
 * Redis marker. Run as its own process by ingest-baselines.ts; exits once it has handled
 * BENCH_EXPECT messages and their offsets are committed, and prints {"messages", "peakRssMb",
 * "postgresCpuSeconds", "benchTiming": {firstFetchAt, lastCommitAt, cpuSeconds}}.
 */
import { loadConfig } from '../libs/config/config.js';
import { createLogger } from '../libs/log/logger.js';
import { createKafka } from '../libs/kafka/client.js';
import { createEventProducer } from '../libs/kafka/event-producer.js';
import { createEventCodec, createSchemaRegistry, type RecordOf } from '../libs/events/codec.js';
import { INPUT_TOPICS, topicNames } from '../libs/events/topics.js';
import { createPool, createRedis } from '../libs/runtime/connections.js';
import { HANDLERS, type InputTopic, type TopicHandler } from '../services/ingest-worker/handlers.js';
import { createBatchApplier } from '../services/ingest-worker/apply-batch.js';
import { clearOutbox } from '../services/ingest-worker/facts/funnel-records.js';
import { watchConsumer } from './lib/consumer-timing.js';
import { backendCpuSeconds, reportBaseline, withApplicationName } from './lib/baseline-process.js';

const config = loadConfig();
const log = createLogger({ name: 'naive-ingest', level: 'error' });
const topics = topicNames(config.kafka.topicPrefix);
const codec = createEventCodec({ registry: createSchemaRegistry(config), topics });
const kafka = createKafka({ ...config.kafka, log });
const APPLICATION = 'bench-naive-ingest';
const pool = createPool({ ...config, databaseUrl: withApplicationName(config.databaseUrl, APPLICATION) }, log, 4);
const redis = createRedis(config, log);
const producer = createEventProducer({ kafka, codec, topics });
const applyBatch = createBatchApplier({ pool, config });
const byName = new Map<string, InputTopic>(INPUT_TOPICS.map((t) => [topics[t], t]));
const expect = Number(process.env.BENCH_EXPECT);
const consumer = kafka.consumer({ groupId: `${config.kafka.topicPrefix}naive` });
const watch = watchConsumer(consumer);
let seen = 0;
let done: () => void;
const finished = new Promise<void>((r) => (done = r));

async function handle<T extends InputTopic>(topic: T, value: Buffer | null): Promise<void> {
  const handler = HANDLERS[topic] as unknown as TopicHandler<T>;
  let record: RecordOf<T>;
  try {
    record = (await codec.decode(topic, value)) as RecordOf<T>;
  } catch {
    return;
  }
  if (handler.validate(record)) return;
  const id = handler.eventId(record);
  const key = `naive:${config.kafka.topicPrefix}${topic}:${id}`;
  if (id && (await redis.get(key))) return;
  const { funnelRecords, outboxIds } = await applyBatch(topic, [record]);
  for (const t of funnelRecords) {
    await producer.send('referralEvents', [{
      eventId: t.eventId, orgId: t.orgId, mentorId: t.mentorId, linkId: t.linkId, campaignId: t.campaignId, referralId: t.referralId,
      userId: t.userId, stage: t.stage, uniqueVisitor: t.uniqueVisitor, occurredAt: t.occurredAt, retractsEventId: t.retractsEventId,
    }]);
  }
  await clearOutbox(pool, outboxIds);
  if (id) await redis.set(key, '1', 'EX', 3600);
}

await redis.connect();
await producer.connect();
await consumer.connect();
await consumer.subscribe({ topics: INPUT_TOPICS.map((t) => topics[t]), fromBeginning: true });
await consumer.run({
  eachMessage: async ({ topic, message }) => {
    await handle(byName.get(topic) as InputTopic, message.value);
    if (++seen >= expect) done();
  },
});
await finished;
await reportBaseline(watch, { messages: seen, postgresCpuSeconds: () => backendCpuSeconds(pool, APPLICATION) });
await consumer.disconnect();
await producer.disconnect();
await pool.end();
redis.disconnect();
process.exit(0);
