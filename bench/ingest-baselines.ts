/**
 * Parts 1 and 4 of `make bench`: the ingest worker against its baselines, and scale-out.
 *
 * A million input events of realistic sample traffic (× BENCH_SCALE) are encoded once and
 * published to topics of their own, links first. Over those same events:
 *  - the ingest worker, one process (services/ingest-worker/main.ts compiled, as deployed);
 *  - a bare kafkajs consumer (bare-consumer.ts: eachBatch, decode, nothing else): the ceiling of
 *    this client on this machine;
 *  - the bare writer (bare-writer.ts: decode, and one COPY per topic per batch into the worker's
 *    fact tables, in a database of its own with the same keys and indexes, offsets committed
 *    after the rows): what persisting the input costs at all on this machine;
 *  - the ingest worker, two processes in one group (the same events, republished to topics of
 *    their own so the group starts from the beginning);
 *  - the aggregator, one process and then two, over the funnel events the one-process ingest
 *    run published, each run into an empty database, until the positions it stores reach the
 *    end of every partition.
 * And over a 10k-event slice of the same traffic (the links, then the first part of every other
 * topic): the naive implementation (naive-ingest.ts) and, for an equal comparison, the ingest
 * worker on the same slice.
 *
 * Every run is timed from the first record its processes fetched to the last offset they
 * committed, as the processes themselves report it (bench/lib/consumer-timing.ts: the
 * baselines call it; the services get it preloaded, bench/lib/timing-probe.ts, their code
 * untouched), so process start-up, the group join and shut-down are left out of the rate. The
 * bench stops a service once its group has committed the end of every input partition (or the
 * aggregator's stored positions reached the end); a baseline exits by itself. The CPU beside
 * the rate is the processes' own over the same window; the Postgres CPU is that of the
 * backends serving the run (their whole life).
 */
import { createTestEnv, type TestEnv } from '../test/support/env.js';
import { waitForCatchUp, waitForPositions } from '../test/support/workers.js';
import { sampleTraffic } from '../libs/sample/sample-traffic.js';
import { INPUT_TOPICS } from '../libs/events/topics.js';
import { scaled } from './lib/scale.js';
import { runCost, spawnNode, startService, type RunCost } from './lib/processes.js';
import { combineTimings, timingFromOutput, type ConsumerTiming } from './lib/consumer-timing.js';
import { encodeTraffic, eventCount, publishEncoded, sliceTraffic, type EncodedTraffic } from './lib/publish-traffic.js';

export interface RunFigure {
  events: number;
  /** From the first record fetched to the last offset committed (`timedFrom` 'first fetch'), or from process start when a process reported no timing. */
  seconds: number;
  eventsPerSecond: number;
  timedFrom: 'first fetch' | 'process start';
  /** From spawning the processes to their first record fetched: start-up, left out of the rate. */
  startSeconds: number | null;
  /** Peak RSS of each process of the run, MB. */
  peakRssMb: (number | null)[];
  /** CPU seconds of the run's processes between their first fetch and last commit. */
  cpuSeconds: number | null;
  /** CPU seconds of the Postgres backends serving the run, null where there were none. */
  postgresCpuSeconds: number | null;
  /** CPU of the workers (whole process life) and of their Postgres backends, and their batches (worker runs only). */
  cost?: RunCost;
  /** What the bare writer wrote: rows, and lanes written again through staging tables because a key was already present. */
  rows?: number;
  restaged?: number;
}

export interface IngestFigures {
  inputEvents: number;
  funnelEvents: number;
  retractions: number;
  /** Seconds the traffic took to encode, and to publish to the first topics (events/s). */
  publishing: { encodeSeconds: number; seconds: number; eventsPerSecond: number };
  ingestOne: RunFigure;
  ingestTwo: RunFigure;
  bareConsumer: RunFigure;
  bareWriter: RunFigure;
  /** Per fact table, whether the bare writer's row count equals the ingest worker's (same input, same keys). */
  bareWriterRows: { table: string; bareWriter: number; ingest: number }[];
  slice: { events: number; naive: RunFigure; ingest: RunFigure };
  aggregatorOne: RunFigure;
  aggregatorTwo: RunFigure;
}

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A run's figure from the timing its processes reported (else from the wall clock, from spawning to `endedAt`). */
function timedFigure(events: number, spawnedAt: number, endedAt: number, timing: ConsumerTiming, rest: Pick<RunFigure, 'peakRssMb' | 'postgresCpuSeconds'> & Partial<RunFigure>): RunFigure {
  const { firstFetchAt, lastCommitAt } = timing;
  const timed = firstFetchAt !== null && lastCommitAt !== null && lastCommitAt > firstFetchAt;
  const seconds = timed ? (lastCommitAt - firstFetchAt) / 1000 : (endedAt - spawnedAt) / 1000;
  return {
    events, seconds: round(seconds), eventsPerSecond: Math.round(events / seconds), timedFrom: timed ? 'first fetch' : 'process start',
    startSeconds: timed ? round((firstFetchAt - spawnedAt) / 1000) : null, cpuSeconds: timing.cpuSeconds, ...rest,
  };
}

/** Worker processes of a service on the env, run until `caughtUp` resolves, timed as they report. */
async function timeService(name: 'ingest-worker' | 'aggregator-worker', target: { databaseUrl: string; topicPrefix: string }, db: TestEnv['db'], events: number, instances: number, where: string, caughtUp: () => Promise<void>): Promise<RunFigure> {
  const spawnedAt = Date.now();
  const workers = await Promise.all(Array.from({ length: instances }, () => startService(name, target, where, {}, { timed: true })));
  // A worker that exits first (a flag Node refuses, a crash) would otherwise leave the bench waiting for the whole catch-up timeout.
  // Their exits when stopped below reject it too, after the race has settled: the race's own handler takes that rejection.
  const exitedFirst = new Promise<never>((_, reject) => {
    for (const w of workers) void w.exited.then((code) => reject(new Error(`${name} exited (code ${code}) before it caught up; its stderr is above`)));
  });
  try {
    await Promise.race([caughtUp(), exitedFirst]);
    const endedAt = Date.now();
    const cost = await runCost(workers, db, target.databaseUrl);
    const peakRssMb = await Promise.all(workers.map((w) => w.stop()));
    const timing = combineTimings(workers.map((w) => timingFromOutput(w.output())));
    return timedFigure(events, spawnedAt, endedAt, timing, { peakRssMb, postgresCpuSeconds: cost.postgresCpuSeconds, cost });
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** Ingest worker processes on the env, until their group has committed the end of every input partition. */
function timeIngest(env: TestEnv, events: number, instances: number, where: string): Promise<RunFigure> {
  return timeService('ingest-worker', { databaseUrl: env.config.databaseUrl, topicPrefix: env.config.kafka.topicPrefix }, env.db, events, instances, where, () =>
    waitForCatchUp(env.kafka, `${env.config.kafka.topicPrefix}recruitment.ingest-worker`, INPUT_TOPICS.map((t) => env.topics[t]), 1_800_000));
}

/** A baseline process (bare-consumer.ts, bare-writer.ts or naive-ingest.ts) that exits once it has handled and committed `events` messages. */
async function timeBaseline(script: string, env: TestEnv, events: number, where: string, databaseUrl = env.config.databaseUrl): Promise<RunFigure> {
  const spawnedAt = Date.now();
  const p = spawnNode(script, script, { DATABASE_URL: databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, BENCH_EXPECT: String(events), BENCH_GROUP: env.group(script) }, { where, stdout: 'pipe' });
  const timeout = setTimeout(() => void p.stop(), 1_800_000);
  const code = await p.exited;
  clearTimeout(timeout);
  const endedAt = Date.now();
  const out = JSON.parse(p.output().trim().split('\n').pop() || '{}') as { peakRssMb?: number; postgresCpuSeconds?: number | null; rows?: number; restaged?: number };
  const timing = timingFromOutput(p.output());
  if (code !== 0 || out.peakRssMb === undefined || !timing) throw new Error(`${script} failed (exit ${code})`);
  return timedFigure(events, spawnedAt, endedAt, timing, {
    peakRssMb: [out.peakRssMb], postgresCpuSeconds: out.postgresCpuSeconds ?? null,
    ...(out.rows === undefined ? {} : { rows: out.rows }), ...(out.restaged === undefined ? {} : { restaged: out.restaged }),
  });
}

/** Aggregator processes into a fresh database of the env, over its referral-events topic, until their stored positions reach the end. */
async function timeAggregator(env: TestEnv, events: number, instances: number, name: string, where: string): Promise<RunFigure> {
  const { url, db } = await env.database(name);
  return timeService('aggregator-worker', { databaseUrl: url, topicPrefix: env.config.kafka.topicPrefix }, db, events, instances, where, () => waitForPositions(env.kafka, db, env.topics.referralEvents, 1_800_000));
}

/** The fact tables the bare writer fills, with the number of rows each holds in two databases of the env (same input, same keys: they must be equal). */
async function compareFacts(ingest: TestEnv['db'], bare: TestEnv['db']): Promise<IngestFigures['bareWriterRows']> {
  const count = async (db: TestEnv['db'], table: string) => Number(((await db.raw<{ rows: { n: string }[] }>(`select count(*) n from ${table}`)).rows[0] as { n: string }).n);
  const tables = ['invite_links', 'coordinator_scopes', 'clicks', 'installs', 'registrations', 'logins'];
  return Promise.all(tables.map(async (table) => ({ table, bareWriter: await count(bare, table), ingest: await count(ingest, table) })));
}

export async function runIngestBaselines(log: (line: string) => void): Promise<IngestFigures> {
  const target = scaled(1_000_000, 2_000);
  const envs: TestEnv[] = [];
  const env = async (name: string) => {
    const e = await createTestEnv(`bench_${name}`);
    envs.push(e);
    return e;
  };
  try {
    const one = await env('ingest_one');
    const encodeStarted = Date.now();
    const traffic: EncodedTraffic = await encodeTraffic(one, sampleTraffic({ seed: 42, clicks: Math.round(target / 1.7), orgs: 5, mentorsPerOrg: 20 }));
    const encodeSeconds = round((Date.now() - encodeStarted) / 1000, 1);
    const published = await publishEncoded(one, traffic);
    const events = published.events;
    const publishing = { encodeSeconds, seconds: round(published.seconds, 1), eventsPerSecond: Math.round(events / published.seconds) };
    log(`part 1: ${events} input events generated and encoded in ${encodeSeconds} s, published in ${publishing.seconds} s (${publishing.eventsPerSecond}/s)`);
    const describe = (f: RunFigure) => `${f.eventsPerSecond} events/s (${f.seconds} s from first fetch to last commit${f.startSeconds === null ? ', timed from process start: no timing reported' : `, ${f.startSeconds} s to start`})`;
    const ingestOne = await timeIngest(one, events, 1, 'part 1 ingest, one process');
    log(`part 1: ingest worker, one process: ${describe(ingestOne)}`);
    const bareConsumer = await timeBaseline('bench/bare-consumer.ts', one, events, 'part 1 bare consumer');
    log(`part 1: bare consumer: ${describe(bareConsumer)}`);
    const bareDb = await one.database('bare_writer');
    const bareWriter = await timeBaseline('bench/bare-writer.ts', one, events, 'part 1 bare writer', bareDb.url);
    const bareWriterRows = await compareFacts(one.db, bareDb.db);
    const unequal = bareWriterRows.filter((r) => r.bareWriter !== r.ingest);
    log(`part 1: bare writer: ${describe(bareWriter)}; ${bareWriter.rows} rows, ${bareWriter.restaged} lanes restaged; fact rows ${unequal.length === 0 ? 'equal the ingest worker\'s' : `differ from the ingest worker's: ${unequal.map((r) => `${r.table} ${r.bareWriter} vs ${r.ingest}`).join(', ')}`}`);
    const { rows } = await one.db.raw<{ rows: { n: string; r: string }[] }>('select count(*) n, count(retracts_event_id) r from referral_trackings');
    const funnelEvents = Number(rows[0]?.n);

    const sliceOfTraffic = sliceTraffic(traffic, Math.min(1, scaled(10_000, 500) / events));
    const naiveEnv = await env('naive');
    const sliceEvents = (await publishEncoded(naiveEnv, sliceOfTraffic)).events;
    const naive = await timeBaseline('bench/naive-ingest.ts', naiveEnv, sliceEvents, 'part 1 naive');
    log(`part 1: naive implementation over ${sliceEvents} events: ${describe(naive)}`);
    const sliceEnv = await env('ingest_slice');
    await publishEncoded(sliceEnv, sliceOfTraffic);
    const sliceIngest = await timeIngest(sliceEnv, sliceEvents, 1, 'part 1 ingest on the slice');
    log(`part 1: ingest worker over the same ${sliceEvents} events: ${describe(sliceIngest)}`);

    const two = await env('ingest_two');
    await publishEncoded(two, traffic);
    if (eventCount(traffic) !== events) throw new Error('the traffic changed between publishes');
    const ingestTwo = await timeIngest(two, events, 2, 'part 4 ingest, two processes');
    log(`part 4: ingest worker, two processes: ${describe(ingestTwo)}`);
    const aggregatorOne = await timeAggregator(one, funnelEvents, 1, 'agg_one', 'part 4 aggregator, one process');
    log(`part 4: aggregator, one process: ${describe(aggregatorOne)}`);
    const aggregatorTwo = await timeAggregator(one, funnelEvents, 2, 'agg_two', 'part 4 aggregator, two processes');
    log(`part 4: aggregator, two processes: ${describe(aggregatorTwo)}`);
    return {
      inputEvents: events, funnelEvents, retractions: Number(rows[0]?.r), publishing, ingestOne, ingestTwo, bareConsumer, bareWriter, bareWriterRows,
      slice: { events: sliceEvents, naive, ingest: sliceIngest }, aggregatorOne, aggregatorTwo,
    };
  } finally {
    for (const e of envs) await e.close();
  }
}
