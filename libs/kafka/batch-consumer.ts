import type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { errorChain, reconnectingAdmin } from './client.js';
import { committedOffsets, topicRanges } from './group-positions.js';
import { createProgressTracker, describeOutOfRange, positionOutOfRange, progressProblem, type PartitionProgress, type PartitionRange, type PositionOutOfRange } from './progress-watch.js';
import type { Logger } from '../log/logger.js';
import { perTurn } from './coalesce.js';

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
  /** Fewest bytes a fetch waits for, at most maxWaitMs (default 1: it returns with the first record; the workers pass KAFKA_FETCH_MIN_BYTES). */
  minBytes?: number;
  /** Longest a fetch waits for minBytes, or idle for anything (default 250 ms). */
  maxWaitMs?: number;
  /** Session timeout of the group member (default 30 s). */
  sessionTimeoutMs?: number;
  onBatchDone?(info: { topic: string; partition: number; size: number; seconds: number; lag: number }): void;
  /** Each failed attempt at a batch, before its partition pauses and the same batch is tried again (for metrics). */
  onBatchFailed?(info: { topic: string; partition: number; attempt: number }): void;
  /**
   * Where each partition resumes when positions are kept outside Kafka (the aggregator's, in
   * Postgres): asked on every assignment, and again for a stopped partition on every watch, so
   * a position an operator reset is picked up without a restart. A partition missing from the
   * map starts at its beginning. The group's committed offsets follow these positions. Without
   * it, the group's committed offsets are the positions.
   */
  positions?(topic: string, partitions: number[]): Promise<Map<number, bigint>>;
  /** How long a partition with records to read may go without advancing before it is reported stalled (default 60 s). */
  stallMs?: number;
  /** What the operator's message says to run for a stopped partition: the `--group` of `recruitment positions reset` (default the group id), and what to do after. */
  remedy?: { group: string; after?: string };
  /** Every partition's progress, after each look at the broker and each change (for metrics). */
  onProgress?(partitions: PartitionProgress[]): void;
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
 *
 * It never skips past a position in silence. kafkajs, asked for an offset a partition no longer
 * has, logs "Offset out of range", commits the default offset over the group's and reads from
 * the start: after a topic is recreated, everything below the old positions would be taken as
 * already read. So on every assignment each partition is held (paused) until its position (the
 * group's committed offset, or `positions`) is checked against the partition's start and end;
 * a position beyond the end or below the start stops that partition, with an error saying what
 * an operator can do, and the others go on. While running, a batch that does not start where
 * the partition was left, and a position the periodic look finds beyond the end, are checked
 * the same way. That look (every few seconds, the partitions' watermarks) also reports a
 * partition with records to read that has not advanced for `stallMs`: an error line,
 * `onProgress` for metrics and `problem()` for readiness, until it moves again.
 */
export function createBatchConsumer(options: BatchConsumerOptions) {
  const { kafka, groupId, topics, log } = options;
  const sessionTimeout = options.sessionTimeoutMs ?? 30_000;
  const heartbeatInterval = Math.min(3_000, Math.floor(sessionTimeout / 3));
  const commitTimeoutMs = Math.min(10_000, Math.floor(sessionTimeout / 2));
  const stallMs = options.stallMs ?? 60_000;
  // Often enough that a stall shows within a fraction of its threshold, rarely enough to cost nothing.
  const watchIntervalMs = Math.min(5_000, Math.max(500, Math.floor(stallMs / 4)));
  const consumer = kafka.consumer({
    groupId,
    sessionTimeout,
    rebalanceTimeout: 60_000,
    heartbeatInterval,
    maxBytes: options.maxBytes ?? 1024 * 1024,
    maxBytesPerPartition: options.maxBytesPerPartition ?? Math.min(512 * 1024, options.maxBytes ?? Infinity),
    maxWaitTimeInMs: options.maxWaitMs ?? 250,
    minBytes: options.minBytes ?? 1,
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
  /** Counts group joins: work started for one assignment is dropped once a newer one arrived. */
  let generation = 0;
  /** The position check of the current assignment, once started; undefined again after a failure. */
  let prepared: Promise<void> | undefined;
  let checked = false;
  let gateTimer: NodeJS.Timeout | undefined;
  /** Per partition, the offset after the last batch this consumer applied: what the group's committed offset must reach. */
  const applied = new Map<string, { topic: string; partition: number; offset: bigint; at: number }>();
  let sweepTimer: NodeJS.Timeout | undefined;
  let watchTimer: NodeJS.Timeout | undefined;
  /** When the partition watch last completed (or had nothing to watch), and whether its failure was reported. */
  let watchedAt = Date.now();
  let watchFailing = false;
  const admin = reconnectingAdmin(kafka, { retries: 1 });
  const tracker = createProgressTracker({ stallMs });
  const remedyGroup = options.remedy?.group ?? groupId;

  const publishProgress = () => options.onProgress?.(tracker.list(Date.now()));

  /** Asks the cluster, unless closing (a question asked after close() would open a client nobody closes). */
  const ask = <T>(f: (a: Admin) => Promise<T>): Promise<T> => (closing ? Promise.reject(new Error('consumer closing')) : admin.use(f));
  const partitionRanges = (topic: string) => ask((a) => topicRanges(a, topic));

  /** Where the partitions resume: the positions kept elsewhere, or the group's committed offsets (none: absent). */
  async function resumePositions(topic: string, partitions: number[]): Promise<Map<number, bigint>> {
    return options.positions ? options.positions(topic, partitions) : ask((a) => committedOffsets(a, groupId, topic));
  }

  /**
   * Stops consuming a partition whose position the topic no longer has, with an error saying
   * what an operator can do. `restore` puts the position back as the group's committed offset
   * (kafkajs has committed its default offset over it when it met the gap itself), so that a
   * restart stops here again instead of reading from the start.
   */
  function stopPartition(topic: string, partition: number, lost: PositionOutOfRange, restore: boolean): void {
    consumer.pause([{ topic, partitions: [partition] }]);
    const reason = describeOutOfRange(lost);
    tracker.stop(topic, partition, reason, Date.now());
    const remedy =
      `To consume it again from its start: npx recruitment positions reset --group ${remedyGroup} --topic ${topic} --partition ${partition} --to earliest ` +
      `(or --to latest, or --to <offset>; npx recruitment positions show --group ${remedyGroup} lists every position)${options.remedy?.after ? `. ${options.remedy.after}` : ''}`;
    log.error(
      { topic, partition, offset: lost.position.toString(), start: lost.low.toString(), end: lost.high.toString(), groupId },
      `${topic}[${partition}] ${reason}: not consuming this partition (the others go on). ${remedy}`,
    );
    if (restore) void consumer.commitOffsets([{ topic, partition, offset: lost.position.toString() }]).catch((err: unknown) => log.warn({ err, topic, partition }, 'could not put the stopped position back in the group'));
    publishProgress();
  }

  /**
   * Checks the position of every partition of the assignment against the partition (they were
   * paused at the join) and lets the good ones go: seeked to their positions when those are
   * kept elsewhere (the group's offsets then follow), else from the group's committed offset.
   */
  async function checkAssignment(gen: number): Promise<void> {
    const held = Object.entries(assignment).filter(([, partitions]) => partitions.length > 0);
    const looked = await Promise.all(held.map(async ([topic, partitions]) => ({ topic, partitions, ranges: await partitionRanges(topic), positions: await resumePositions(topic, partitions) })));
    if (gen !== generation || closing) return;
    for (const { topic, partitions, ranges } of looked) {
      const missing = partitions.filter((p) => !ranges.has(p));
      if (missing.length > 0) throw new Error(`${topic}[${missing.join(',')}] not known to the broker yet`);
    }
    const now = Date.now();
    for (const { topic, partitions, ranges, positions } of looked) {
      const ok: number[] = [];
      const follow: { topic: string; partition: number; offset: string }[] = [];
      const from: Record<number, string> = {};
      for (const partition of partitions) {
        const range = ranges.get(partition) as PartitionRange;
        const position = positions.get(partition) ?? null;
        const lost = position === null ? null : positionOutOfRange(position, range);
        if (lost) {
          stopPartition(topic, partition, lost, false);
          continue;
        }
        const start = position ?? (options.positions ? range.low : null);
        if (options.positions && start !== null) {
          consumer.seek({ topic, partition, offset: start.toString() });
          if (position !== null) follow.push({ topic, partition, offset: position.toString() });
        }
        tracker.assign(topic, partition, start, now);
        from[partition] = start?.toString() ?? 'start';
        ok.push(partition);
      }
      // The group's Kafka offsets follow the positions kept elsewhere, so lag tools see where the worker really is.
      if (follow.length > 0) await consumer.commitOffsets(follow);
      if (gen !== generation) return;
      if (ok.length > 0) consumer.resume([{ topic, partitions: ok }]);
      log.info({ topic, positions: from }, 'positions checked; consuming');
    }
    checked = true;
    publishProgress();
  }

  /** The check of the current assignment, run once; a failed run is retried by the next caller. */
  function prepare(): Promise<void> {
    const gen = generation;
    prepared ??= checkAssignment(gen).catch((err: unknown) => {
      if (gen === generation) prepared = undefined;
      throw err;
    });
    return prepared;
  }

  /** Runs the check until it succeeds or a newer assignment replaces this one; meanwhile the partitions stay paused. */
  function gate(gen: number, attempt = 0): void {
    prepare().catch((err: unknown) => {
      if (gen !== generation || closing) return;
      const delay = Math.min(30_000, 500 * 2 ** Math.min(attempt, 6));
      log.warn({ err, retryInMs: delay }, 'could not check the positions of the assignment; its partitions wait');
      gateTimer = setTimeout(() => gate(gen, attempt + 1), delay);
    });
  }

  consumer.on(consumer.events.GROUP_JOIN, (event) => {
    member = true;
    crashes = 0;
    assignment = event.payload.memberAssignment;
    generation++;
    prepared = undefined;
    checked = false;
    if (gateTimer) clearTimeout(gateTimer);
    log.info({ groupId, assignment }, 'joined consumer group');
    tracker.retain(assignment);
    for (const [topic, partitions] of Object.entries(assignment)) for (const partition of partitions) tracker.hold(topic, partition, Date.now());
    // Emitted synchronously before the first fetch of the generation: nothing is fetched (so
    // kafkajs never meets an offset out of range and resets it) until the positions are checked.
    const held = Object.entries(assignment).filter(([, partitions]) => partitions.length > 0).map(([topic, partitions]) => ({ topic, partitions }));
    if (held.length > 0) consumer.pause(held);
    gate(generation);
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
  // A batch whose records the client filtered out (control records, compacted ones) never
  // reaches eachBatch: kafkajs moves past it by itself, and so does the partition's position.
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.batchSize === 0) advanced(payload.topic, payload.partition, BigInt(payload.lastOffset) + 1n);
  });

  /** A partition moved on to `next`: the end of a stall, if it was stalled. */
  function advanced(topic: string, partition: number, next: bigint): void {
    if (tracker.advance(topic, partition, next, Date.now())) {
      log.warn({ topic, partition, offset: next.toString() }, `${topic}[${partition}] is moving again at offset ${next}`);
      publishProgress();
    }
  }

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
   * Commits the offsets of every batch that asks in the same turn of the event loop in one
   * request: the batches of a lane are applied together (see coalesce.ts) and end together, so
   * a fetch across 80 partitions costs the broker two commit requests instead of 80 (the time
   * between fetches, about 90 ms in bench part 1, did not shrink with it: that is the fetch
   * itself). Each caller gets the request's outcome.
   */
  const commitTogether = perTurn((offsets: { topic: string; partition: number; offset: string }[]) => consumer.commitOffsets(offsets));

  /**
   * Commits one partition's next offset, within a deadline (in one request with the other
   * batches ending in the same turn: see commitTogether). The batch is durable by now; only
   * the bookkeeping is left, and a redelivery is deduplicated. kafkajs keeps the coordinator it
   * found at the join: when that broker dies, a commit retries against it forever ("Broker 1
   * not found in the cached metadata"), and a coordinator that moved may have forgotten the
   * member. Either way the group is rejoined (which finds the new coordinator): the runner
   * does that when handed a bare group error.
   */
  async function commit(offset: { topic: string; partition: number; offset: string }, blog: Logger): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const attempt = commitTogether(offset);
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
    const mine = [...applied.values()].filter((a) => a.at < settled && assignment[a.topic]?.includes(a.partition) && !tracker.isStopped(a.topic, a.partition));
    if (mine.length === 0) return;
    try {
      const topicsOf = [...new Set(mine.map((a) => a.topic))];
      const committed = new Map<string, bigint>();
      for (const { topic, partitions } of await ask((a) => a.fetchOffsets({ groupId, topics: topicsOf }))) {
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

  /** Logs what an observation of a partition changed. */
  function report(topic: string, partition: number, change: ReturnType<typeof tracker.observe>): void {
    if (!change) return;
    const p = tracker.get(topic, partition);
    if (!p) return;
    const offset = p.position?.toString() ?? 'start';
    if (change === 'moving') log.warn({ topic, partition, offset }, `${topic}[${partition}] is caught up again at offset ${offset}`);
    else log.error({ topic, partition, offset, lag: p.lag, idleSeconds: Math.round(p.idleMs / 1000) }, `${topic}[${partition}] has not advanced for ${Math.round(p.idleMs / 1000)} s at offset ${offset} with ${p.lag} records to read`);
  }

  /**
   * A stopped partition whose positions are kept elsewhere starts again once its position is one
   * the partition has (an operator reset it): seeked there, the group's offset following.
   */
  async function restartStopped(topic: string, stopped: number[], ranges: Map<number, PartitionRange>, gen: number): Promise<void> {
    const positions = await (options.positions as NonNullable<BatchConsumerOptions['positions']>)(topic, stopped);
    if (gen !== generation) return;
    const now = Date.now();
    const ok: number[] = [];
    const follow: { topic: string; partition: number; offset: string }[] = [];
    for (const partition of stopped) {
      const range = ranges.get(partition);
      const position = positions.get(partition) ?? null;
      if (!range || (position !== null && positionOutOfRange(position, range))) continue;
      const start = position ?? range.low;
      consumer.seek({ topic, partition, offset: start.toString() });
      if (position !== null) follow.push({ topic, partition, offset: position.toString() });
      tracker.assign(topic, partition, start, now);
      ok.push(partition);
      log.warn({ topic, partition, offset: start.toString() }, `${topic}[${partition}] position ${start} is one the partition has again: consuming it`);
    }
    if (follow.length > 0) await consumer.commitOffsets(follow);
    if (ok.length > 0 && gen === generation) consumer.resume([{ topic, partitions: ok }]);
  }

  /**
   * The periodic look at the partitions this member holds: their watermarks against their
   * positions. A position beyond the end (the topic recreated under a running worker) stops the
   * partition; a stopped partition whose position was reset starts again; a partition with
   * records to read that has not advanced for stallMs is reported, and reported moving again.
   */
  async function watch(): Promise<void> {
    // Before the positions are checked (the check failing: Postgres or the broker away) the
    // partitions are still watched: they are not moving either.
    if (!member || closing) {
      watchedAt = Date.now();
      return;
    }
    const gen = generation;
    try {
      for (const [topic, partitions] of Object.entries(assignment)) {
        if (partitions.length === 0) continue;
        // Positions before the watermarks: a position read after could include records written since.
        const before = new Map(partitions.map((p) => [p, tracker.get(topic, p)?.position ?? null]));
        const ranges = await partitionRanges(topic);
        if (gen !== generation) return;
        const stopped = partitions.filter((p) => tracker.isStopped(topic, p));
        if (checked && stopped.length > 0 && options.positions) await restartStopped(topic, stopped, ranges, gen);
        const now = Date.now();
        for (const partition of partitions) {
          const range = ranges.get(partition);
          if (!range) continue;
          const at = before.get(partition) ?? null;
          if (checked && !tracker.isStopped(topic, partition) && at !== null && at > range.high) {
            stopPartition(topic, partition, positionOutOfRange(at, range) as PositionOutOfRange, true);
            continue;
          }
          report(topic, partition, tracker.observe(topic, partition, range, now));
        }
      }
      publishProgress();
      watchedAt = Date.now();
      if (watchFailing) log.warn('the partition watch completes again');
      watchFailing = false;
    } catch (err) {
      if (!watchFailing && Date.now() - watchedAt > stallMs) {
        watchFailing = true;
        log.error({ err }, `the partition watch has failed for ${Math.round((Date.now() - watchedAt) / 1000)} s: whether partitions advance is unknown until it completes`);
      } else log.debug({ err }, 'partition watch failed; the next one retries');
    }
  }

  /**
   * For readiness: a watch that has not completed for stallMs (failing, or waiting on a broker or
   * a Postgres that does not answer) leaves the partitions' stall status as it was, so that is a
   * problem of its own.
   */
  function watchProblem(): string | null {
    const since = Date.now() - watchedAt;
    return member && since > stallMs ? `the partition watch has not completed for ${Math.round(since / 1000)} s` : null;
  }

  /**
   * Whether a batch starts somewhere else than where its partition was left. kafkajs moves a
   * partition only past the batches it hands over, except when it met an offset out of range
   * and reset it (after logging "Offset out of range, resetting to default offset"): then the
   * partition is checked against the broker, and stopped if its position is gone. A batch that
   * starts elsewhere for a harmless reason (redelivered after a rejoin) goes on.
   */
  async function positionLost(batch: { topic: string; partition: number }): Promise<boolean> {
    const fetched = (batch as { fetchedOffset?: string }).fetchedOffset;
    const expected = tracker.get(batch.topic, batch.partition)?.position ?? null;
    if (fetched === undefined || expected === null || BigInt(fetched) === expected) return false;
    const range = (await partitionRanges(batch.topic)).get(batch.partition);
    const lost = range ? positionOutOfRange(expected, range) : null;
    if (!lost) return false;
    stopPartition(batch.topic, batch.partition, lost, true);
    return true;
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
            if (isStale() || tracker.isStopped(batch.topic, batch.partition)) return;
            if (await positionLost(batch)) return;
            await options.handle({ topic: batch.topic, partition: batch.partition, messages: batch.messages, highWatermark: batch.highWatermark, log: blog, isStale });
            break;
          } catch (err) {
            const delay = Math.min(30_000, 250 * 2 ** Math.min(attempt, 7));
            blog.warn({ err, attempt, retryInMs: delay, firstOffset: batch.firstOffset() }, 'batch failed; pausing and retrying');
            options.onBatchFailed?.({ topic: batch.topic, partition: batch.partition, attempt });
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
        advanced(batch.topic, batch.partition, next);
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

  /** Runs `work` every `ms`, never two at once. */
  function every(ms: number, work: () => Promise<void>): NodeJS.Timeout {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      void work().finally(() => (running = false));
    }, ms);
    timer.unref();
    return timer;
  }

  return {
    consumer,
    /** True while the consumer is a member of its group with an assignment (not crashed, not rejoining). */
    get member() {
      return member;
    },
    /** Every held partition's position, lag, idle time and whether it is stalled or stopped. */
    progress(): PartitionProgress[] {
      return tracker.list(Date.now());
    },
    /** For readiness: null when no partition is stalled or stopped, else which and why. */
    problem(): string | null {
      const problems = [progressProblem(tracker.list(Date.now())), watchProblem()].filter((p): p is string => p !== null);
      return problems.length > 0 ? problems.join('; ') : null;
    },
    async start(): Promise<void> {
      await consumer.connect();
      await consumer.subscribe({ topics, fromBeginning: true });
      await consumer.run(runConfig);
      sweepTimer = every(SWEEP_INTERVAL_MS, sweep);
      watchTimer = every(watchIntervalMs, watch);
    },
    /** Stops fetching, lets the batch in flight finish and commit, leaves the group. Safe to call twice. */
    close(): Promise<void> {
      closing ??= (async () => {
        if (restartTimer) clearTimeout(restartTimer);
        if (gateTimer) clearTimeout(gateTimer);
        if (sweepTimer) clearInterval(sweepTimer);
        if (watchTimer) clearInterval(watchTimer);
        await consumer.disconnect();
        await admin.close();
      })();
      return closing;
    },
  };
}

export type BatchConsumer = ReturnType<typeof createBatchConsumer>;
