/**
 * Baseline: the bare writer, what persisting the input costs at all on this machine.
 *
 * A kafkajs consumer over the ingest worker's input topics with the worker's fetch settings and
 * its concurrency catching up (every partition's batch of a fetch handed over at once and dealt
 * into as many lanes as the worker applies parts of a catch-up at once, INGEST_CATCH_UP_LANES,
 * side by side, libs/kafka/coalesce.ts). A lane decodes its records with the project's
 * codec and writes them in one transaction, one `COPY ... FROM STDIN` per topic, into the
 * worker's own fact tables in a database of its own (DATABASE_URL, migrated with the project's
 * migrations: the same keys and indexes; bench/lib/bare-tables.ts); each partition's offset is
 * committed once its lane's transaction is. Nothing else: no validation, no Redis, no
 * decisions, no publishing.
 *
 * Records repeated within a lane (redeliveries) are dropped before the COPY, as the keys would
 * refuse them. A key an earlier batch already wrote (a redelivery across a batch boundary, a
 * link's later state) makes the COPY fail; that lane is then written again through temporary
 * tables (`COPY` into them, `INSERT ... ON CONFLICT`), and counted in `restaged`.
 *
 * Run as its own process by ingest-baselines.ts; exits once it has committed BENCH_EXPECT
 * messages and prints one line: {"messages", "rows", "restaged", "peakRssMb",
 * "postgresCpuSeconds", "benchTiming": {firstFetchAt, lastCommitAt, cpuSeconds}}.
 */
import pg from 'pg';
import { loadConfig } from '../libs/config/config.js';
import { createLogger } from '../libs/log/logger.js';
import { createKafka } from '../libs/kafka/client.js';
import { coalesceBatches, INGEST_CATCH_UP_LANES } from '../libs/kafka/coalesce.js';
import type { Batch } from '../libs/kafka/batch-consumer.js';
import { createEventCodec, createSchemaRegistry, type RecordOf } from '../libs/events/codec.js';
import { INPUT_TOPICS, topicNames } from '../libs/events/topics.js';
import { bareTables, type InputTopic } from './lib/bare-tables.js';
import { groupRows, writeRows } from './lib/bare-lane.js';
import { watchConsumer } from './lib/consumer-timing.js';
import { backendCpuSeconds, reportBaseline, withApplicationName, workerFetchSettings } from './lib/baseline-process.js';

const APPLICATION = 'bench-bare-writer';
const config = loadConfig();
const log = createLogger({ name: 'bare-writer', level: 'error' });
const topics = topicNames(config.kafka.topicPrefix);
const codec = createEventCodec({ registry: createSchemaRegistry(config), topics });
const kafka = createKafka({ ...config.kafka, log });
// The ingest worker's pool size (libs/runtime/connections.ts); its lanes use one each at a time.
const pool = new pg.Pool({ connectionString: withApplicationName(config.databaseUrl, APPLICATION), max: 10 });
const tables = bareTables(config.visitorHashKey);
const byName = new Map<string, InputTopic>(INPUT_TOPICS.map((t) => [topics[t], t]));
const expect = Number(process.env.BENCH_EXPECT);
let rows = 0;
let restaged = 0;

async function writeLane(batches: Batch[]): Promise<void> {
  const records: { topic: InputTopic; record: RecordOf<InputTopic> }[] = [];
  for (const batch of batches) {
    const topic = byName.get(batch.topic);
    if (!topic) throw new Error(`not an input topic: ${batch.topic}`);
    for (const message of batch.messages) records.push({ topic, record: (await codec.decode(topic, message.value)) as RecordOf<InputTopic> });
  }
  const written = await writeRows(pool, groupRows(tables, records));
  rows += written.rows;
  if (written.restaged) restaged++;
}

const apply = coalesceBatches(writeLane, { lanes: INGEST_CATCH_UP_LANES });
const fetch = workerFetchSettings(config.kafka, INPUT_TOPICS.length);
const consumer = kafka.consumer({ groupId: process.env.BENCH_GROUP ?? 'bare-writer', ...fetch.consumer });
const watch = watchConsumer(consumer);
let seen = 0;
let done: () => void;
const finished = new Promise<void>((r) => (done = r));
await consumer.connect();
await consumer.subscribe({ topics: INPUT_TOPICS.map((t) => topics[t]), fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: fetch.partitionsConsumedConcurrently,
  eachBatch: async ({ batch, resolveOffset, isStale }) => {
    if (batch.messages.length === 0) return;
    await apply({ topic: batch.topic, partition: batch.partition, messages: batch.messages, highWatermark: batch.highWatermark, log, isStale });
    const last = batch.messages[batch.messages.length - 1] as (typeof batch.messages)[number];
    resolveOffset(last.offset);
    await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
    seen += batch.messages.length;
    if (seen >= expect) done();
  },
});
await finished;
await reportBaseline(watch, { messages: seen, rows, restaged, postgresCpuSeconds: () => backendCpuSeconds(pool, APPLICATION) });
await consumer.disconnect();
await pool.end();
process.exit(0);
