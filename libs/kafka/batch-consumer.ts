import type { Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { errorChain, reconnectingAdmin } from './client.js';
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
  /**
   * Most bytes one fetch brings, over all partitions (default 1 MB), and per partition (default
   * 512 kB, at most maxBytes): what bounds a batch, and the memory a backlog takes (a partition whose first
   * record batch is larger still gets it).
   */
  maxBytes?: number;
  maxBytesPerPartition?: number;
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

/** How often committed offsets are checked against what was applied (see sweep). */
const SWEEP_INTERVAL_MS = 5_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Group errors after which kafkajs' runner rejoins the group by itself when it sees them unwrapped. */
const REJOIN_ERRORS = new Set(['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'NOT_COORDINATOR_FOR_GROUP', 'ILLEGAL_GENERATION']);

/**
 * A kafkajs consumer that processes whole batches, retries a failed batch in place with
 * exponential backoff (a dependency outage pauses the partition, nothing is skipped), and
 * commits offsets only after the batch's effects are durable.
 *
 * It outlives what kafkajs gives up on: a member the group coordinator forgot (after the
 * coordinator's broker died) rejoins instead of crashing, a long batch keeps heartbeating,
 * and a crash kafkajs does not restart itself is restarted here with backoff until close().
 */
export function createBatchConsumer(options: BatchConsumerOptions) {
  const { kafka, groupId, topics, log } = options;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval = Math.min(3_000, Math.floor(sessionTimeout / 3));
  const commitTimeoutMs = Math.min(10_000, Math.floor(sessionTimeout / 2));
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    rebalanceTimeout: 60_000,
    heartbeatInterval,
    maxBytes: options.maxBytes ?? 1024 * 1024,
    maxBytesPerPartition: options.maxBytesPerPartition ?? Math.min(512 * 1024, options.maxBytes ?? Infinity),
    maxWaitTimeInMs: 250,
    // Bounded, so that nothing kafkajs retries (a commit to a coordinator that is gone, a
    // join) spins forever: after about 40 s it gives up, the consumer crashes, and it is
    // restarted (by kafkajs, or by the restart below), rejoining with fresh metadata.
    retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
  });
  let closing: Promise<void> | undefined;
  let member = false;
  let crashes = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let assignment: Record<string, number[]> = {};
  let prepared: Promise<void> | undefined;
  /** Per partition, the offset after the last batch this consumer applied: what the group's committed offset must reach. */
  const applied = new Map<string, { topic: string; partition: number; offset: bigint; at: number }>();
  let sweepTimer: NodeJS.Timeout | undefined;
  const sweepAdmin = reconnectingAdmin(kafka, { retries: 1 });

  /** The onAssigned hook for the current assignment, run once; a failed run is retried by the next caller. */
  function prepare(): Promise<void> {
    prepared ??= Promise.resolve(options.onAssigned?.(assignment, consumer)).catch((err: unknown) => {
      prepared = undefined;
      throw err;
    });
    return prepared;
  }

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    member = true;
    crashes = 0;
    assignment = event.payload.memberAssignment;
    prepared = undefined;
    log.info({ groupId, assignment }, 'joined consumer group');
    // Emitted synchronously before the first fetch of the generation, so no batch can miss it.
    prepare().catch((err: unknown) => log.warn({ err }, 'assignment hook failed; the first batch retries it'));
  });
  consumer.on(consumer.events.REBALANCING, () => {
    member = false;
  });
  consumer.on(consumer.events.CRASH, (event) => {
    member = false;
    const { error, restart } = event.payload;
    log.error({ err: error, restart }, 'consumer crashed');
    // kafkajs restarts only after errors it deems retriable; anything else would leave the
    // worker alive but idle, so it is restarted here, with backoff, until close().
    if (!restart && !closing) scheduleRestart();
  });
  consumer.on(consumer.events.STOP, () => {
    member = false;
  });

  function scheduleRestart(): void {
    const delay = Math.min(30_000, 1_000 * 2 ** Math.min(crashes++, 5));
    log.warn({ groupId, restartInMs: delay }, 'restarting the consumer');
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (closing) return;
      consumer
        .connect()
        .then(() => consumer.run(runConfig))
        .catch((err: unknown) => {
          log.error({ err }, 'consumer restart failed');
          if (!closing) scheduleRestart();
        });
    }, delay);
  }

  /**
   * Commits one partition's next offset, within a deadline. The batch is durable by now; only
   * the bookkeeping is left, and a redelivery is deduplicated. kafkajs keeps the coordinator it
   * found at the join: when that broker dies, a commit retries against it forever ("Broker 1
   * not found in the cached metadata"), and a coordinator that moved may have forgotten the
   * member. Either way the group is rejoined (which finds the new coordinator): the runner
   * does that when handed a bare group error.
   */
  async function commit(offset: { topic: string; partition: number; offset: string }, blog: Logger): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const attempt = consumer.commitOffsets([offset]);
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(Object.assign(new Error(`offset commit unanswered after ${commitTimeoutMs} ms`), { type: 'NOT_COORDINATOR_FOR_GROUP' })), commitTimeoutMs);
    });
    try {
      await Promise.race([attempt, deadline]);
    } catch (err) {
      attempt.catch(() => undefined); // kafkajs goes on with it for its bounded retries (about 40 s); the sweep undoes a late landing
      const cause = errorChain(err).at(-1) ?? { type: undefined };
      blog.warn({ err, type: cause.type }, 'offset commit failed after the batch was applied; rejoining the group');
      throw REJOIN_ERRORS.has(cause.type ?? '') ? cause : err;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Makes the group's committed offsets catch up with what was applied. A commit given up on
   * (see commit) goes on inside kafkajs and may land late, after a newer commit of the same
   * partition, moving the group's offset back; with no later batch for that partition nothing
   * would move it forward again. The batches are durable, so this only corrects lag figures
   * and spares redeliveries after a restart, but those must be right too. Every few seconds,
   * the applied offsets of the partitions this member holds (idle for an interval) are compared
   * with the group's committed ones, asked of the cluster, and any that is behind is committed
   * again. Never backwards: only where the group is behind what this consumer applied.
   */
  async function sweep(): Promise<void> {
    if (!member || closing) return;
    // Partitions whose last batch is older than one interval: a commit just in flight is not "behind".
    const settled = Date.now() - SWEEP_INTERVAL_MS;
    const mine = [...applied.values()].filter((a) => a.at < settled && assignment[a.topic]?.includes(a.partition));
    if (mine.length === 0) return;
    try {
      const topicsOf = [...new Set(mine.map((a) => a.topic))];
      const committed = new Map<string, bigint>();
      for (const { topic, partitions } of await sweepAdmin.use((a) => a.fetchOffsets({ groupId, topics: topicsOf }))) {
        for (const p of partitions) committed.set(`${topic}|${p.partition}`, BigInt(p.offset));
      }
      const behind = mine.filter((a) => (committed.get(`${a.topic}|${a.partition}`) ?? -1n) < a.offset);
      if (behind.length === 0 || !member) return;
      log.warn({ partitions: behind.map((a) => `${a.topic}[${a.partition}]`) }, 'committed offsets behind what was applied; committing them again');
      await consumer.commitOffsets(behind.map((a) => ({ topic: a.topic, partition: a.partition, offset: a.offset.toString() })));
    } catch (err) {
      log.debug({ err }, 'offset sweep failed; the next one retries');
    }
  }

  const runConfig: Parameters<Consumer['run']>[0] = {
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: options.partitionsConsumedConcurrently ?? 3,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      if (batch.messages.length === 0) return;
      const blog = log.child({ topic: batch.topic, partition: batch.partition });
      const started = process.hrtime.bigint();
      // A batch can wait on a dependency for longer than the session lasts (a broker failing
      // over, Postgres restarting): the member keeps heartbeating meanwhile, so the group does
      // not give its partitions away while the work is still being done.
      const beat = setInterval(() => void heartbeat().catch(() => undefined), heartbeatInterval);
      try {
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
            while (Date.now() < until && isRunning() && !isStale()) await sleep(Math.min(1000, until - Date.now()));
          }
        }
        if (isStale()) return;
        const last = batch.messages[batch.messages.length - 1] as KafkaMessage;
        resolveOffset(last.offset);
        const next = BigInt(last.offset) + 1n;
        const key = `${batch.topic}|${batch.partition}`;
        if ((applied.get(key)?.offset ?? -1n) < next) applied.set(key, { topic: batch.topic, partition: batch.partition, offset: next, at: Date.now() });
        await commit({ topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() }, blog);
      } finally {
        clearInterval(beat);
      }
      await heartbeat().catch(() => undefined);
      const last = batch.messages[batch.messages.length - 1] as KafkaMessage;
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const lag = Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n));
      options.onBatchDone?.({ topic: batch.topic, partition: batch.partition, size: batch.messages.length, seconds, lag });
    },
  };

  return {
    consumer,
    /** True while the consumer is a member of its group with an assignment (not crashed, not rejoining). */
    get member() {
      return member;
    },
    async start(): Promise<void> {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run(runConfig);
      let sweeping = false;
      sweepTimer = setInterval(() => {
        if (sweeping) return;
        sweeping = true;
        void sweep().finally(() => (sweeping = false));
      }, SWEEP_INTERVAL_MS);
      sweepTimer.unref();
    },
    /** Stops fetching, lets the batch in flight finish and commit, leaves the group. Safe to call twice. */
    close(): Promise<void> {
      closing ??= (async () => {
        if (restartTimer) clearTimeout(restartTimer);
        if (sweepTimer) clearInterval(sweepTimer);
        await consumer.disconnect();
        await sweepAdmin.close();
      })();
      return closing;
    },
  };
}

export type BatchConsumer = ReturnType<typeof createBatchConsumer>;
