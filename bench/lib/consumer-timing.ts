import type { Consumer } from '../../libs/kafka/client.js';

/**
 * When a process's consuming began and ended, as the process itself saw it: the first record
 * it fetched and the last commit that moved a partition's group offset forward. A rate timed
 * between the two leaves out process start-up (module loading, connections, the group join)
 * and shut-down. The process's CPU at both instants gives the CPU of that window alone.
 */
export interface ConsumerTiming {
  /** Epoch ms of the start of the first non-empty batch (its records had just been fetched). */
  firstFetchAt: number | null;
  /** Epoch ms of the last offset commit that moved a partition forward. */
  lastCommitAt: number | null;
  /** CPU seconds (user + system, every thread) of the process from firstFetchAt to lastCommitAt. */
  cpuSeconds: number | null;
}

const cpuNow = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/**
 * Watches a kafkajs consumer through its instrumentation events (start of a batch, offsets
 * committed): nothing in the consumer's own code changes, so it times a process as deployed.
 */
export function watchConsumer(consumer: Consumer) {
  let firstFetchAt: number | null = null;
  let firstCpu = 0;
  let lastCommitAt: number | null = null;
  let lastCpu = 0;
  /** Per `topic|partition`: the offset after the last record fetched, and the group offset committed. */
  const fetched = new Map<string, bigint>();
  const committed = new Map<string, bigint>();

  consumer.on(consumer.events.START_BATCH_PROCESS, ({ timestamp, payload }) => {
    if (payload.batchSize === 0) return;
    if (firstFetchAt === null) {
      firstFetchAt = timestamp;
      firstCpu = cpuNow();
    }
    const key = `${payload.topic}|${payload.partition}`;
    const end = BigInt(payload.lastOffset) + 1n;
    if ((fetched.get(key) ?? -1n) < end) fetched.set(key, end);
  });
  consumer.on(consumer.events.COMMIT_OFFSETS, ({ timestamp, payload }) => {
    for (const { topic, partitions } of payload.topics) {
      for (const { partition, offset } of partitions) {
        const key = `${topic}|${partition}`;
        const at = BigInt(offset);
        if ((committed.get(key) ?? -1n) >= at) continue;
        committed.set(key, at);
        lastCommitAt = timestamp;
        lastCpu = cpuNow();
      }
    }
  });

  return {
    timing(): ConsumerTiming {
      const both = firstFetchAt !== null && lastCommitAt !== null && lastCommitAt >= firstFetchAt;
      return { firstFetchAt, lastCommitAt, cpuSeconds: both ? Math.round((lastCpu - firstCpu) * 100) / 100 : null };
    },
    /** True once every partition fetched from has its group offset committed past what was fetched. */
    caughtUp(): boolean {
      for (const [key, end] of fetched) if ((committed.get(key) ?? -1n) < end) return false;
      return fetched.size > 0;
    },
  };
}

export type ConsumerWatch = ReturnType<typeof watchConsumer>;

/** The timings of several consumers (of one process or of several) as one: the earliest first fetch, the latest last commit, the CPU summed. */
export function combineTimings(timings: readonly (ConsumerTiming | null)[]): ConsumerTiming {
  const known = timings.filter((t): t is ConsumerTiming => t !== null);
  const firsts = known.flatMap((t) => (t.firstFetchAt === null ? [] : [t.firstFetchAt]));
  const lasts = known.flatMap((t) => (t.lastCommitAt === null ? [] : [t.lastCommitAt]));
  const cpus = known.flatMap((t) => (t.cpuSeconds === null ? [] : [t.cpuSeconds]));
  return {
    firstFetchAt: firsts.length ? Math.min(...firsts) : null,
    lastCommitAt: lasts.length ? Math.max(...lasts) : null,
    cpuSeconds: cpus.length ? Math.round(cpus.reduce((a, b) => a + b, 0) * 100) / 100 : null,
  };
}

/** The marker of the timing line a timed process writes to stdout. */
export const TIMING_KEY = 'benchTiming';

/** The last timing line in a process's stdout, or null when it wrote none. */
export function timingFromOutput(output: string): ConsumerTiming | null {
  const lines = output.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = (lines[i] as string).trim();
    if (!line.includes(TIMING_KEY)) continue;
    try {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (parsed[TIMING_KEY]) return parsed[TIMING_KEY] as ConsumerTiming;
    } catch {
      // a log line that happens to mention the key
    }
  }
  return null;
}
