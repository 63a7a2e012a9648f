/**
 * What a consumer knows about each partition it holds: where it reads next, whether it is
 * moving, and whether it may read at all. Pure bookkeeping (the caller brings the clock and the
 * broker's watermarks), so the rules are tested without a broker: batch-consumer.ts feeds it.
 */

/** A partition's records as the broker has them now: from `low` (its start) up to `high` (its end, the next offset written). */
export interface PartitionRange {
  low: bigint;
  high: bigint;
}

/** A position (the next offset to read) that the partition no longer has. */
export interface PositionOutOfRange {
  kind: 'beyond-end' | 'below-start';
  position: bigint;
  low: bigint;
  high: bigint;
}

/**
 * Whether a partition still has a position: any offset from its start to its end (the end
 * itself is where the next record will be written). Beyond the end, the records this position
 * counted are not the topic's any more (it was recreated or truncated); below the start,
 * retention deleted records before they were read.
 */
export function positionOutOfRange(position: bigint, range: PartitionRange): PositionOutOfRange | null {
  if (position > range.high) return { kind: 'beyond-end', position, ...range };
  if (position < range.low) return { kind: 'below-start', position, ...range };
  return null;
}

/** One line saying what is wrong with a position, for logs and readiness. */
export function describeOutOfRange(o: PositionOutOfRange): string {
  return o.kind === 'beyond-end'
    ? `position ${o.position} is beyond the partition's end ${o.high} (the topic was recreated or truncated)`
    : `position ${o.position} is below the partition's start ${o.low} (retention deleted ${o.low - o.position} records before they were read)`;
}

export interface PartitionProgress {
  topic: string;
  partition: number;
  /** The next offset this consumer reads, or null until it is known (no committed offset, nothing read yet). */
  position: bigint | null;
  /** Records between the position and the partition's end at the last look (null before the first). */
  lag: number | null;
  /** Milliseconds since the partition last advanced or was caught up (0 while caught up). */
  idleMs: number;
  /** Records to read and no progress for the threshold, or stopped. */
  stalled: boolean;
  /** Why the partition is not consumed at all (a position it no longer has), or null. */
  stopped: string | null;
}

/** What an observation changed: `stalled` (just now), `still-stalled` (a reminder is due), `moving` (a stall ended), or nothing. */
export type ProgressChange = 'stalled' | 'still-stalled' | 'moving' | null;

interface Entry {
  topic: string;
  partition: number;
  position: bigint | null;
  lag: number | null;
  /** When the partition last advanced, was caught up, or was (re)assigned. */
  progressAt: number;
  stalled: boolean;
  stopped: string | null;
  /** When the stall was last reported. */
  reportedAt: number;
}

const keyOf = (topic: string, partition: number) => `${topic}|${partition}`;

/**
 * Tracks the partitions of one consumer. A partition is stalled when it has records to read
 * (its end is beyond its position) and has not advanced for `stallMs`: a batch failing over
 * and over, one waiting on a lock, a consumer that never fetches it. A stopped partition (its
 * position is gone from the topic) is stalled until it is started again. A stall ends the
 * moment the partition advances or is caught up.
 */
export function createProgressTracker(options: { stallMs: number; remindEveryMs?: number }) {
  const { stallMs } = options;
  const remindEveryMs = options.remindEveryMs ?? Math.max(10 * stallMs, 60_000);
  const entries = new Map<string, Entry>();

  function entry(topic: string, partition: number, now: number): Entry {
    const key = keyOf(topic, partition);
    let e = entries.get(key);
    if (!e) {
      e = { topic, partition, position: null, lag: null, progressAt: now, stalled: false, stopped: null, reportedAt: 0 };
      entries.set(key, e);
    }
    return e;
  }

  return {
    /** A partition just assigned, its position not checked yet: watched from now on (a partition held before keeps its state). */
    hold(topic: string, partition: number, now: number): void {
      entry(topic, partition, now);
    },
    /**
     * A partition (re)assigned, reading from `position` (null: not known yet); a stop is lifted.
     * Its idle clock starts now, unless it was held before at the same position: a consumer that
     * rejoins over and over does not hide a partition that never moves.
     */
    assign(topic: string, partition: number, position: bigint | null, now: number): void {
      const e = entry(topic, partition, now);
      if (e.stopped === null && e.position !== null && e.position === position) return;
      Object.assign(e, { position, progressAt: now, stalled: false, stopped: null, lag: null });
    },
    /** Forgets partitions no longer assigned. */
    retain(assignment: Record<string, number[]>): void {
      for (const [key, e] of entries) if (!assignment[e.topic]?.includes(e.partition)) entries.delete(key);
    },
    /**
     * The partition's next offset moved to `next` (a batch applied, records skipped by the
     * client). Never backwards. Returns true when this ended a stall.
     */
    advance(topic: string, partition: number, next: bigint, now: number): boolean {
      const e = entries.get(keyOf(topic, partition));
      if (!e || e.stopped || (e.position !== null && next <= e.position)) return false;
      e.position = next;
      e.progressAt = now;
      const ended = e.stalled;
      e.stalled = false;
      return ended;
    },
    /** The partition is not consumed until assigned again: `reason` says why. */
    stop(topic: string, partition: number, reason: string, now: number): void {
      const e = entry(topic, partition, now);
      e.stopped = reason;
      e.stalled = true;
      e.reportedAt = now;
    },
    /**
     * Compares a partition with the broker's watermarks at `now`: caught up (nothing to read)
     * resets its idle clock; records to read and no progress for the threshold is a stall.
     */
    observe(topic: string, partition: number, range: PartitionRange, now: number): ProgressChange {
      const e = entries.get(keyOf(topic, partition));
      if (!e || e.stopped) return null;
      const from = e.position ?? range.low;
      e.lag = Number(range.high > from ? range.high - from : 0n);
      const was = e.stalled;
      if (e.lag === 0) e.progressAt = now;
      e.stalled = e.lag > 0 && now - e.progressAt >= stallMs;
      if (e.stalled && !was) {
        e.reportedAt = now;
        return 'stalled';
      }
      if (!e.stalled && was) return 'moving';
      if (e.stalled && now - e.reportedAt >= remindEveryMs) {
        e.reportedAt = now;
        return 'still-stalled';
      }
      return null;
    },
    get(topic: string, partition: number): PartitionProgress | undefined {
      const e = entries.get(keyOf(topic, partition));
      return e && view(e, Date.now());
    },
    isStopped(topic: string, partition: number): boolean {
      return entries.get(keyOf(topic, partition))?.stopped != null;
    },
    list(now: number): PartitionProgress[] {
      return [...entries.values()].sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition).map((e) => view(e, now));
    },
  };
}

function view(e: Entry, now: number): PartitionProgress {
  const idleMs = e.lag === 0 && !e.stopped ? 0 : Math.max(0, now - e.progressAt);
  return { topic: e.topic, partition: e.partition, position: e.position, lag: e.lag, idleMs, stalled: e.stalled, stopped: e.stopped };
}

export type ProgressTracker = ReturnType<typeof createProgressTracker>;

/** What readiness says about the partitions: null when none is stalled or stopped, else one clause each (at most five). */
export function progressProblem(partitions: PartitionProgress[]): string | null {
  const bad = partitions.filter((p) => p.stalled || p.stopped);
  if (bad.length === 0) return null;
  const clauses = bad.map((p) =>
    p.stopped
      ? `${p.topic}[${p.partition}] stopped: ${p.stopped}`
      : `${p.topic}[${p.partition}] has not advanced for ${Math.round(p.idleMs / 1000)} s at offset ${p.position ?? 'start'} with ${p.lag} records to read`,
  );
  return `${clauses.slice(0, 5).join('; ')}${clauses.length > 5 ? ` (and ${clauses.length - 5} more)` : ''}`;
}
