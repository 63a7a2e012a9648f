import type { Config } from '../../libs/config/config.js';
import { writeSync } from 'node:fs';
import type pg from 'pg';
import { TIMING_KEY, type ConsumerWatch } from './consumer-timing.js';
import { cpuSeconds, peakRssMb } from './processes.js';
import { sleep } from './scale.js';

/** A database URL whose connections carry an application_name, so that their backends can be told apart from anyone else's. */
export function withApplicationName(databaseUrl: string, name: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', name);
  return url.toString();
}

/** CPU seconds the Postgres backends of the connections named `applicationName` have used (they live as long as the pool's clients). */
export async function backendCpuSeconds(pool: pg.Pool, applicationName: string): Promise<number> {
  const { rows } = await pool.query<{ pid: number }>('select pid from pg_stat_activity where application_name = $1', [applicationName]);
  return Math.round(rows.reduce((a, r) => a + (cpuSeconds(r.pid) ?? 0), 0) * 100) / 100;
}

/**
 * The end of a baseline process (run by ingest-baselines.ts): waits until every offset it
 * fetched is committed, then writes its one line to stdout, the timing of its consumer under
 * `benchTiming` (see consumer-timing.ts) beside what the run adds.
 */
export async function reportBaseline(watch: ConsumerWatch, figures: { messages: number; postgresCpuSeconds?: () => Promise<number> } & Record<string, unknown>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!watch.caughtUp() && Date.now() < deadline) await sleep(5);
  const { postgresCpuSeconds, ...rest } = figures;
  const line = { ...rest, peakRssMb: peakRssMb(process.pid), postgresCpuSeconds: postgresCpuSeconds ? await postgresCpuSeconds() : null, caughtUp: watch.caughtUp(), [TIMING_KEY]: watch.timing() };
  writeSync(1, JSON.stringify(line) + '\n');
}

/**
 * The ingest worker's fetch settings (libs/kafka/batch-consumer.ts with the worker's options):
 * KAFKA_FETCH_MAX_BYTES a fetch, at most 512 kB of it a partition, KAFKA_FETCH_MIN_BYTES the
 * fewest it waits for and KAFKA_FETCH_MAX_WAIT_MS the longest wait, every input partition
 * handed over at once.
 */
export function workerFetchSettings(kafka: Pick<Config['kafka'], 'fetchMaxBytes' | 'fetchMinBytes' | 'fetchMaxWaitMs'>, topicCount: number) {
  return {
    consumer: { maxBytes: kafka.fetchMaxBytes, maxBytesPerPartition: Math.min(512 * 1024, kafka.fetchMaxBytes), minBytes: kafka.fetchMinBytes, maxWaitTimeInMs: kafka.fetchMaxWaitMs },
    partitionsConsumedConcurrently: topicCount * 16,
  };
}
