import { randomBytes } from 'node:crypto';
import { CompressionTypes, type Admin, type Kafka, type KafkaMessage } from 'kafkajs';
import type { Logger } from '../log/logger.js';
import { undecodableReason } from './decode-batch.js';

export interface ReplayBound {
  /** An offset, applied to every partition. */
  offset?: bigint;
  /** Epoch ms of the broker record timestamp: the first offset at or after it. */
  time?: number;
}

export interface PartitionRange {
  topic: string;
  partition: number;
  /** First offset to replay. */
  start: bigint;
  /** Offset to stop before. */
  end: bigint;
}

export interface ReplayPlan {
  ranges: PartitionRange[];
  /** Topics that hold state (compacted, last record per key wins): replayed as their current state. */
  stateTopics: string[];
  total: number;
}

/**
 * Works out what a replay covers: for each partition of each topic, [start, end) from the
 * bounds (offsets, or broker timestamps resolved with ListOffsets), clamped to what the topic
 * still holds. State topics are always read whole, since replaying an old state of a link
 * would overwrite a newer one; only each key's latest record is sent again.
 */
export async function planReplay(admin: Admin, topics: { name: string; state: boolean }[], from: ReplayBound, to: ReplayBound): Promise<ReplayPlan> {
  const ranges: PartitionRange[] = [];
  const byTime = async (topic: string, time: number) => new Map((await admin.fetchTopicOffsetsByTimestamp(topic, time)).map((p) => [p.partition, BigInt(p.offset)]));
  for (const { name, state } of topics) {
    const offsets = await admin.fetchTopicOffsets(name);
    const fromTime = !state && from.time !== undefined ? await byTime(name, from.time) : null;
    const toTime = !state && to.time !== undefined ? await byTime(name, to.time) : null;
    for (const p of offsets) {
      const low = BigInt(p.low);
      const high = BigInt(p.high);
      // ListOffsets answers -1 (or the end) when no record is at or after the time.
      const resolve = (m: Map<number, bigint> | null) => {
        const v = m?.get(p.partition);
        return v === undefined || v < 0n ? high : v;
      };
      let start = low;
      let end = high;
      if (!state) {
        if (from.offset !== undefined) start = from.offset;
        if (fromTime) start = resolve(fromTime);
        if (to.offset !== undefined) end = to.offset;
        if (toTime) end = resolve(toTime);
      }
      start = start < low ? low : start;
      end = end > high ? high : end;
      if (end > start) ranges.push({ topic: name, partition: p.partition, start, end });
    }
  }
  return { ranges, stateTopics: topics.filter((t) => t.state).map((t) => t.name), total: ranges.reduce((n, r) => n + Number(r.end - r.start), 0) };
}

/**
 * Sends the records of a plan again to the topics they came from, to the same partitions, with
 * their keys, values and headers (plus `replay.source.offset`). The pipeline drops what it has
 * seen by eventId, so a replay only fills in what is missing and can be re-run or stopped at any
 * point. Resolves with how many records were read and sent.
 */
export async function replay(kafka: Kafka, plan: ReplayPlan, options: { log: Logger; signal?: AbortSignal; onProgress?: (read: number) => void }): Promise<{ read: number; sent: number; stopped: boolean }> {
  if (plan.ranges.length === 0) return { read: 0, sent: 0, stopped: false };
  const key = (topic: string, partition: number) => `${topic}:${partition}`;
  const ranges = new Map(plan.ranges.map((r) => [key(r.topic, r.partition), r]));
  const pending = new Set(ranges.keys());
  const stateTopics = new Set(plan.stateTopics);
  const latest = new Map<string, { topic: string; partition: number; message: KafkaMessage }>();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5000 } });
  const consumer = kafka.consumer({ groupId: `recruitment-replay-${randomBytes(6).toString('hex')}`, maxWaitTimeInMs: 250, maxBytesPerPartition: 4 * 1024 * 1024 });
  let read = 0;
  let sent = 0;
  let unreadableBatches = 0;

  const headersOf = (m: KafkaMessage) => ({ ...m.headers, 'replay.source.offset': m.offset });
  await producer.connect();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [...new Set(plan.ranges.map((r) => r.topic))], fromBeginning: true });
    const finished = new Promise<boolean>((resolve, reject) => {
      const abort = () => resolve(true);
      if (options.signal?.aborted) return abort();
      options.signal?.addEventListener('abort', abort, { once: true });
      consumer.on(consumer.events.GROUP_JOIN, () => {
        for (const r of ranges.values()) consumer.seek({ topic: r.topic, partition: r.partition, offset: r.start.toString() });
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch, isStale }) => {
            const range = ranges.get(key(batch.topic, batch.partition));
            if (!range || isStale() || options.signal?.aborted || !pending.has(key(batch.topic, batch.partition))) return;
            const inRange: KafkaMessage[] = [];
            for (const m of batch.messages) {
              if (BigInt(m.offset) < range.start || BigInt(m.offset) >= range.end) continue;
              const unreadable = undecodableReason(m);
              // Not sent again: its bytes are a whole record batch, not a record. The worker dead-lettered it the first time.
              if (unreadable === null) inRange.push(m);
              else {
                unreadableBatches++;
                options.log.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset, reason: unreadable }, 'a record batch the client cannot read is not replayed');
              }
            }
            if (stateTopics.has(batch.topic)) {
              for (const m of inRange) if (m.key) latest.set(`${batch.topic}\u0000${m.key.toString('hex')}`, { topic: batch.topic, partition: batch.partition, message: m });
            } else if (inRange.length > 0) {
              await producer.send({
                topic: batch.topic,
                acks: -1,
                compression: CompressionTypes.None,
                messages: inRange.map((m) => ({ key: m.key, value: m.value, headers: headersOf(m), partition: batch.partition })),
              });
              sent += inRange.length;
            }
            read += inRange.length;
            options.onProgress?.(read);
            const last = batch.messages[batch.messages.length - 1];
            if (last && BigInt(last.offset) + 1n >= range.end) {
              pending.delete(key(batch.topic, batch.partition));
              if (pending.size === 0) resolve(false);
            }
          },
        })
        .catch(reject);
    });
    const stopped = await finished;
    if (!stopped && latest.size > 0) {
      for (const { topic, partition, message } of latest.values()) {
        await producer.send({ topic, acks: -1, messages: [{ key: message.key, value: message.value, headers: headersOf(message), partition }] });
        sent++;
      }
    }
    options.log.info({ read, sent, stopped, unreadableBatches }, stopped ? 'replay stopped; running it again is safe' : 'replay finished');
    return { read, sent, stopped };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
  }
}
