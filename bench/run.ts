/**
 * `make bench`: five parts, side by side in one run (see README "Performance").
 *  1. the ingest worker against a bare kafkajs consumer, a bare writer (decode and COPY) and a
 *     naive implementation, over a million input events;
 *  2. end to end: the highest rate the three services sustain, and freshness at half of it;
 *  3. every dashboard route on 10M clicks, open-loop at a fixed rate, unloaded and during ingest;
 *  4. one against two instances of the ingest worker and of the aggregator;
 *  5. peak RSS of every process of 1–4.
 * Prints a table per part and writes every figure, with the machine's cores, memory and
 * versions, to bench/results/latest.json (BENCH_OUT elsewhere). BENCH_SCALE shrinks every size
 * and duration (make test runs it at 0.01 as a smoke; no timing is asserted anywhere).
 * BENCH_PARTS=1,2 runs only some parts (3 and 4 then use defaults for what they take from 1 and 2).
 * BENCH_E2E_RATES=7800,7800 runs part 2's trials at those rates instead of searching for the highest.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig } from '../libs/config/config.js';
import { SCALE } from './lib/scale.js';
import { peaks } from './lib/processes.js';
import { machine, ratio, table } from './lib/report.js';
import { runIngestBaselines, type IngestFigures } from './ingest-baselines.js';
import { runEndToEnd, type EndToEndFigures } from './end-to-end.js';
import { runDashboards, type DashboardFigures } from './dashboards.js';
import type { Allocator } from '../libs/runtime/allocator.js';

const GOALS = {
  endToEndEventsPerSecond: 20_000,
  ingestToBareWriter: 0.5,
  ingestToBareConsumer: 0.3,
  ingestToNaive: 10,
  freshnessP99Ms: 1000,
  dashboardP99MsUnloaded: 10,
  dashboardP99MsLoaded: 50,
  dashboardRequestsPerSecond: 500,
  peakRssMb: 200,
};

const started = Date.now();
const parts = new Set((process.env.BENCH_PARTS ?? '1,2,3').split(',').map((s) => s.trim()));
const out = process.env.BENCH_OUT ?? 'bench/results/latest.json';
const log = (line: string) => console.log(`[bench ${Math.round((Date.now() - started) / 1000)} s] ${line}`);
const info = await machine(loadConfig());
const allocator = (info.allocator as Allocator).name;
log(`scale ${SCALE}; ${info.cpus} cores, ${info.memoryGb} GB, node ${info.node}, kafka ${info.kafka}, postgres ${info.postgres}, redis ${info.redis}; processes allocate with ${allocator}`);

let ingest: IngestFigures | null = null;
let e2e: EndToEndFigures | null = null;
let dash: DashboardFigures | null = null;
if (parts.has('1')) ingest = await runIngestBaselines(log);
if (parts.has('2')) e2e = await runEndToEnd(ingest?.ingestOne.eventsPerSecond ?? 5000, log);
// BENCH_DASHBOARD_INGEST_RATE: the ingest rate of part 3's loaded round (else half part 2's sustained rate, or 1,000).
if (parts.has('3')) dash = await runDashboards(Number(process.env.BENCH_DASHBOARD_INGEST_RATE) || (e2e?.freshness.rate ?? 1000), log);

const memory = Object.fromEntries(Object.entries(peaks).map(([kind, list]) => [kind, { peakMb: Math.max(...list.map((x) => x.mb)), runs: list }]));
const seconds = Math.round((Date.now() - started) / 1000);
const ratios = {
  endToEndToGoal: ratio(e2e?.sustainedEventsPerSecond, GOALS.endToEndEventsPerSecond),
  ingestToBareWriter: ratio(ingest?.ingestOne.eventsPerSecond, ingest?.bareWriter.eventsPerSecond),
  ingestToBareConsumer: ratio(ingest?.ingestOne.eventsPerSecond, ingest?.bareConsumer.eventsPerSecond),
  ingestToNaive: ratio(ingest?.ingestOne.eventsPerSecond, ingest?.slice.naive.eventsPerSecond),
  ingestToNaiveSameSlice: ratio(ingest?.slice.ingest.eventsPerSecond, ingest?.slice.naive.eventsPerSecond),
  ingestTwoToOne: ratio(ingest?.ingestTwo.eventsPerSecond, ingest?.ingestOne.eventsPerSecond),
  aggregatorTwoToOne: ratio(ingest?.aggregatorTwo.eventsPerSecond, ingest?.aggregatorOne.eventsPerSecond),
  freshnessP99ToGoal: ratio(e2e?.freshness.p99Ms, GOALS.freshnessP99Ms),
  freshnessSteadyP99ToGoal: ratio(e2e?.freshness.steady.p99Ms, GOALS.freshnessP99Ms),
  worstDashboardP99UnloadedToGoal: ratio(dash ? Math.max(...dash.unloaded.map((r) => r.p99Ms)) : null, GOALS.dashboardP99MsUnloaded),
  worstDashboardP99LoadedToGoal: ratio(dash ? Math.max(...dash.loaded.map((r) => r.p99Ms)) : null, GOALS.dashboardP99MsLoaded),
  lowestDashboardRateToOffered: ratio(dash ? Math.min(...[...dash.unloaded, ...dash.loaded].map((r) => r.requestsPerSecond)) : null, dash?.targetRequestsPerSecond),
  queryServicePeakRssToGoal: ratio(dash ? Math.max(dash.queryServiceRssMb.peakUnloaded ?? 0, dash.queryServiceRssMb.peakLoaded ?? 0) : null, GOALS.peakRssMb),
  worstPeakRssToGoal: ratio(Math.max(0, ...Object.entries(memory).filter(([k]) => k !== 'query-service').map(([, v]) => v.peakMb)), GOALS.peakRssMb),
};
const results = { when: new Date().toISOString(), scale: SCALE, seconds, machine: info, goals: GOALS, ratios, ingest, endToEnd: e2e, dashboards: dash, memory };
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, JSON.stringify(results, null, 2) + '\n');

const text: string[] = [];
const g = (v: number | null | undefined, goal: string) => `${v ?? '-'} (goal ${goal})`;
if (ingest) {
  const perK = (cpu: number | null | undefined, events: number) => (cpu == null ? null : Math.round((cpu / events) * 1e6));
  const row = (name: string, f: IngestFigures['ingestOne']) => [name, f.events, f.seconds, f.eventsPerSecond, f.startSeconds, f.peakRssMb.join(', '), perK(f.cpuSeconds, f.events), perK(f.postgresCpuSeconds, f.events), f.cost?.meanBatchSize ?? null, f.cost?.meanBatchMs ?? null];
  text.push(table(`1. Ingest worker against its baselines (${ingest.inputEvents} input events, ${ingest.funnelEvents} funnel events out), each timed from its first record fetched to its last offset committed`, ['run', 'events', 'seconds', 'events/s', 'start-up s', 'peak RSS MB', 'CPU ms/1k ev', 'Postgres CPU ms/1k ev', 'batch size', 'batch ms'], [
    row('bare kafkajs consumer (decode only)', ingest.bareConsumer),
    row('bare writer (decode, a COPY per topic per batch)', ingest.bareWriter),
    row('ingest worker, one process', ingest.ingestOne),
    row('naive (a transaction and a publish per event), slice', ingest.slice.naive),
    row('ingest worker on the same slice', ingest.slice.ingest),
  ]));
  const untimed = [ingest.bareConsumer, ingest.bareWriter, ingest.ingestOne, ingest.slice.naive, ingest.slice.ingest].filter((f) => f.timedFrom !== 'first fetch').length;
  text.push(`ingest / bare writer: ${g(ratios.ingestToBareWriter, '≥ 0.5')}; ingest / bare consumer: ${g(ratios.ingestToBareConsumer, '≥ 0.3')}; ingest / naive: ${g(ratios.ingestToNaive, '≥ 10')} (${ratios.ingestToNaiveSameSlice} on the same slice)`);
  text.push(`start-up s: from spawning the process to its first record fetched, left out of the rate; CPU: the process's own over the timed window; Postgres CPU: the backends serving the run${untimed ? `; ${untimed} run(s) reported no timing and are timed from process start` : ''}`);
  const unequal = ingest.bareWriterRows.filter((r) => r.bareWriter !== r.ingest);
  text.push(`bare writer: ${ingest.bareWriter.rows} rows, ${ingest.bareWriter.restaged} lanes written again through staging tables (a key already present); its fact rows ${unequal.length === 0 ? 'equal' : 'DIFFER from'} the ingest worker's (${ingest.bareWriterRows.map((r) => `${r.table} ${r.bareWriter}${r.bareWriter === r.ingest ? '' : ` vs ${r.ingest}`}`).join(', ')}); publishing: ${ingest.publishing.eventsPerSecond} events/s (encoded once in ${ingest.publishing.encodeSeconds} s)`);
}
if (e2e) {
  text.push(table(`2. End to end, three services (trials of ${e2e.trialSeconds} s, each on a copy of a database of ${e2e.database.clicks} clicks)`, ['offered events/s', 'published/s', 'lag at end', 'max lag', 'drain s', 'sustained', 'ingest batch size', 'ingest batch ms', 'ingest CPU s', 'Postgres CPU s', 'aggregator batch size', 'aggregator CPU s'],
    e2e.trials.map((t) => [t.rate, t.publishedPerSecond, t.lagAtEnd, t.lagMax, t.drainSeconds, t.sustained ? 'yes' : 'no', t.ingest.meanBatchSize, t.ingest.meanBatchMs, t.ingest.workerCpuSeconds, t.ingest.postgresCpuSeconds, t.aggregator.meanBatchSize, t.aggregator.workerCpuSeconds])));
  const roles = Object.keys(e2e.trials[0]?.cpu.processes ?? {});
  text.push(table('   CPU seconds of the whole machine over each trial (publishing and draining), of every process known to take part, and the rest', ['offered events/s', 'seconds', 'machine', ...roles, 'known', 'unexplained'],
    e2e.trials.map((t) => [t.rate, t.cpu.seconds, t.cpu.machineCpuSeconds, ...roles.map((r) => t.cpu.processes[r] ?? null), t.cpu.knownCpuSeconds, t.cpu.unexplainedCpuSeconds])));
  for (const t of e2e.trials) if (t.cpu.largestOthers.length) text.push(`   at ${t.rate}/s the largest of the rest: ${t.cpu.largestOthers.map((o) => `${o.seconds} s ${o.name} [${o.pid}]`).join('; ')}`);
  for (const t of e2e.trials) text.push(`   at ${t.rate}/s Postgres by what it serves (CPU s; backends that ended meanwhile left out): ${Object.entries(t.postgres).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const f = e2e.freshness;
  text.push(`highest sustained rate: ${g(e2e.sustainedEventsPerSecond, '≥ 20000')} events/s = ${ratios.endToEndToGoal}× the goal`);
  text.push(`freshness at ${f.rate} events/s (publish → visible in the API, ${f.probes} probes, ${f.unseen} unseen): p50 ${f.p50Ms} ms, p99 ${g(f.p99Ms, '< 1000')} ms, max ${f.maxMs} ms, from the pipeline's cold start`);
  text.push(`   steady (the ${f.steady.probes} probes sent after the first ${f.steady.afterSeconds} s of load): p50 ${f.steady.p50Ms} ms, p99 ${g(f.steady.p99Ms, '< 1000')} ms, max ${f.steady.maxMs} ms; p99 by 10 s of publishing: ${f.p99ByTenSecondsMs.map((x) => x ?? '-').join(', ')} ms`);
}
/** The share of a route's answers the answer cache gave (hit or shared), or - when the route is not cached. */
function hitShare(f: { cache?: Record<string, number> }): string {
  const c = f.cache ?? {};
  const all = Object.values(c).reduce((a, b) => a + b, 0);
  if (all === 0 || (c.none ?? 0) === all) return '-';
  return `${Math.round((((c.hit ?? 0) + (c.shared ?? 0)) / all) * 100)}%`;
}
if (dash) {
  text.push(table(`3. Dashboards at ${dash.rows.clicks} clicks (${dash.shape.orgs} orgs, ${dash.shape.orgs * dash.shape.mentorsPerOrg} mentors, ${dash.shape.days} days), ${dash.targetRequestsPerSecond} req/s offered open-loop (latency from the scheduled send), ${dash.secondsPerRoute} s per route`,
    ['route', 'p50 ms', 'p99 ms', 'max ms', 'req/s', 'cache hits', 'loaded p50', 'loaded p99', 'loaded max', 'loaded req/s', 'loaded hits', 'not 2xx'],
    dash.unloaded.map((u, i) => {
      const l = dash.loaded[i];
      return [u.route, u.p50Ms, u.p99Ms, u.maxMs, u.requestsPerSecond, hitShare(u), l?.p50Ms ?? null, l?.p99Ms ?? null, l?.maxMs ?? null, l?.requestsPerSecond ?? null, l ? hitShare(l) : null, u.non2xx + (l?.non2xx ?? 0)];
    })));
  text.push('   cache hits: answers served from the query service\'s answer cache (x-cache hit or shared), of all answers; - for a route it does not cache');
  text.push(table('   p99 ms of the requests scheduled after each run\'s first second (the route\'s start left out: a diagnostic; the goals are the p99 above)',
    ['route', 'unloaded', 'loaded'],
    dash.unloaded.map((u, i) => [u.route, u.p99AfterFirstSecondMs ?? null, dash.loaded[i]?.p99AfterFirstSecondMs ?? null])));
  const cpuRow = (f: DashboardFigures['unloaded'][number] | undefined) => (f ? [f.cpu.serviceMsPerRequest, f.cpu.postgresMsPerRequest, f.generatorCpuMsPerRequest, `${Math.round(f.cpu.machineBusyShare * 100)}% (${Math.round(f.cpu.stealShare * 100)}%)`] : [null, null, null, null]);
  text.push(table('   CPU per answered request (ms): the query service, the Postgres backends serving it, the load generator (per scheduled request); the machine\'s busy share over the run (both cores = 100%), in brackets the part of it stolen by the hypervisor',
    ['route', 'service', 'Postgres', 'generator', 'machine busy', 'loaded service', 'loaded Postgres', 'loaded generator', 'loaded machine busy'],
    dash.unloaded.map((u, i) => [u.route, ...cpuRow(u), ...cpuRow(dash.loaded[i])])));
  text.push(`goals: p99 < 10 ms unloaded (worst ${ratios.worstDashboardP99UnloadedToGoal}× the goal), < 50 ms during ingest (worst ${ratios.worstDashboardP99LoadedToGoal}×), every route at the offered rate (lowest ${ratios.lowestDashboardRateToOffered}×); load during ingest: ${dash.load.publishedPerSecond} events/s published (${dash.load.rate} offered), lag at end ${dash.load.lagAtEnd}; the round began once the ingest kept up, ${dash.load.leadInSeconds ?? '-'} s after publishing started`);
  text.push(`query service RSS: ${dash.queryServiceRssMb.afterWarmup} MB after the warm-up, peak ${dash.queryServiceRssMb.peakUnloaded} MB unloaded, ${dash.queryServiceRssMb.peakLoaded} MB during ingest (goal ≤ 200 MB: ${ratios.queryServicePeakRssToGoal}×); the generator's own send lag, worst p99 ${Math.max(...[...dash.unloaded, ...dash.loaded].map((r) => r.sendLagP99Ms))} ms (inside the latencies)`);
  text.push(`bulk data equals the ingest worker's on a ${dash.checkedAgainstIngest.clicks}-click sample: ${dash.checkedAgainstIngest.equal}; database ${dash.generatedSeconds === null ? 'from cache' : `generated in ${dash.generatedSeconds} s`}, copied in ${dash.copySeconds} s`);
  text.push(table('   table and index sizes', ['table', 'rows', 'total MB', 'table MB', 'indexes MB'], dash.sizes.filter((s) => s.totalMb > 0).map((s) => [s.table, dash.rows[s.table] ?? null, s.totalMb, s.tableMb, s.indexesMb])));
  text.push('   largest indexes: ' + dash.indexes.slice(0, 8).map((i) => `${i.index} ${i.mb} MB`).join(', '));
}
if (ingest) {
  const cpu = (f: IngestFigures['ingestOne']) => [f.cpuSeconds, f.postgresCpuSeconds, f.cost?.meanBatchSize ?? null, f.cost?.meanBatchMs ?? null];
  text.push(table('4. Scale out (same events)', ['run', 'events/s', 'ratio to one', 'peak RSS MB', 'worker CPU s (timed window)', 'Postgres CPU s', 'batch size', 'batch ms'], [
    ['ingest worker, one process', ingest.ingestOne.eventsPerSecond, 1, ingest.ingestOne.peakRssMb.join(', '), ...cpu(ingest.ingestOne)],
    ['ingest worker, two processes', ingest.ingestTwo.eventsPerSecond, ratios.ingestTwoToOne, ingest.ingestTwo.peakRssMb.join(', '), ...cpu(ingest.ingestTwo)],
    ['aggregator, one process', ingest.aggregatorOne.eventsPerSecond, 1, ingest.aggregatorOne.peakRssMb.join(', '), ...cpu(ingest.aggregatorOne)],
    ['aggregator, two processes', ingest.aggregatorTwo.eventsPerSecond, ratios.aggregatorTwoToOne, ingest.aggregatorTwo.peakRssMb.join(', '), ...cpu(ingest.aggregatorTwo)],
  ]));
}
text.push(table('5. Peak RSS (VmHWM) per process, parts 1–4', ['process', 'peak MB', 'goal', 'where'], Object.entries(memory).map(([k, v]) => [k, v.peakMb, k === 'query-service' ? '-' : '< 200', v.runs.find((r) => r.mb === v.peakMb)?.where ?? ''])));
text.push(`\nmachine: ${info.cpus} cores (${info.cpuModel}), ${info.memoryGb} GB; node ${info.node}, kafka ${info.kafka}, postgres ${info.postgres}, redis ${info.redis}, kafkajs ${info.kafkajs}; services on ${allocator}; scale ${SCALE}; ${seconds} s in all; figures in ${out}`);
console.log(text.join('\n'));
process.exit(0);
