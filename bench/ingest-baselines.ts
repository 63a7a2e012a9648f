/**
 * Parts 1 and 4 of `make bench`: the ingest worker against its baselines, and scale-out.
 *
 * ~100k input events of realistic sample traffic (× BENCH_SCALE) are published to topics of
 * their own, links first. Over those same events:
 *  - the ingest worker, one process (services/ingest-worker/main.ts compiled, as deployed), timed from
 *    start until its group has committed the end of every input partition;
 *  - a bare kafkajs consumer (bare-consumer.ts: eachBatch, decode, nothing else): the ceiling of
 *    this client on this machine;
 *  - the ingest worker, two processes in one group (the same events, republished to topics of
 *    their own so the group starts from the beginning);
 *  - the aggregator, one process and then two, over the funnel events the one-process ingest
 *    run published, each run into an empty database, timed until the positions it stores reach
 *    the end of every partition.
 * And over a 10k-event slice of the same traffic (the links, then the first part of every other
 * topic): the naive implementation (naive-ingest.ts) and, for an equal comparison, the ingest
 * worker on the same slice.
 */
import { createTestEnv, type TestEnv } from '../test/support/env.js';
import { waitForCatchUp, waitForPositions } from '../test/support/workers.js';
import { createEventProducer } from '../libs/kafka/event-producer.js';
import { sampleTraffic, type SampleTraffic } from '../libs/sample/sample-traffic.js';
import { publishSample } from '../libs/sample/publish-sample.js';
import { INPUT_TOPICS } from '../libs/events/topics.js';
import { scaled } from './lib/scale.js';
import { runCost, spawnNode, startService, type RunCost } from './lib/processes.js';

export interface RunFigure {
  events: number;
  seconds: number;
  eventsPerSecond: number;
  /** Peak RSS of each process of the run, MB. */
  peakRssMb: (number | null)[];
  /** CPU of the workers and of their Postgres backends, and their batches (worker runs only). */
  cost?: RunCost;
}

export interface IngestFigures {
  inputEvents: number;
  funnelEvents: number;
  retractions: number;
  ingestOne: RunFigure;
  ingestTwo: RunFigure;
  bareConsumer: RunFigure;
  slice: { events: number; naive: RunFigure; ingest: RunFigure };
  aggregatorOne: RunFigure;
  aggregatorTwo: RunFigure;
}

const figure = (events: number, started: number, peakRssMb: (number | null)[]): RunFigure => {
  const seconds = (Date.now() - started) / 1000;
  return { events, seconds: Math.round(seconds * 10) / 10, eventsPerSecond: Math.round(events / seconds), peakRssMb };
};

async function publish(env: TestEnv, traffic: SampleTraffic): Promise<number> {
  const producer = createEventProducer(env);
  await producer.connect();
  const n = await publishSample(producer, traffic, 5000);
  await producer.disconnect();
  return n;
}

/** Worker processes of the ingest worker on the env, timed until their group has caught up. */
async function timeIngest(env: TestEnv, events: number, instances: number, where: string): Promise<RunFigure> {
  const started = Date.now();
  const workers = await Promise.all(Array.from({ length: instances }, () => startService('ingest-worker', { databaseUrl: env.config.databaseUrl, topicPrefix: env.config.kafka.topicPrefix }, where)));
  try {
    await waitForCatchUp(env.kafka, `${env.config.kafka.topicPrefix}recruitment.ingest-worker`, INPUT_TOPICS.map((t) => env.topics[t]), 1_800_000);
    const done = figure(events, started, []);
    const cost = await runCost(workers, env.db, env.config.databaseUrl);
    return { ...done, peakRssMb: await Promise.all(workers.map((w) => w.stop())), cost };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** A baseline process (bare-consumer.ts or naive-ingest.ts) that exits once it has handled `events` messages. */
async function timeBaseline(script: string, env: TestEnv, events: number, where: string): Promise<RunFigure> {
  const started = Date.now();
  const p = spawnNode(script, script, { DATABASE_URL: env.config.databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, BENCH_EXPECT: String(events), BENCH_GROUP: env.group(script) }, { where, stdout: 'pipe' });
  const timeout = setTimeout(() => void p.stop(), 1_800_000);
  const code = await p.exited;
  clearTimeout(timeout);
  const result = figure(events, started, []);
  const out = JSON.parse(p.output().trim().split('\n').pop() || '{}') as { peakRssMb?: number };
  if (code !== 0 || out.peakRssMb === undefined) throw new Error(`${script} failed (exit ${code})`);
  return { ...result, peakRssMb: [out.peakRssMb] };
}

/** Aggregator processes into a fresh database of the env, over its referral-events topic, timed until their stored positions reach the end. */
async function timeAggregator(env: TestEnv, events: number, instances: number, name: string, where: string): Promise<RunFigure> {
  const { url, db } = await env.database(name);
  const started = Date.now();
  const workers = await Promise.all(Array.from({ length: instances }, () => startService('aggregator-worker', { databaseUrl: url, topicPrefix: env.config.kafka.topicPrefix }, where)));
  try {
    await waitForPositions(env.kafka, db, env.topics.referralEvents, 1_800_000);
    const done = figure(events, started, []);
    const cost = await runCost(workers, db, url);
    return { ...done, peakRssMb: await Promise.all(workers.map((w) => w.stop())), cost };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
}

/** The links and scopes, then the first `fraction` of every other topic. */
function slice(traffic: SampleTraffic, fraction: number): SampleTraffic {
  const head = <T>(xs: T[]) => xs.slice(0, Math.round(xs.length * fraction));
  return { links: traffic.links, scopes: traffic.scopes, clicks: head(traffic.clicks), installs: head(traffic.installs), registrations: head(traffic.registrations), logins: head(traffic.logins) };
}

export async function runIngestBaselines(log: (line: string) => void): Promise<IngestFigures> {
  const target = scaled(100_000, 2_000);
  const traffic = sampleTraffic({ seed: 42, clicks: Math.round(target / 1.7), orgs: 5, mentorsPerOrg: 20 });
  const envs: TestEnv[] = [];
  const env = async (name: string) => {
    const e = await createTestEnv(`bench_${name}`);
    envs.push(e);
    return e;
  };
  try {
    const one = await env('ingest_one');
    const events = await publish(one, traffic);
    log(`part 1: ${events} input events published`);
    const ingestOne = await timeIngest(one, events, 1, 'part 1 ingest, one process');
    log(`part 1: ingest worker, one process: ${ingestOne.eventsPerSecond} events/s`);
    const bareConsumer = await timeBaseline('bench/bare-consumer.ts', one, events, 'part 1 bare consumer');
    log(`part 1: bare consumer: ${bareConsumer.eventsPerSecond} events/s`);
    const { rows } = await one.db.raw<{ rows: { n: string; r: string }[] }>('select count(*) n, count(retracts_event_id) r from referral_trackings');
    const funnelEvents = Number(rows[0]?.n);

    const sliceTraffic = slice(traffic, Math.min(1, scaled(10_000, 500) / events));
    const naiveEnv = await env('naive');
    const sliceEvents = await publish(naiveEnv, sliceTraffic);
    const naive = await timeBaseline('bench/naive-ingest.ts', naiveEnv, sliceEvents, 'part 1 naive');
    log(`part 1: naive implementation over ${sliceEvents} events: ${naive.eventsPerSecond} events/s`);
    const sliceEnv = await env('ingest_slice');
    await publish(sliceEnv, sliceTraffic);
    const sliceIngest = await timeIngest(sliceEnv, sliceEvents, 1, 'part 1 ingest on the slice');
    log(`part 1: ingest worker over the same ${sliceEvents} events: ${sliceIngest.eventsPerSecond} events/s`);

    const two = await env('ingest_two');
    await publish(two, traffic);
    const ingestTwo = await timeIngest(two, events, 2, 'part 4 ingest, two processes');
    log(`part 4: ingest worker, two processes: ${ingestTwo.eventsPerSecond} events/s`);
    const aggregatorOne = await timeAggregator(one, funnelEvents, 1, 'agg_one', 'part 4 aggregator, one process');
    log(`part 4: aggregator, one process: ${aggregatorOne.eventsPerSecond} events/s`);
    const aggregatorTwo = await timeAggregator(one, funnelEvents, 2, 'agg_two', 'part 4 aggregator, two processes');
    log(`part 4: aggregator, two processes: ${aggregatorTwo.eventsPerSecond} events/s`);
    return {
      inputEvents: events, funnelEvents, retractions: Number(rows[0]?.r), ingestOne, ingestTwo, bareConsumer,
      slice: { events: sliceEvents, naive, ingest: sliceIngest }, aggregatorOne, aggregatorTwo,
    };
  } finally {
    for (const e of envs) await e.close();
  }
}
