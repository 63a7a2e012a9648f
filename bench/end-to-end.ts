/**
 * Part 2 of `make bench`: the whole pipeline, end to end.
 *
 * All three services run as processes (services/{ingest-worker,aggregator-worker,query-service}/main.ts compiled, build/),
 * each trial on topics of its own and a database of its own that already holds a million clicks
 * (× BENCH_SCALE) with their installs, registrations, logins, funnel records and funnel tables, so
 * that every index the pipeline writes is of a real size: a copy (CREATE DATABASE ... TEMPLATE)
 * of one bulk-generated as part 3's is (bench/lib/dashboard-data.ts, cached between runs under
 * its shape). Realistic sample traffic (links and scopes
 * first, then clicks, installs, registrations and logins in event-time order) is published at
 * a fixed rate for a minute (× BENCH_SCALE). A rate is sustained when the publisher kept it and
 * the lag did not grow: once publishing stops, the pipeline (ingest group on the input topics,
 * aggregator group on the funnel events) is through everything within 3 s. (Batches in flight
 * are lag too, so the lag itself is never zero; a rate 5% above capacity leaves 3 s of backlog
 * after a minute.) Trials search for the highest such rate, starting from the one-process
 * ingest rate of part 1: up to five, more while none was sustained, so the answer is within
 * about 6–12%.
 *
 * Over each trial (from the first event published until the pipeline has drained), the CPU of
 * the whole machine (/proc/stat) is set against that of every process known to take part: the
 * three services, the Kafka broker, the schema registry, Postgres (the postmaster and every
 * process under it, backends and background workers, with those that ended meanwhile), Redis,
 * and the load generator (this process); what is left is unexplained (other users of the
 * machine, the kernel's own threads), and the processes that used most of it are named.
 *
 * Then, at half that rate, freshness: probe clicks (on links of a probe organization, one
 * outstanding per probe mentor) are published every 100 ms; the coordinator's
 * mentor-performance route is polled every 20 ms, and a probe is visible once its mentor's
 * click count includes it. Freshness is the time from the publish call to the first answer
 * that shows it (so it includes up to one poll interval).
 */
import { randomBytes } from 'node:crypto';
import { createTestEnv, type TestEnv } from '../test/support/env.js';
import { loadConfig, type Config } from '../libs/config/config.js';
import { sampleTraffic } from '../libs/sample/sample-traffic.js';
import { mintToken } from '../libs/auth/tokens.js';
import type { InviteClicked, InviteLink } from '../libs/events/types.generated.js';
import { SCALE, percentile, scaled, sleep } from './lib/scale.js';
import { runCost, type RunCost, type RunningProcess } from './lib/processes.js';
import { dashboardDatabase } from './lib/dashboard-data.js';
import type { Shape } from './lib/dashboard-traffic.js';
import { cpuBetween, cpuSnapshot, listenerPids, postgresBetween, postgresSnapshot, POSTGRES_ACTIVITY, type Accounted, type CpuAccount } from './lib/machine-cpu.js';
import { createUpstream, encodeTimeOrdered, groupStable, ingestGroup, aggregatorGroup, pace, pipelineLag, startPipeline } from './lib/pipeline.js';

export interface TrialFigure {
  rate: number;
  seconds: number;
  published: number;
  publishedPerSecond: number;
  lagAtEnd: number;
  lagMax: number;
  drainSeconds: number | null;
  sustained: boolean;
  /** CPU and batches of the minute (read when publishing stops): where the time went. Postgres CPU is the whole database's, under ingest. */
  ingest: RunCost;
  aggregator: RunCost;
  /** The whole machine's CPU over the trial (publishing and draining), per known process, and the unexplained rest. */
  cpu: CpuAccount;
  /**
   * Postgres' CPU over the same window by what its processes serve: backends by the service
   * (application_name), the rest by kind (walwriter, checkpointer, autovacuum worker, ...);
   * backends that ended meanwhile are left out (see postgresBetween).
   */
  postgres: Record<string, number>;
}

export interface EndToEndFigures {
  trialSeconds: number;
  /** What every trial's database held before it started (a copy of `cached`; generated this run in `generatedSeconds`, else null). */
  database: { clicks: number; cached: string; generatedSeconds: number | null; copySeconds: number[] };
  trials: TrialFigure[];
  sustainedEventsPerSecond: number | null;
  /**
   * Every probe of the minute, from the pipeline's cold start (its processes just started, on a
   * database copied a minute before); `steady`: the probes sent after the first `afterSeconds`
   * of load, past the start-up (the first lane transactions of new processes on new
   * connections and a cold buffer cache run two to three times slower); p99ByTenSecondsMs: the
   * p99 of the probes sent in each 10 s of publishing (null: none seen).
   */
  freshness: {
    rate: number; probes: number; unseen: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null; lagAtEnd: number; publishedPerSecond: number;
    steady: { afterSeconds: number; probes: number; p50Ms: number | null; p99Ms: number | null; maxMs: number | null };
    p99ByTenSecondsMs: (number | null)[];
  };
}

const TRIAL_SECONDS = Math.max(5, Math.round(60 * SCALE));

/** The data every trial's database starts with: a million clicks over a year, in the shape of part 3's (a tenth of it). */
const SHAPE: Shape = { clicks: scaled(1_000_000, 3_000), orgs: 5, mentorsPerOrg: 100, coordinatorsPerOrg: 5, end: Date.UTC(2026, 10, 1), days: 365 };
const database: EndToEndFigures['database'] = { clicks: SHAPE.clicks, cached: '', generatedSeconds: null, copySeconds: [] };

async function prepare(name: string, rate: number, seconds: number, log: (line: string) => void) {
  const base = loadConfig();
  const data = await dashboardDatabase(base.databaseUrl, SHAPE, base.visitorHashKey, `rt_bench_e2e_${name}_${randomBytes(3).toString('hex')}`, (line) => log(`part 2: ${line}`));
  database.cached = data.cached;
  database.generatedSeconds ??= data.generatedSeconds;
  database.copySeconds.push(data.copySeconds);
  // The env works on the copy (and drops it when closed).
  const env = await createTestEnv(`bench_e2e_${name}`, { env: { DATABASE_URL: data.url } });
  const traffic = sampleTraffic({ seed: 7, clicks: Math.ceil((rate * seconds * 1.05) / 1.7) + 100, orgs: 5, mentorsPerOrg: 20, start: Date.now() - 14 * 86_400_000 });
  const messages = await encodeTimeOrdered(env, traffic);
  const producer = createUpstream(env);
  await producer.connect();
  await producer.send('inviteLinks', traffic.links);
  await producer.send('coordinatorScopes', traffic.scopes);
  return { env, messages, producer };
}

/** Samples the pipeline's lag every 2 s until stopped. */
function lagSampler(env: TestEnv, admin: ReturnType<TestEnv['kafka']['admin']>) {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const lag = await pipelineLag(env, admin).catch(() => null);
      if (lag) max = Math.max(max, lag.ingest + lag.aggregator);
      await sleep(2000);
    }
  })();
  return {
    get max() {
      return max;
    },
    async stop() {
      running = false;
      await loop;
    },
  };
}

async function drain(env: TestEnv, admin: ReturnType<TestEnv['kafka']['admin']>, timeoutMs: number): Promise<number | null> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    const lag = await pipelineLag(env, admin);
    if (lag.ingest + lag.aggregator === 0) return (Date.now() - started) / 1000;
    await sleep(250);
  }
  return null;
}

/** Every process known to take part in a trial, by role (see machine-cpu.ts). */
function accountedProcesses(config: Config, services: RunningProcess[]): Accounted[] {
  const service = (name: string) => services.filter((p) => p.name === name).flatMap((p) => (p.child.pid ? [p.child.pid] : []));
  const port = (url: string, fallback: number) => Number(new URL(url).port || fallback);
  return [
    { label: 'ingest worker', pids: service('ingest-worker'), tree: true },
    { label: 'aggregator', pids: service('aggregator-worker'), tree: true },
    { label: 'query service', pids: service('query-service'), tree: true },
    { label: 'Kafka', pids: config.kafka.brokers.flatMap((b) => listenerPids(Number(b.split(':').pop()))), tree: true },
    { label: 'schema registry', pids: listenerPids(port(config.schemaRegistryUrl, 80)), tree: true },
    { label: 'Postgres', pids: listenerPids(port(config.databaseUrl, 5432)), tree: true },
    { label: 'Redis', pids: listenerPids(port(config.redisUrl, 6379)), tree: true },
    // Alone: its children are the services, counted above.
    { label: 'load generator', pids: [process.pid], tree: false },
  ];
}

const describeCpu = (c: CpuAccount) =>
  `machine ${c.machineCpuSeconds} CPU s in ${c.seconds} s: ${Object.entries(c.processes).map(([k, v]) => `${k} ${v ?? '-'}`).join(', ')}; unexplained ${c.unexplainedCpuSeconds}` +
  (c.largestOthers.length ? ` (largest others: ${c.largestOthers.map((o) => `${o.name} [${o.pid}] ${o.seconds}`).join(', ')})` : '');

async function trial(rate: number, index: number, log: (line: string) => void): Promise<TrialFigure> {
  const { env, messages, producer } = await prepare(`trial${index}`, rate, TRIAL_SECONDS, log);
  const pipeline = await startPipeline({ databaseUrl: env.config.databaseUrl, topicPrefix: env.config.kafka.topicPrefix }, `part 2 trial at ${rate}/s`);
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    await groupStable(env, admin, ingestGroup(env));
    await groupStable(env, admin, aggregatorGroup(env));
    const accounted = accountedProcesses(env.config, pipeline.processes);
    const pgActivity = async () => postgresSnapshot((await env.db.raw(POSTGRES_ACTIVITY)).rows);
    const cpuBefore = cpuSnapshot(accounted);
    const pgBefore = await pgActivity();
    const sampler = lagSampler(env, admin);
    const sent = await pace(producer, messages, rate, TRIAL_SECONDS);
    const end = await pipelineLag(env, admin);
    const ingest = await runCost(pipeline.processes.filter((p) => p.name === 'ingest-worker'), env.db, env.config.databaseUrl);
    const aggregator = await runCost(pipeline.processes.filter((p) => p.name === 'aggregator-worker'), null, env.config.databaseUrl);
    await sampler.stop();
    const drainSeconds = await drain(env, admin, 300_000);
    const cpu = cpuBetween(accounted, cpuBefore, cpuSnapshot(accounted));
    const postgres = postgresBetween(pgBefore, await pgActivity());
    const publishedPerSecond = Math.round(sent.sent / sent.seconds);
    const lagAtEnd = end.ingest + end.aggregator;
    const sustained = publishedPerSecond >= rate * 0.97 && drainSeconds !== null && drainSeconds <= 3;
    const t = { rate, seconds: Math.round(sent.seconds), published: sent.sent, publishedPerSecond, lagAtEnd, lagMax: Math.max(sampler.max, lagAtEnd), drainSeconds, sustained, ingest, aggregator, cpu, postgres };
    log(`part 2: ${rate} events/s for ${t.seconds} s: published ${publishedPerSecond}/s, lag at end ${lagAtEnd} (max ${t.lagMax}), drained in ${drainSeconds ?? '-'} s: ${sustained ? 'sustained' : 'NOT sustained'}; ingest batches of ${ingest.meanBatchSize} events in ${ingest.meanBatchMs} ms, aggregator batches of ${aggregator.meanBatchSize} in ${aggregator.meanBatchMs} ms`);
    log(`part 2: ${rate} events/s: ${describeCpu(cpu)}`);
    log(`part 2: ${rate} events/s: Postgres by what it serves: ${Object.entries(postgres).map(([k, v]) => `${k} ${v}`).join(', ')}`);
    return t;
  } finally {
    await admin.disconnect();
    await producer.disconnect();
    await pipeline.stop();
    await env.close();
  }
}

/** How long the freshness run carries its load before its probes count as steady (a sixth of a full run). */
const STEADY_AFTER_MS = Math.round((TRIAL_SECONDS * 1000) / 6);

/** Freshness at `rate`: probe clicks timed from publish until the API shows them. */
async function freshness(rate: number, log: (line: string) => void): Promise<EndToEndFigures['freshness']> {
  const { env, messages, producer } = await prepare('freshness', rate, TRIAL_SECONDS, log);
  const org = 'probe_org';
  const mentors = Array.from({ length: 10 }, (_, i) => `probe_mentor_${i}`);
  const now = Date.now();
  const links: InviteLink[] = mentors.map((m) => ({ linkId: `probe_link_${m}`, orgId: org, mentorId: m, campaignId: null, createdAt: now - 86_400_000, expiresAt: null, revokedAt: null }));
  await producer.send('inviteLinks', links);
  await producer.send('coordinatorScopes', [{ orgId: org, coordinatorId: 'probe_coord', mentorIds: mentors, updatedAt: now }]);
  const pipeline = await startPipeline({ databaseUrl: env.config.databaseUrl, topicPrefix: env.config.kafka.topicPrefix }, `part 2 freshness at ${rate}/s`);
  const admin = env.kafka.admin();
  await admin.connect();
  const token = await mintToken({ role: 'coordinator', sub: 'probe_coord', org }, env.config.auth.jwtSecret);
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const url = `${pipeline.address}/v1/coordinators/probe_coord/mentor-performance?from=${day(now - 2 * 86_400_000)}&to=${day(now + 2 * 86_400_000)}&limit=50`;
  const expected = new Map(mentors.map((m) => [m, 0]));
  const outstanding = new Map<string, number>();
  const latencies: number[] = [];
  /** Each probe's latency by the 10 s window of the run it was sent in (from the start of publishing). */
  const byWindow: number[][] = [];
  /** The probes sent once the pipeline had carried the load for STEADY_AFTER_MS: past its cold start. */
  const steady: number[] = [];
  let paceStarted = Infinity;
  let probes = 0;
  let running = true;
  let stoppedAt = Infinity;
  try {
    await groupStable(env, admin, ingestGroup(env));
    await groupStable(env, admin, aggregatorGroup(env));
    // The probe links and the scope must be known before the first probe.
    for (;;) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      if (res.ok && ((await res.json()) as { items: unknown[] }).items.length === mentors.length) break;
      await sleep(200);
    }
    const poller = (async () => {
      while (running || outstanding.size > 0) {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } }).catch(() => null);
        const seenAt = Date.now();
        if (res?.ok) {
          const body = (await res.json()) as { items: { mentorId: string; totals: { clicks: number } }[] };
          for (const item of body.items) {
            const since = outstanding.get(item.mentorId);
            if (since !== undefined && item.totals.clicks >= (expected.get(item.mentorId) ?? 0)) {
              latencies.push(seenAt - since);
              const w = Math.max(0, Math.floor((since - paceStarted) / 10_000));
              (byWindow[w] ??= []).push(seenAt - since);
              if (since - paceStarted >= STEADY_AFTER_MS) steady.push(seenAt - since);
              outstanding.delete(item.mentorId);
            }
          }
        }
        if (!running && Date.now() - stoppedAt > 30_000) break;
        await sleep(20);
      }
    })();
    const prober = (async () => {
      while (running) {
        const free = mentors.find((m) => !outstanding.has(m));
        if (free) {
          const at = Date.now();
          const click: InviteClicked = {
            eventId: `probe_${probes}`, linkId: `probe_link_${free}`, occurredAt: at,
            visitor: { ip: null, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', deviceId: `probe_device_${probes}`, platform: 'IOS', referrer: null, locale: null },
          };
          probes++;
          expected.set(free, (expected.get(free) ?? 0) + 1);
          outstanding.set(free, at);
          await producer.send('inviteClicks', [click]);
        }
        await sleep(100);
      }
    })();
    paceStarted = Date.now();
    const sent = await pace(producer, messages, rate, TRIAL_SECONDS);
    const end = await pipelineLag(env, admin);
    running = false;
    stoppedAt = Date.now();
    await prober;
    await poller;
    const f = {
      rate, probes, unseen: outstanding.size, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), maxMs: latencies.length ? Math.max(...latencies) : null,
      lagAtEnd: end.ingest + end.aggregator, publishedPerSecond: Math.round(sent.sent / sent.seconds),
      p99ByTenSecondsMs: Array.from(byWindow, (w) => (w ? percentile(w, 99) : null)),
      steady: { afterSeconds: STEADY_AFTER_MS / 1000, probes: steady.length, p50Ms: percentile(steady, 50), p99Ms: percentile(steady, 99), maxMs: steady.length ? Math.max(...steady) : null },
    };
    log(`part 2: freshness at ${rate} events/s: ${latencies.length} probes, p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms, max ${f.maxMs} ms (${f.unseen} never seen); sent after the first ${f.steady.afterSeconds} s: ${f.steady.probes} probes, p50 ${f.steady.p50Ms} ms, p99 ${f.steady.p99Ms} ms, max ${f.steady.maxMs} ms; p99 by 10 s of publishing: ${f.p99ByTenSecondsMs.join(', ')} ms`);
    return f;
  } finally {
    running = false;
    await admin.disconnect();
    await producer.disconnect();
    await pipeline.stop();
    await env.close();
  }
}

export async function runEndToEnd(startRate: number, log: (line: string) => void): Promise<EndToEndFigures> {
  const round = (r: number) => Math.max(50, Math.round(r / 50) * 50);
  const trials: TrialFigure[] = [];
  let lo: number | null = null;
  let hi: number | null = null;
  let rate = round(startRate);
  // A smoke run (BENCH_SCALE well below 1) tries two rates; a full run up to five (steps of 25%
  // up or down, then halving the bracket once found), and up to three more while none was sustained.
  const tries = SCALE < 0.05 ? 2 : 5;
  // BENCH_E2E_RATES=7800,7800: those trials instead of the search (to compare two versions at the same rates, run after run).
  // BENCH_E2E_RATES=none: no trials (with BENCH_FRESHNESS_RATE, freshness alone).
  const none = process.env.BENCH_E2E_RATES?.trim() === 'none';
  const fixed = none ? [] : (process.env.BENCH_E2E_RATES ?? '').split(',').filter((r) => r.trim() !== '').map((r) => round(Number(r)));
  if (fixed.some((r) => !Number.isFinite(r))) throw new Error(`BENCH_E2E_RATES must list rates in events/s, got ${process.env.BENCH_E2E_RATES}`);
  for (const [i, r] of fixed.entries()) {
    const t = await trial(r, i, log);
    trials.push(t);
    if (t.sustained) lo = Math.max(lo ?? 0, r);
  }
  for (let i = 0; !none && fixed.length === 0 && (i < tries || (lo === null && i < tries + 3)); i++) {
    const t = await trial(rate, i, log);
    trials.push(t);
    if (t.sustained) lo = rate;
    else hi = rate;
    if (lo !== null && hi !== null && hi - lo <= Math.max(100, lo * 0.1)) break;
    const next: number = lo !== null && hi !== null ? round((lo + hi) / 2) : lo !== null ? round(lo * 1.25) : round(rate * 0.6);
    if (next === rate) break;
    rate = next;
  }
  const sustainedEventsPerSecond = lo;
  // BENCH_FRESHNESS_RATE=4700: freshness at that rate instead of half the sustained one.
  const freshRate = Number(process.env.BENCH_FRESHNESS_RATE) || (lo ?? Math.min(...trials.map((t) => t.rate))) / 2;
  if (!Number.isFinite(freshRate)) throw new Error('BENCH_E2E_RATES=none needs BENCH_FRESHNESS_RATE');
  const fresh = await freshness(round(freshRate), log);
  return { trialSeconds: TRIAL_SECONDS, database, trials, sustainedEventsPerSecond, freshness: fresh };
}
