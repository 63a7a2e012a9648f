import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../libs/config/config.js';
import { createLogger } from '../../libs/log/logger.js';
import { createKafka, type Admin, type Kafka } from '../../libs/kafka/client.js';
import { createBatchConsumer, type Batch, type BatchConsumer } from '../../libs/kafka/batch-consumer.js';
import { committedOffsets } from '../../libs/kafka/group-positions.js';
import { eventually } from '../support/env.js';

/**
 * The batch consumer on the real broker, one partition written as six record batches of ten
 * and fetched one record batch at a time, the first batch held up by its handler. Reading
 * ahead, the next batch is fetched and applied meanwhile, but no offset is committed past
 * the batch held up until it is applied; without, nothing else is handed over meanwhile.
 */
const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
// The handler's failure is logged as a warning on purpose: quiet unless asked for.
const log = createLogger({ name: 'test:read-ahead', level: process.env.LOG_LEVEL ?? 'error' });
const namespace = `t_read_ahead_${randomBytes(3).toString('hex')}`;
const RECORDS = 60;
let kafka: Kafka;
let admin: Admin;
const topics: string[] = [];

/** A topic of one partition holding RECORDS records in record batches of ten (one produce call each). */
async function topicOfSixBatches(name: string): Promise<string> {
  const topic = `${namespace}.${name}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor: config.kafka.replicationFactor }], waitForLeaders: true });
  topics.push(topic);
  const producer = kafka.producer({ createPartitioner: () => () => 0 });
  await producer.connect();
  for (let b = 0; b < RECORDS / 10; b++) {
    await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: `record ${b * 10 + i}` })) });
  }
  await producer.disconnect();
  return topic;
}

/** What the group has committed for partition 0 (-1: nothing). */
const committed = async (group: string, topic: string) => (await committedOffsets(admin, group, topic)).get(0) ?? -1n;

/**
 * A consumer of `topic` fetching one record batch at a time (a fetch returns at least one whole
 * record batch, however small the limit), whose handler holds the batch starting at offset 0
 * until released, after failing it once.
 */
function heldConsumer(topic: string, group: string, readAhead: boolean) {
  const started: string[] = [];
  const applied: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let failedOnce = false;
  const range = (b: Batch) => `${b.messages[0]!.offset}-${b.messages.at(-1)!.offset}`;
  const consumer: BatchConsumer = createBatchConsumer({
    kafka,
    groupId: group,
    topics: [topic],
    log,
    maxBytes: 64,
    maxBytesPerPartition: 64,
    maxWaitMs: 100,
    readAhead,
    async handle(batch) {
      started.push(range(batch));
      if (batch.messages[0]!.offset === '0') {
        if (!failedOnce) {
          failedOnce = true;
          throw new Error('Postgres is restarting');
        }
        await released;
      }
      applied.push(range(batch));
    },
  });
  return { consumer, started, applied, release };
}

beforeAll(async () => {
  kafka = createKafka({ ...config.kafka, log });
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  await admin.disconnect();
});

describe('batch consumer reading ahead', () => {
  it('applies the next batches while one is held up, and commits nothing past it until it is applied', async () => {
    const topic = await topicOfSixBatches('ahead');
    const group = `${namespace}.ahead`;
    const { consumer, started, applied, release } = heldConsumer(topic, group, true);
    await consumer.start();
    try {
      // The batch after the one held up is fetched and applied meanwhile.
      await eventually(async () => (applied.includes('10-19') ? true : undefined), 30_000, 'the second batch to be applied while the first is held up');
      expect(applied).toEqual(['10-19']);
      // At most one fetch ahead: the third batch waits for the first.
      expect(started).not.toContain('20-29');
      expect(await committed(group, topic)).toBe(-1n);
      release();
      await eventually(async () => ((await committed(group, topic)) === BigInt(RECORDS) ? true : undefined), 30_000, 'every offset committed');
      expect([...applied].sort((x, y) => Number(x.split('-')[0]) - Number(y.split('-')[0]))).toEqual(['0-9', '10-19', '20-29', '30-39', '40-49', '50-59']);
    } finally {
      release();
      await consumer.close();
    }
  });

  it('without reading ahead, nothing else is handed over while a batch is held up', async () => {
    const topic = await topicOfSixBatches('in-turn');
    const group = `${namespace}.in-turn`;
    const { consumer, started, applied, release } = heldConsumer(topic, group, false);
    await consumer.start();
    try {
      // Failed once, then held: handed over twice, and nothing else.
      await eventually(async () => (started.length === 2 ? true : undefined), 30_000, 'the first batch to be tried again');
      expect(started).toEqual(['0-9', '0-9']);
      expect(await committed(group, topic)).toBe(-1n);
      release();
      await eventually(async () => ((await committed(group, topic)) === BigInt(RECORDS) ? true : undefined), 30_000, 'every offset committed');
      expect(applied).toEqual(['0-9', '10-19', '20-29', '30-39', '40-49', '50-59']);
    } finally {
      release();
      await consumer.close();
    }
  });

  it('close() waits for the batches applied ahead and commits them in order', async () => {
    const topic = await topicOfSixBatches('close');
    const group = `${namespace}.close`;
    const { consumer, started, applied, release } = heldConsumer(topic, group, true);
    await consumer.start();
    await eventually(async () => (applied.includes('10-19') && started.filter((r) => r === '0-9').length === 2 ? true : undefined), 30_000, 'the first batch held up, tried again, and the second applied');
    const closed = consumer.close();
    setTimeout(release, 300);
    await closed;
    expect(applied).toEqual(['10-19', '0-9']);
    // Both applied before the consumer left: the group resumes after them.
    expect(await committed(group, topic)).toBe(20n);
  });
});
