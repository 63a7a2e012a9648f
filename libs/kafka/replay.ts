import { randomBytes } from 'node:crypto';
import { CompressionTypes, type Admin, type IHeaders, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
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
 * Asks again, for up to 10 s, while the broker answers with an error it says is retriable (a
 * partition whose leadership is moving answers NOT_LEADER for a moment; kafkajs' admin does not
 * ask again by itself).
 */
async function retried<T>(ask: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (let wait = 100; ; wait = Math.min(wait * 2, 1_000)) {
    try {
      return await ask();
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() + wait > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * Works out what a replay covers: for each partition of each topic, [start, end) from the
 * bounds (offsets, or broker timestamps resolved with ListOffsets), clamped to what the topic
 * still holds. State topics are always read whole, since replaying an old state of a link
 * would overwrite a newer one; only each key's latest record is sent again.
 */
export async function planReplay(admin: Admin, topics: { name: string; state: boolean }[], from: ReplayBound, to: ReplayBound): Promise<ReplayPlan> {
  const ranges: PartitionRange[] = [];
  const byTime = async (topic: string, time: number) => new Map((await retried(() => admin.fetchTopicOffsetsByTimestamp(topic, time))).map((p) => [p.partition, BigInt(p.offset)]));
  for (const { name, state } of topics) {
    const offsets = await retried(() => admin.fetchTopicOffsets(name));
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

/** A partition's key in the replay's maps. */
const partitionKey = (topic: string, partition: number) => `${topic}:${partition}`;

/** Header marking a replay's own copies, so that it never takes them for upstream's records. */
const REPLAY_RUN_HEADER = 'replay.run';

/** How many times the replay sends again state keys that upstream keeps writing while it sends them. */
export const STATE_ROUNDS = 5;

/** A state key's latest record as the replay read it. */
interface StateRecord {
  topic: string;
  partition: number;
  message: KafkaMessage;
}

/** The current end of every partition of the state topics. */
async function stateEnds(admin: Admin, topics: string[]): Promise<Map<string, bigint>> {
  const ends = new Map<string, bigint>();
  for (const topic of topics) for (const p of await retried(() => admin.fetchTopicOffsets(topic))) ends.set(partitionKey(topic, p.partition), BigInt(p.high));
  return ends;
}

const SEND_CHUNK = 1_000;
const SEND_CHUNK_BYTES = 512 * 1024;

/**
 * Sends these state keys' latest records, at most SEND_CHUNK (and about SEND_CHUNK_BYTES) in one request, and notes where
 * each copy landed (a partition's messages of one request take consecutive offsets from its
 * base offset, in order). Returns how many were sent.
 */
async function sendStates(
  producer: Producer,
  due: [string, StateRecord][],
  headersOf: (m: KafkaMessage) => Record<string, unknown>,
  copies: Map<string, { source: string; at: bigint }>,
  written: Map<string, bigint>,
): Promise<number> {
  for (let i = 0; i < due.length; ) {
    // Under the broker's 1 MB a request however large the states (a scope of many mentors).
    let bytes = 0;
    let end = i;
    while (end < due.length && end - i < SEND_CHUNK && (end === i || bytes < SEND_CHUNK_BYTES)) {
      const { message } = (due[end] as [string, StateRecord])[1];
      bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0) + 64;
      end++;
    }
    const chunk = due.slice(i, end);
    i = end;
    const topics = [...new Set(chunk.map(([, r]) => r.topic))];
    const metadata = await producer.sendBatch({
      acks: -1,
      topicMessages: topics.map((topic) => ({
        topic,
        messages: chunk.filter(([, r]) => r.topic === topic).map(([, r]) => ({ key: r.message.key, value: r.message.value, headers: headersOf(r.message) as IHeaders, partition: r.partition })),
      })),
    });
    const base = new Map(metadata.map((m) => [partitionKey(m.topicName, m.partition), BigInt(m.baseOffset ?? '-1')]));
    const next = new Map<string, bigint>();
    for (const [k, r] of chunk) {
      const p = partitionKey(r.topic, r.partition);
      const at = next.get(p) ?? base.get(p) ?? -1n;
      next.set(p, at + 1n);
      copies.set(k, { source: r.message.offset, at });
      if (at > (written.get(p) ?? -1n)) written.set(p, at);
    }
  }
  return due.length;
}

/**
 * Sends the records of a plan again to the topics they came from, to the same partitions, with
 * their keys, values and headers (plus `replay.source.offset`). The pipeline drops what it has
 * seen by eventId, so a replay only fills in what is missing and can be re-run or stopped at any
 * point. Resolves with how many records were read and sent.
 *
 * A partition's range is done once the consumer's position reaches its end, whatever the last
 * offsets hold: transaction markers and aborted records, which the client never hands over,
 * count as read.
 *
 * State topics (links, scopes) are sent last, each key's latest record as the topic holds it
 * when it is sent: the replay reads them on past the planned end, up to their end at that
 * moment, so a state upstream publishes while the replay runs (a link revoked) is the one sent,
 * never the older one read first. A state upstream publishes between that read and the send
 * would land before the copy: once sent, the replay reads on to the new end (past its copies,
 * once any transaction upstream had open has ended) and sends again the keys whose upstream
 * record changed before its copy (up to STATE_ROUNDS times, then it fails, for the operator to
 * run it again), so the topic's last record of every key is upstream's latest.
 */
export async function replay(kafka: Kafka, plan: ReplayPlan, options: { log: Logger; signal?: AbortSignal; onProgress?: (read: number) => void }): Promise<{ read: number; sent: number; stopped: boolean }> {
  if (plan.ranges.length === 0) return { read: 0, sent: 0, stopped: false };
  const ranges = new Map(plan.ranges.map((r) => [partitionKey(r.topic, r.partition), r]));
  const stateTopics = new Set(plan.stateTopics);
  const isState = (r: PartitionRange) => stateTopics.has(r.topic);
  /** Each partition's next offset to read, from the consumer's own account of each batch (markers included). */
  const position = new Map<string, bigint>();
  /** Each state key's latest record upstream wrote (never the replay's own copies). */
  const latest = new Map<string, StateRecord>();
  /** Each state key's copy the replay sent: the upstream record's offset, and where the copy landed. */
  const copies = new Map<string, { source: string; at: bigint }>();
  // Tells the replay's own copies apart from upstream's records as the consumer reads them back.
  const runId = randomBytes(8).toString('hex');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5000 } });
  const consumer = kafka.consumer({ groupId: `recruitment-replay-${runId.slice(0, 12)}`, maxWaitTimeInMs: 250, maxBytesPerPartition: 4 * 1024 * 1024 });
  const admin = kafka.admin();
  let read = 0;
  let sent = 0;
  let unreadableBatches = 0;
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of waiters) w();
  };

  const headersOf = (m: KafkaMessage) => ({ ...m.headers, 'replay.source.offset': m.offset, [REPLAY_RUN_HEADER]: runId });
  const reached = (k: string, end: bigint) => (position.get(k) ?? -1n) >= end;
  /** Resolves once `done()` holds (checked after every batch), or with true when the replay is stopped. */
  const until = (done: () => boolean): Promise<boolean> =>
    new Promise((resolve) => {
      const check = () => {
        if (options.signal?.aborted) finish(true);
        else if (done()) finish(false);
      };
      const finish = (stopped: boolean) => {
        waiters.delete(check);
        options.signal?.removeEventListener('abort', check);
        resolve(stopped);
      };
      waiters.add(check);
      options.signal?.addEventListener('abort', check, { once: true });
      check();
    });

  try {
    await producer.connect();
    await consumer.connect();
    await admin.connect();
    await consumer.subscribe({ topics: [...new Set(plan.ranges.map((r) => r.topic))], fromBeginning: true });
    // After a rejoin too: each partition goes on from where it was.
    consumer.on(consumer.events.GROUP_JOIN, () => {
      for (const [k, r] of ranges) consumer.seek({ topic: r.topic, partition: r.partition, offset: (position.get(k) ?? r.start).toString() });
    });
    // Every batch the client read, those it filtered to nothing (markers, aborted records) too.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const k = partitionKey(payload.topic, payload.partition);
      const range = ranges.get(k);
      // A partition with nothing in range (the topic is subscribed whole) is not read on.
      if (!range) return consumer.pause([{ topic: payload.topic, partitions: [payload.partition] }]);
      position.set(k, BigInt(payload.lastOffset) + 1n);
      if (!isState(range) && reached(k, range.end)) consumer.pause([{ topic: range.topic, partitions: [range.partition] }]);
      wake();
    });
    const running = consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale }) => {
        const k = partitionKey(batch.topic, batch.partition);
        const range = ranges.get(k);
        if (!range || isStale() || options.signal?.aborted) return;
        const state = isState(range);
        const inRange: KafkaMessage[] = [];
        for (const m of batch.messages) {
          const offset = BigInt(m.offset);
          if (offset < range.start || (!state && offset >= range.end) || m.headers?.[REPLAY_RUN_HEADER]?.toString() === runId) continue;
          const unreadable = undecodableReason(m);
          // Not sent again: its bytes are a whole record batch, not a record. The worker dead-lettered it the first time.
          if (unreadable === null) inRange.push(m);
          else {
            unreadableBatches++;
            options.log.warn({ topic: batch.topic, partition: batch.partition, offset: m.offset, reason: unreadable }, 'a record batch the client cannot read is not replayed');
          }
        }
        if (state) {
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
        const counted = state ? inRange.filter((m) => BigInt(m.offset) < range.end).length : inRange.length;
        if (counted > 0) {
          read += counted;
          options.onProgress?.(read);
        }
      },
    });
    // A consumer that fails for good (kafkajs restarts itself after errors it deems retriable) ends the replay with its error.
    let failure: unknown;
    const fail = (err: unknown) => {
      failure ??= err;
      wake();
    };
    running.catch(fail);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) fail(payload.error);
    });
    const check = (done: () => boolean) => until(() => failure !== undefined || done()).then((stopped) => {
      if (failure !== undefined) throw failure;
      return stopped;
    });

    let stopped = await check(() => [...ranges].every(([k, r]) => reached(k, r.end)));
    const stateRanges = [...ranges].filter(([, r]) => isState(r));
    /** Per state partition, where the last copy sent landed. */
    const written = new Map<string, bigint>();
    for (let round = 0; !stopped && stateRanges.length > 0; round++) {
      // Read every state partition to its end now, so what is sent is each key's latest. The end
      // is the stable one (committed records only): past every copy sent, so that a transaction
      // upstream opened before a copy landed has ended, and its records, newer states than the
      // copy's, are read.
      let ends = await stateEnds(admin, [...stateTopics]);
      while ([...written].some(([k, at]) => (ends.get(k) ?? 0n) <= at)) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        if (options.signal?.aborted) break;
        ends = await stateEnds(admin, [...stateTopics]);
      }
      stopped = await check(() => stateRanges.every(([k, r]) => reached(k, ends.get(k) ?? r.end)));
      if (stopped) break;
      const due = [...latest].filter(([k, r]) => {
        const copy = copies.get(k);
        // Never sent, or upstream wrote the key again before the copy landed (after the copy, upstream's is the latest already).
        return copy === undefined || (r.message.offset !== copy.source && BigInt(r.message.offset) < copy.at);
      });
      if (due.length === 0) break;
      if (round === STATE_ROUNDS) {
        // Their copies may be the older states now: a failure, for the operator to run the replay again.
        throw new Error(`${due.length} link or scope states kept changing while the replay sent them (${STATE_ROUNDS} rounds); their last record may be an older state: run the replay again`);
      }
      sent += await sendStates(producer, due, headersOf, copies, written);
    }
    options.log.info({ read, sent, stopped, unreadableBatches }, stopped ? 'replay stopped; running it again is safe' : 'replay finished');
    return { read, sent, stopped };
  } finally {
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  }
}
