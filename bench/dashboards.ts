/**
 * Part 3 of `make bench`: dashboards at scale.
 *
 * The stores are filled as the pipeline would fill them (lib/dashboard-data.ts: 10M clicks and
 * their installs, registrations and logins across 50 organizations, 5,000 mentors and two
 * years, × BENCH_SCALE; facts in bulk with the ingest rules, funnel tables by the rebuild),
 * after a check on a small shape that bulk generation and the ingest worker write the same
 * (lib/dashboard-check.ts). Then the three services run on that database, and every dashboard
 * route is driven open-loop (lib/open-loop.ts, in a process of its own) at a fixed 500 requests/s (BENCH_DASHBOARD_RATE;
 * random mentor, coordinator, org or user per request), each latency timed from the request's
 * scheduled send: first unloaded, then while input traffic is published at half the sustained
 * end-to-end rate of part 2 (BENCH_DASHBOARD_INGEST_RATE overrides it) and the ingest worker
 * and aggregator write it into the same tables. The query service's resident set is sampled
 * throughout (its peak, VmHWM, after each round).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import pg from 'pg';
import { createTestEnv } from '../test/support/env.js';
import { mintToken } from '../libs/auth/tokens.js';
import { sampleTraffic, type SampleTraffic } from '../libs/sample/sample-traffic.js';
import { SCALE, scaled, sleep } from './lib/scale.js';
import { checkAgainstIngest } from './lib/dashboard-check.js';
import { dashboardDatabase, dropWorking, prewarm } from './lib/dashboard-data.js';
import { coordinatorId, mentorId, orgId, type Shape } from './lib/dashboard-traffic.js';
import { createUpstream, encodeTimeOrdered, groupStable, ingestGroup, pace, pipelineLag, startPipeline } from './lib/pipeline.js';
import type { OpenLoopResult } from './lib/open-loop.js';
import { openLoopRunner } from './lib/open-loop-process.js';
import { cpuSeconds, metricSum, peakRssMb } from './lib/processes.js';
import { machineBusySeconds, machineStealSeconds } from './lib/machine-cpu.js';

/** A route's open-loop figures over one round (latency from the scheduled send; see lib/open-loop.ts). */
export interface RouteFigure extends OpenLoopResult {
  route: string;
  /** The query service's peak resident set (VmHWM) at the end of the route's run, MB. */
  queryServicePeakRssMb: number | null;
  /** How long the service took to be idle before the route's run (the previous run's backlog). */
  settledBeforeMs: number;
  /**
   * CPU over the route's run per answered request, ms: the query service's process, and the
   * Postgres backends serving it (application_name query-service*); with the machine's busy
   * share over the run (1 = both cores), which during ingest is mostly the pipeline's, and of
   * it the share the hypervisor gave to other machines (steal: a noisy neighbour, not us).
   */
  cpu: { serviceMsPerRequest: number | null; postgresMsPerRequest: number | null; machineBusyShare: number; stealShare: number };
  /**
   * The query service's own pauses over the route's run, from its /metrics (prom-client's
   * default collectors): garbage collections by kind (how many, ms in all, how many over
   * 10 ms), and the event loop's worst delay since the scrape before the run. Null when the
   * service did not answer /metrics.
   */
  stalls: { gc: Record<string, { count: number; ms: number; over10ms: number }>; eventLoopMaxMs: number } | null;
  /** Input events published per second over the route's run (null in the unloaded round): the load the route ran under. */
  ingestEventsPerSecond: number | null;
}

export interface DashboardFigures {
  shape: Shape;
  method: string;
  checkedAgainstIngest: { equal: boolean; clicks: number; differing: string[] };
  generatedSeconds: number | null;
  copySeconds: number;
  /** Seconds reading every relation once before the routes (null: pg_prewarm missing, a cold start). */
  prewarmSeconds: number | null;
  rows: Record<string, number>;
  sizes: { table: string; totalMb: number; tableMb: number; indexesMb: number }[];
  indexes: { index: string; mb: number }[];
  targetRequestsPerSecond: number;
  secondsPerRoute: number;
  /** How latency is measured. */
  latency: string;
  unloaded: RouteFigure[];
  loaded: RouteFigure[];
  /** The query service's resident set, MB: after the warm-up, its peak (VmHWM) after the unloaded round and after the round during ingest. */
  queryServiceRssMb: { afterWarmup: number | null; peakUnloaded: number | null; peakLoaded: number | null };
  /** leadInSeconds: from the start of publishing until the ingest kept up (lag under half a second of the load twice in a row), when the loaded round began. */
  load: { rate: number; published: number; publishedPerSecond: number; lagAtEnd: number; leadInSeconds: number | null };
}

const DAY = 86_400_000;
/**
 * The bench's present is the real one, as the query service's is: the routes' ranges end today,
 * and the traffic ingested during the loaded round is of the current month (as a busy
 * organization's commits are: today's clicks). The data is two years up to the current
 * month's start, so its cache is generated again once a month (dashboard-data.ts drops the
 * month before's).
 */
const NOW = Date.now();
const MONTH_START = Date.UTC(new Date(NOW).getUTCFullYear(), new Date(NOW).getUTCMonth(), 1);
export const SHAPE: Shape = {
  clicks: scaled(10_000_000, 3_000),
  orgs: Math.max(2, Math.round(50 * Math.sqrt(SCALE))),
  mentorsPerOrg: 100,
  coordinatorsPerOrg: 5,
  end: MONTH_START,
  days: 730,
};
/**
 * When the loaded round's traffic happens (lib/sample-traffic.ts: a click in the window, a
 * second click up to 3 hours before it, a registration up to 3 hours after it and logins up to
 * two days after that): within the current month everywhere (from 18 hours after its start in
 * UTC: UTC-12 has begun it 12 hours after, and a second click may come 3 hours earlier), and
 * so that no event lies more than the day ahead of now that ingest accepts (the window ends 28
 * hours ago). In a month's first three days that leaves no room: then the 14 days before, of
 * the month before in places.
 */
const INGEST_END = NOW - 28 * 3_600_000;
const INGEST_EARLIEST = MONTH_START + 18 * 3_600_000;
const INGEST_START = INGEST_END - INGEST_EARLIEST >= 3_600_000 ? Math.max(INGEST_END - 14 * DAY, INGEST_EARLIEST) : INGEST_END - 14 * DAY;
// A smoke run (BENCH_SCALE < 0.1) offers 100 req/s: it checks that every figure is produced, on a busy machine.
const RATE = Number(process.env.BENCH_DASHBOARD_RATE ?? (SCALE < 0.1 ? 100 : 500));
const SECONDS = Math.max(2, Math.round(10 * SCALE));
// BENCH_DASHBOARD_ROUTES: only the routes whose names contain one of these (comma-separated), to measure a change quickly.
const ONLY = (process.env.BENCH_DASHBOARD_ROUTES ?? '').split(',').map((s) => s.trim()).filter(Boolean);

function routes(shape: Shape, users: string[]) {
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const to = day(NOW);
  const quarter = day(NOW - 89 * DAY);
  // A year by month starts on a month's first day: the eleven months before this one, and this one to today.
  const year = day(Date.UTC(new Date(MONTH_START).getUTCFullYear(), new Date(MONTH_START).getUTCMonth() - 11, 1));
  const r = (n: number) => Math.floor(Math.random() * n);
  const mentor = () => mentorId(r(shape.orgs), r(shape.mentorsPerOrg));
  return [
    ['mentor referral-stats (90 days, daily)', () => `/v1/mentors/${mentor()}/referral-stats?from=${quarter}&to=${to}&granularity=day`],
    ['mentor recruits (first page of 20)', () => `/v1/mentors/${mentor()}/recruits?limit=20`],
    ['mentor annual-summary', () => `/v1/mentors/${mentor()}/annual-summary?year=${new Date(NOW).getUTCFullYear()}`],
    ['coordinator mentor-performance (a year)', () => `/v1/coordinators/${coordinatorId(r(shape.orgs), r(shape.coordinatorsPerOrg))}/mentor-performance?from=${year}&to=${to}&sort=registrations&limit=20`],
    ['coordinator recruitment-summary (a year, monthly, with the previous year)', () => `/v1/coordinators/${coordinatorId(r(shape.orgs), r(shape.coordinatorsPerOrg))}/recruitment-summary?from=${year}&to=${to}&granularity=month&compare=previous`],
    ['coordinator follow-up list (stuck 14 days, first page of 20)', () => `/v1/coordinators/${coordinatorId(r(shape.orgs), r(shape.coordinatorsPerOrg))}/referrals?stuckDays=14&limit=20`],
    ['org recruitment-summary (a year, monthly)', () => `/v1/orgs/${orgId(r(shape.orgs))}/recruitment-summary?from=${year}&to=${to}&granularity=month`],
    ['org referrals (first page of 20)', () => `/v1/orgs/${orgId(r(shape.orgs))}/referrals?limit=20`],
    ['platform growth (a year, monthly)', () => `/v1/platform/growth?from=${year}&to=${to}&granularity=month`],
    ['conversion record', () => `/v1/conversions/${users[r(users.length)]}`],
    ['mentor referral-stats export (90 days, daily, CSV)', () => `/v1/mentors/${mentor()}/referral-stats?from=${quarter}&to=${to}&granularity=day&format=csv`],
  ] as const;
}

/** Sample traffic moved into the bench's organizations: its org k becomes orgId(k). */
function intoOrgs(t: SampleTraffic): SampleTraffic {
  const org = (id: string) => id.replace(/^s\d+_org(\d+)$/, (_, k: string) => orgId(Number(k)));
  return { ...t, links: t.links.map((l) => ({ ...l, orgId: org(l.orgId) })), scopes: t.scopes.map((c) => ({ ...c, orgId: org(c.orgId) })), registrations: t.registrations.map((r) => ({ ...r, orgId: org(r.orgId) })) };
}

/** The garbage-collection kinds prom-client's default collectors report. */
const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;

/** The query service's collections (count, seconds, count over 10 ms, by kind) and the event loop's worst delay, read from its /metrics. */
async function serviceStalls(address: string): Promise<{ gc: Map<string, { count: number; seconds: number; over10ms: number }>; eventLoopMaxSeconds: number } | null> {
  try {
    const text = await (await fetch(`${address}/metrics`)).text();
    const gc = new Map<string, { count: number; seconds: number; over10ms: number }>();
    for (const kind of GC_KINDS) {
      const count = metricSum(text, 'query_nodejs_gc_duration_seconds_count', { kind });
      const within10ms = metricSum(text, 'query_nodejs_gc_duration_seconds_bucket', { kind, le: '0.01' });
      gc.set(kind, { count, seconds: metricSum(text, 'query_nodejs_gc_duration_seconds_sum', { kind }), over10ms: count - within10ms });
    }
    return { gc, eventLoopMaxSeconds: metricSum(text, 'query_nodejs_eventloop_lag_max_seconds') };
  } catch {
    return null;
  }
}

const currentRssMb = (pid: number | undefined): number | null => {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
};

export async function runDashboards(halfRate: number, log: (line: string) => void): Promise<DashboardFigures> {
  const check = await checkAgainstIngest({ clicks: scaled(20_000, 2_000), orgs: 3, mentorsPerOrg: 20, coordinatorsPerOrg: 2, end: SHAPE.end, days: 60 });
  log(`part 3: bulk generation ${check.equal ? 'equals' : 'DIFFERS FROM'} the ingest worker on ${check.clicks} clicks${check.equal ? '' : ` (${check.differing.join(', ')})`}`);
  const env = await createTestEnv('bench_dashboards');
  const working = `rt_${env.namespace}_dashboards`;
  try {
    const data = await dashboardDatabase(env.config.databaseUrl, SHAPE, env.config.visitorHashKey, working, (line) => log(`part 3: ${line}`));
    log(`part 3: database ready (${data.generatedSeconds === null ? 'cached' : `generated in ${data.generatedSeconds} s`}, copied in ${data.copySeconds} s)`);
    const prewarmSeconds = await prewarm(data.url);
    log(`part 3: ${prewarmSeconds === null ? 'pg_prewarm is not installed: the routes start on a cold copy' : `every table and index read once in ${prewarmSeconds} s (pg_prewarm)`}`);
    const db = new pg.Pool({ connectionString: data.url, max: 1 });
    const count = async (t: string) => Number((await db.query<{ n: string }>(`select count(*) n from ${t}`)).rows[0]?.n);
    const rows: Record<string, number> = {};
    for (const t of ['invite_links', 'clicks', 'installs', 'registrations', 'logins', 'referrals', 'referral_trackings', 'funnel_decisions', 'funnel_counted_events', 'funnel_hourly', 'funnel_daily', 'funnel_org_daily', 'funnel_monthly', 'funnel_org_monthly', 'funnel_yearly']) rows[t] = await count(t);
    const mb = (b: string) => Math.round(Number(b) / 1048576);
    const { rows: sizeRows } = await db.query<{ t: string; total: string; tbl: string; idx: string }>(
      `select c.relname t, pg_total_relation_size(c.oid) total, pg_table_size(c.oid) tbl, pg_indexes_size(c.oid) idx
         from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relkind = 'r' order by 2 desc`,
    );
    const { rows: indexRows } = await db.query<{ i: string; s: string }>(
      `select c.relname i, pg_relation_size(c.oid) s from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = current_schema() and c.relkind = 'i' order by 2 desc`,
    );
    const users = (await db.query<{ user_id: string }>('select user_id from referrals tablesample system (1) limit 2000')).rows.map((r) => r.user_id);
    if (users.length === 0) users.push(...(await db.query<{ user_id: string }>('select user_id from referrals limit 2000')).rows.map((r) => r.user_id));
    await db.end();
    log(`part 3: ${rows.clicks} clicks, ${rows.referral_trackings} funnel events, ${rows.funnel_daily} daily rows; ${mb(sizeRows.reduce((a, r) => a + Number(r.total), 0) + '')} MB`);

    const token = await mintToken({ role: 'platform_admin', sub: 'bench' }, env.config.auth.jwtSecret);
    const table = routes(SHAPE, users).filter(([name]) => ONLY.length === 0 || ONLY.some((o) => name.includes(o)));
    const pipeline = await startPipeline({ databaseUrl: data.url, topicPrefix: env.config.kafka.topicPrefix }, 'part 3 dashboards');
    const queryService = pipeline.processes.find((p) => p.name === 'query-service')?.child.pid;
    // As a dashboard's browser asks: it takes compressed answers (the service keeps large ones gzip-compressed).
    const headers = { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip, deflate, br, zstd' };
    // Between routes the service is let finish what it still has (requests a round gave up on
    // are still answered): until /readyz, which queues for the same pool, answers in under
    // 50 ms twice in a row (at most 60 s), so one route's backlog is not charged to the next.
    const settle = async (): Promise<number> => {
      const started = Date.now();
      for (let fast = 0; fast < 2 && Date.now() - started < 60_000;) {
        const t = performance.now();
        await fetch(`${pipeline.address}/readyz`).then((r) => r.arrayBuffer()).catch(() => null);
        fast = performance.now() - t < 50 ? fast + 1 : 0;
        await sleep(100);
      }
      return Date.now() - started;
    };
    // The backends serving the query service (its pool and its answer cache's listener), each one's CPU seconds.
    const backends = async (): Promise<Map<number, number>> => {
      const { rows } = await watch.query<{ pid: number }>("select pid from pg_stat_activity where datname = current_database() and application_name like 'query-service%'");
      return new Map(rows.map((r) => [r.pid, cpuSeconds(r.pid) ?? 0]));
    };
    const drive = async (route: string, path: () => string): Promise<RouteFigure> => {
      const settleMs = await settle();
      const stallsBefore = await serviceStalls(pipeline.address);
      const publishedBefore = published;
      const before = { service: cpuSeconds(queryService), postgres: await backends(), machine: machineBusySeconds(), steal: machineStealSeconds(), at: performance.now() };
      const figures = await generator.run({ address: pipeline.address, headers, paths: Array.from({ length: RATE * SECONDS }, path), rate: RATE, seconds: SECONDS });
      const after = { service: cpuSeconds(queryService), postgres: await backends(), machine: machineBusySeconds(), steal: machineStealSeconds(), at: performance.now() };
      // A backend that started during the run counts from zero; one that ended during it is not counted (rare: the pool is busy throughout).
      const postgres = [...after.postgres].reduce((a, [pid, s]) => a + s - (before.postgres.get(pid) ?? 0), 0);
      const ingestEventsPerSecond = published === null || publishedBefore === null ? null : Math.round((published - publishedBefore) / ((after.at - before.at) / 1000));
      await sleep(1100); // the service keeps its /metrics text for a second
      const stallsAfter = await serviceStalls(pipeline.address);
      const stalls: RouteFigure['stalls'] = stallsBefore && stallsAfter
        ? {
            gc: Object.fromEntries([...stallsAfter.gc].flatMap(([kind, a]) => {
              const b = stallsBefore.gc.get(kind) ?? { count: 0, seconds: 0, over10ms: 0 };
              return a.count > b.count ? [[kind, { count: a.count - b.count, ms: Math.round((a.seconds - b.seconds) * 1e4) / 10, over10ms: a.over10ms - b.over10ms }]] : [];
            })),
            eventLoopMaxMs: Math.round(stallsAfter.eventLoopMaxSeconds * 1e4) / 10,
          }
        : null;
      const share = (seconds: number) => Math.round((seconds / ((after.at - before.at) / 1000) / cpus().length) * 100) / 100;
      const perRequest = (seconds: number | null) => (seconds === null || figures.requests === 0 ? null : Math.round((seconds * 1e6) / figures.requests) / 1e3);
      const cpu = {
        serviceMsPerRequest: perRequest(after.service === null || before.service === null ? null : after.service - before.service),
        postgresMsPerRequest: perRequest(postgres),
        machineBusyShare: share(after.machine - before.machine),
        stealShare: share(after.steal - before.steal),
      };
      return { route, ...figures, queryServicePeakRssMb: peakRssMb(queryService), settledBeforeMs: settleMs, cpu, stalls, ingestEventsPerSecond };
    };
    const show = (f: RouteFigure) =>
      `p50 ${f.p50Ms} ms, p99 ${f.p99Ms} ms (${f.p99AfterFirstSecondMs} ms after the first second), max ${f.maxMs} ms, ${f.requestsPerSecond} of ${RATE} req/s, ${f.non2xx} not 2xx${f.non2xx ? ` ${JSON.stringify(f.failures)}` : ''}; cache ${JSON.stringify(f.cache)}; CPU per request: service ${f.cpu.serviceMsPerRequest} ms, Postgres ${f.cpu.postgresMsPerRequest} ms, generator ${f.generatorCpuMsPerRequest} ms (machine ${Math.round(f.cpu.machineBusyShare * 100)}% busy, ${Math.round(f.cpu.stealShare * 100)}% stolen); query service peak ${f.queryServicePeakRssMb} MB;${f.ingestEventsPerSecond === null ? '' : ` ingest published ${f.ingestEventsPerSecond} events/s meanwhile;`} its pauses: ${f.stalls ? `${Object.entries(f.stalls.gc).map(([k, g]) => `${g.count} ${k} GC (${g.ms} ms, ${g.over10ms} over 10 ms)`).join(', ') || 'no GC'}, event loop delay max ${f.stalls.eventLoopMaxMs} ms` : 'unknown'}`;
    /** Input events published so far in the loaded round (null before it). */
    let published: number | null = null;
    const rss: DashboardFigures['queryServiceRssMb'] = { afterWarmup: null, peakUnloaded: null, peakLoaded: null };
    const unloaded: RouteFigure[] = [];
    const loaded: RouteFigure[] = [];
    let load: DashboardFigures['load'] = { rate: halfRate, published: 0, publishedPerSecond: 0, lagAtEnd: 0, leadInSeconds: null };
    let leadInSeconds: number | null = null;
    const admin = env.kafka.admin();
    await admin.connect();
    const watch = new pg.Pool({ connectionString: data.url, max: 1 });
    // One generator process for the warm-up and both rounds (lib/open-loop-process.ts).
    const generator = openLoopRunner();
    try {
      // Warm-up: a second of each route at a tenth of the rate, not counted.
      for (const [, path] of table) await generator.run({ address: pipeline.address, headers, paths: Array.from({ length: Math.max(10, RATE / 10) }, path), rate: Math.max(10, RATE / 10), seconds: 1 });
      rss.afterWarmup = currentRssMb(queryService);
      for (const [route, path] of table) {
        const f = await drive(route, path);
        unloaded.push(f);
        log(`part 3: unloaded ${route}: ${show(f)}`);
      }
      rss.peakUnloaded = peakRssMb(queryService);
      // Ingest at half load into the same tables, for as long as the loaded round takes: today's
      // traffic (the current month's, INGEST_START) of every organization the routes read, so
      // each commit invalidates what the query service keeps of them over the current month, as
      // busy organizations' commits would in production (its worst case).
      // Enough for every route's run, its wait for the service to settle and the scrapes around it
      // (a saturated machine drains backlogs between routes: 236 s for 11 routes was seen, where
      // 2 s a route was once planned and the last routes ran after publishing had ended).
      const traffic = intoOrgs(sampleTraffic({ seed: 11, clicks: Math.ceil((halfRate * (table.length * (SECONDS + 20) + 70)) / 1.7), orgs: SHAPE.orgs, mentorsPerOrg: 4, start: INGEST_START, days: (INGEST_END - INGEST_START) / DAY }));
      const messages = await encodeTimeOrdered(env, traffic);
      const producer = createUpstream(env);
      await producer.connect();
      await producer.send('inviteLinks', traffic.links);
      await producer.send('coordinatorScopes', traffic.scopes);
      await groupStable(env, admin, ingestGroup(env));
      let stop = false;
      published = 0;
      const publishing = pace(producer, messages, halfRate, 24 * 3600, () => stop, (n) => (published = n));
      // The pipeline's own start (new processes, new connections, the first lanes two to three
      // times slower: docs/performance-journal.md, "Freshness past the cold start") is not
      // charged to the first route: the round begins once the ingest has kept up for two polls
      // in a row (its lag under half a second of the load), after at least 3 s and at most 60 s.
      const leadIn = Date.now();
      await sleep(3000);
      for (let kept = 0; kept < 2 && Date.now() - leadIn < 60_000;) {
        const lag = await pipelineLag(env, admin).catch(() => null);
        kept = lag && lag.ingest + lag.aggregator < halfRate / 2 ? kept + 1 : 0;
        await sleep(500);
      }
      leadInSeconds = Math.round((Date.now() - leadIn) / 100) / 10;
      log(`part 3: ingest at ${halfRate} events/s kept up after ${leadInSeconds} s; the loaded round begins`);
      for (const [route, path] of table) {
        const f = await drive(route, path);
        loaded.push(f);
        log(`part 3: during ingest ${route}: ${show(f)}`);
        if (published >= messages.length) log(`part 3: WARNING: the ${messages.length} input events ran out during ${route}: the routes after it ran without ingest`);
      }
      rss.peakLoaded = peakRssMb(queryService);
      stop = true;
      const sent = await publishing;
      const lag = await pipelineLag(env, admin);
      await producer.disconnect();
      load = { rate: halfRate, published: sent.sent, publishedPerSecond: Math.round(sent.sent / sent.seconds), lagAtEnd: lag.ingest + lag.aggregator, leadInSeconds };
      log(`part 3: load was ${load.publishedPerSecond} events/s published, lag at end ${load.lagAtEnd}`);
    } finally {
      generator.close();
      await watch.end();
      await admin.disconnect();
      await pipeline.stop();
    }
    return {
      shape: SHAPE,
      method: 'facts computed in Node with the ingest worker\'s decision functions (libs/domain) and written with INSERT ... SELECT FROM unnest (20k people per statement, keys and indexes dropped during the load and rebuilt from their definitions); funnel tables by libs/funnel/rebuild.ts; VACUUM ANALYZE',
      checkedAgainstIngest: check,
      generatedSeconds: data.generatedSeconds,
      copySeconds: data.copySeconds,
      prewarmSeconds,
      rows,
      sizes: sizeRows.map((r) => ({ table: r.t, totalMb: mb(r.total), tableMb: mb(r.tbl), indexesMb: mb(r.idx) })),
      indexes: indexRows.map((r) => ({ index: r.i, mb: mb(r.s) })),
      targetRequestsPerSecond: RATE,
      secondsPerRoute: SECONDS,
      latency: 'open loop: a fixed-rate schedule, each latency from the request\'s scheduled send to its answer (stalls count; no coordinated omission); exact nearest-rank percentiles of every request',
      queryServiceRssMb: rss,
      unloaded,
      loaded,
      load,
    };
  } finally {
    await dropWorking(env.config.databaseUrl, working);
    await env.close();
  }
}
