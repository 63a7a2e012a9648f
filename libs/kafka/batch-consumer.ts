import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from '../log/logger.js';

export interface Batch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  highWatermark: string;
  log: Logger;
  /** True once the batch no longer belongs to this consumer (revoked, or its partition was seeked). */
  isStale(): boolean;
}

export interface BatchConsumerOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  log: Logger;
  /**
   * Applies one partition's batch. Must make its effects durable before resolving; the offset is
   * committed only afterwards. Any error it throws is treated as transient: the same batch is
   * retried with backoff until it succeeds or the partition is taken away (poison records are
   * the handler's to dead-letter, not to throw).
   */
  handle(batch: Batch): Promise<void>;
  partitionsConsumedConcurrently?: number;
  /** Session timeout of the group member (default 30 s). */
  sessionTimeoutMs?: number;
  onBatchDone?(info: { topic: string; partition: number; size: number; seconds: number; lag: number }): void;
  /**
   * Runs after every group join, before any batch of the new assignment is handled (batches
   * wait for it, and a failure is retried with the batch's backoff). It may seek partitions to
   * positions kept elsewhere; batches fetched before the seek are then dropped as stale.
   */
  onAssigned?(assignment: Record<string, number[]>, consumer: Consumer): Promise<void> | void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A kafkajs consumer that processes whole batches, retries a failed batch in place with
 * exponential backoff (a dependency outage pauses the partition, nothing is skipped), and
 * commits offsets only after the batch's effects are durable.
 */
export function createBatchConsumer(options: BatchConsumerOptions) {
  const { kafka, groupId, topics, log } = options;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    rebalanceTimeout: 60_000,
    heartbeatInterval: Math.min(3_000, Math.floor(sessionTimeout / 3)),
    maxBytesPerPartition: 2 * 1024 * 1024,
    maxWaitTimeInMs: 250,
    retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  let closing: Promise<void> | undefined;
  let joined = false;
  let assignment: Record<string, number[]> = {};
  let prepared: Promise<void> | undefined;

  /** The onAssigned hook for the current assignment, run once; a failed run is retried by the next caller. */
  function prepare(): Promise<void> {
    prepared ??= Promise.resolve(options.onAssigned?.(assignment, consumer)).catch((err: unknown) => {
      prepared = undefined;
      throw err;
    });
    return prepared;
  }

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    joined = true;
    assignment = event.payload.memberAssignment;
    prepared = undefined;
    log.info({ groupId, assignment }, 'joined consumer group');
    // Emitted synchronously before the first fetch of the generation, so no batch can miss it.
    prepare().catch((err: unknown) => log.warn({ err }, 'assignment hook failed; the first batch retries it'));
  });
  consumer.on(consumer.events.CRASH, (event) => log.error({ err: event.payload.error, restart: event.payload.restart }, 'consumer crashed'));

  return {
    consumer,
    /** True once the consumer has joined its group at least once. */
    get joined() {
      return joined;
    },
    async start(): Promise<void> {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
        eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
          if (batch.messages.length === 0) return;
          const blog = log.child({ topic: batch.topic, partition: batch.partition });
          const started = process.hrtime.bigint();
          for (let attempt = 0; ; attempt++) {
            if (!isRunning() || isStale()) return; // revoked or shutting down: not ours to commit
            try {
              await prepare();
              if (isStale()) return;
              await options.handle({ topic: batch.topic, partition: batch.partition, messages: batch.messages, highWatermark: batch.highWatermark, log: blog, isStale });
              break;
            } catch (err) {
              const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
              blog.warn({ err, attempt, retryInMs: delay, firstOffset: batch.firstOffset() }, 'batch failed; pausing and retrying');
              const until = Date.now() + delay;
              while (Date.now() < until && isRunning() && !isStale()) {
                await sleep(Math.min(1000, until - Date.now()));
                await heartbeat().catch(() => undefined);
              }
            }
          }
          if (isStale()) return;
          const last = batch.messages[batch.messages.length - 1] as KafkaMessage;
          resolveOffset(last.offset);
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }]);
          await heartbeat().catch(() => undefined);
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const lag = Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n));
          options.onBatchDone?.({ topic: batch.topic, partition: batch.partition, size: batch.messages.length, seconds, lag });
        },
      });
    },
    /** Stops fetching, lets the batch in flight finish and commit, leaves the group. Safe to call twice. */
    close(): Promise<void> {
      closing ??= consumer.disconnect();
      return closing;
    },
  };
}

export type BatchConsumer = ReturnType<typeof createBatchConsumer>;
