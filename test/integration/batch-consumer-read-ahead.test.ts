import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../libs/config/config.js';
import { createLogger } from '../../libs/log/logger.js';
import { createKafka, type Admin, type Kafka } from '../../libs/kafka/client.js';
import { createBatchConsumer, type Batch, type BatchConsumer } from '../../libs/kafka/batch-consumer.js';
import { committedOffsets } from '../../libs/kafka/group-positions.js';
import { eventually } from '../support/env.js';

/**
 * The batch consumer on the real broker: two partitions, each written as six record batches of
 * ten (about 1.2 kB each) and fetched one record batch per partition at a time, the first batch of partition 0
 * held up by its handler (after failing once). Reading ahead, the next fetch is read and
 * partition 1 goes on meanwhile, but partition 0's next batch waits for the one held up (a
 * partition's batches are applied in order) and nothing is committed past it; without reading
 * ahead, nothing more is fetched meanwhile.
 */
const config = loadConfig({ ...process.env, NODE_ENV: 'test' });
// The handler's failure is logged as a warning on purpose: quiet unless asked for.
const log = createLogger({ name: 'test:read-ahead', level: process.env.LOG_LEVEL ?? 'error' });
const namespace = `t_read_ahead_${randomBytes(3).toString('hex')}`;
const RECORDS = 60;
let kafka: Kafka;
let admin: Admin;
const topics: string[] = [];

/** A topic of two partitions, each holding RECORDS records in record batches of ten (one produce call each). */
async function topicOfSixBatches(name: string): Promise<string> {
  const topic = `${namespace}.${name}`;
  await admin.createTopics({ topics: [{ topic, numPartitions: 2, replicationFactor: config.kafka.replicationFactor }], waitForLeaders: true });
  topics.push(topic);
  const producer = kafka.producer({ createPartitioner: () => ({ message }) => message.partition as number });
  await producer.connect();
  for (let b = 0; b < RECORDS / 10; b++) {
    for (const partition of [0, 1]) {
      await producer.send({ topic, messages: Array.from({ length: 10 }, (_, i) => ({ partition, value: `record ${b * 10 + i} `.padEnd(100, '.') })) });
    }
  }
  await producer.disconnect();
  return topic;
}

/** What the group has committed for each partition (-1: nothing). */
async function committed(group: string, topic: string): Promise<[bigint, bigint]> {
  const offsets = await committedOffsets(admin, group, topic);
  return [offsets.get(0) ?? -1n, offsets.get(1) ?? -1n];
}

/**
 * A consumer of `topic` fetching one record batch per partition at a time (1.5 kB a partition:
 * one whole batch of 1.2 kB, and part of the next, which the client leaves for the next fetch),
 * whose handler fails partition 0's first batch once, then holds it until released.
 */
function heldConsumer(topic: string, group: string, readAhead: boolean) {
  const started: string[] = [];
  const applied: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let failedOnce = false;
  const range = (b: Batch) => `p${b.partition}:${b.messages[0]!.offset}-${b.messages.at(-1)!.offset}`;
  const consumer: BatchConsumer = createBatchConsumer({
    kafka,
    groupId: group,
    topics: [topic],
    log,
    maxBytesPerPartition: 1_500,
    maxWaitMs: 100,
    readAhead,
    async handle(batch) {
      started.push(range(batch));
      if (batch.partition === 0 && batch.messages[0]!.offset === '0') {
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

const of = (partition: number, ranges: string[]) => ranges.filter((r) => r.startsWith(`p${partition}:`));
const ALL = (p: number) => [0, 10, 20, 30, 40, 50].map((o) => `p${p}:${o}-${o + 9}`);

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
  it('reads the next fetch while a batch is held up, applies a partition in order, and commits nothing past the batch held up', async () => {
    const topic = await topicOfSixBatches('ahead');
    const group = `${namespace}.ahead`;
    const { consumer, started, applied, release } = heldConsumer(topic, group, true);
    await consumer.start();
    try {
      // The second fetch was read: partition 1's second batch is applied while partition 0's first is held up.
      await eventually(async () => (applied.includes('p1:10-19') && of(0, started).length === 2 ? true : undefined), 30_000, "partition 1's second batch to be applied while partition 0's first is held up");
      // Partition 0's second batch waits for its first; at most one fetch ahead: nothing of the third.
      expect(started).not.toContain('p0:10-19');
      expect(started).not.toContain('p1:20-29');
      expect(applied).toEqual(['p1:0-9', 'p1:10-19']);
      expect(await committed(group, topic)).toEqual([-1n, 20n]);
      release();
      await eventually(async () => ((await committed(group, topic)).join() === `${RECORDS},${RECORDS}` ? true : undefined), 30_000, 'every offset committed');
      expect(of(0, applied)).toEqual(ALL(0));
      expect(of(1, applied)).toEqual(ALL(1));
    } finally {
      release();
      await consumer.close();
    }
  });

  it('without reading ahead, nothing more is fetched while a batch is held up', async () => {
    const topic = await topicOfSixBatches('in-turn');
    const group = `${namespace}.in-turn`;
    const { consumer, started, applied, release } = heldConsumer(topic, group, false);
    await consumer.start();
    try {
      // Failed once, then held: handed over twice; partition 1's first batch applied, and nothing else.
      await eventually(async () => (of(0, started).length === 2 && applied.length === 1 ? true : undefined), 30_000, "partition 0's first batch to be tried again");
      expect(of(0, started)).toEqual(['p0:0-9', 'p0:0-9']);
      expect(applied).toEqual(['p1:0-9']);
      expect(await committed(group, topic)).toEqual([-1n, 10n]);
      release();
      await eventually(async () => ((await committed(group, topic)).join() === `${RECORDS},${RECORDS}` ? true : undefined), 30_000, 'every offset committed');
      expect(of(0, applied)).toEqual(ALL(0));
      expect(of(1, applied)).toEqual(ALL(1));
    } finally {
      release();
      await consumer.close();
    }
  });

  it('close() waits for the batch being applied and commits what was applied, in order', async () => {
    const topic = await topicOfSixBatches('close');
    const group = `${namespace}.close`;
    const { consumer, started, applied, release } = heldConsumer(topic, group, true);
    await consumer.start();
    await eventually(async () => (applied.includes('p1:10-19') && of(0, started).length === 2 ? true : undefined), 30_000, "partition 1's second batch to be applied while partition 0's first is held up");
    const closed = consumer.close();
    setTimeout(release, 300);
    await closed;
    // Partition 0's first batch ended and was committed; its second, not yet handed over, was left for the next consumer.
    expect(applied).toEqual(['p1:0-9', 'p1:10-19', 'p0:0-9']);
    expect(await committed(group, topic)).toEqual([10n, 20n]);
  });
});
