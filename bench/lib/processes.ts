import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import type { Knex } from '../../libs/db/knex.js';
import { compiledEntry } from '../../libs/runtime/repo-paths.js';
import { serviceAllocator } from '../../libs/runtime/allocator.js';
import { AGGREGATOR_NODE_FLAGS, INGEST_NODE_FLAGS, QUERY_SERVICE_NODE_FLAGS } from '../../libs/runtime/supervisor.js';
import { sleep } from './scale.js';

/** CPU seconds (user + system) a live process has used, or null when it is gone. */
export function cpuSeconds(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    // After "pid (comm) ": state is field 3, utime 14 and stime 15 (1-based), in clock ticks (100 Hz).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** Sums Prometheus samples of a metric in a /metrics text: every label set, or those that carry all of `labels`. */
export function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let sum = 0;
  for (const line of text.split('\n')) {
    const bare = line.startsWith(name + ' ');
    if (!bare && !line.startsWith(name + '{')) continue;
    // A label is matched whole: preceded by the brace or a comma, so `le="1"` never matches inside `handle="1"`.
    const set = line.slice(name.length, line.indexOf('}'));
    if (wanted.length > 0 && (bare || !wanted.every((w) => set.includes(`{${w}`) || set.includes(`,${w}`)))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export type ServiceName = 'ingest-worker' | 'aggregator-worker' | 'query-service';

/** The Node flags each service runs with, as `make run` starts it (libs/runtime/supervisor.ts). */
const SERVICE_FLAGS: Record<ServiceName, string[]> = { 'ingest-worker': INGEST_NODE_FLAGS, 'aggregator-worker': AGGREGATOR_NODE_FLAGS, 'query-service': QUERY_SERVICE_NODE_FLAGS };

/**
 * Flags added on one service's command line for an experiment: BENCH_NODE_FLAGS_INGEST_WORKER,
 * BENCH_NODE_FLAGS_AGGREGATOR_WORKER, BENCH_NODE_FLAGS_QUERY_SERVICE (space-separated). V8's
 * flags go here: Node refuses them in NODE_OPTIONS (BENCH_WORKER_NODE_OPTIONS).
 */
function serviceFlags(name: ServiceName): string[] {
  const extra = process.env[`BENCH_NODE_FLAGS_${name.toUpperCase().replaceAll('-', '_')}`]?.split(/\s+/).filter(Boolean) ?? [];
  return [...SERVICE_FLAGS[name], ...extra];
}

/** Peak resident set (VmHWM) of a live process in MB, or null when it is gone. */
export function peakRssMb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 1024) : null;
  } catch {
    return null;
  }
}

/** The highest peak RSS each kind of process reached, over the whole bench (part 5). */
export const peaks: Record<string, { mb: number; where: string }[]> = {};
export function notePeak(kind: string, where: string, mb: number | null): void {
  if (mb === null) return;
  (peaks[kind] ??= []).push({ mb, where });
}

export interface RunningProcess {
  name: string;
  child: ChildProcess;
  /** Its /metrics text (workers get a METRICS_PORT of their own), or '' when unreachable. */
  metrics(): Promise<string>;
  cpuSeconds(): number | null;
  /** SIGTERM, wait for exit (SIGKILL after 20 s), and note its peak RSS under `where`. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

/** Waits for a child to exit; kills it (by its pid) when it has not after timeoutMs. */
async function waitExit(child: ChildProcess, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  const done = await Promise.race([exited.then(() => true), sleep(timeoutMs).then(() => false)]);
  if (!done && child.pid) {
    child.kill('SIGKILL');
    await exited;
  }
}

/**
 * Preloaded into a service the bench times: it reports its first fetch and last commit on
 * stdout (see timing-probe.ts). Compiled with the services (tsconfig.build.json), so the timed
 * process runs plain JavaScript as deployed: no tsx loader, no second copy of libs/ in TypeScript.
 */
export const TIMING_PROBE = 'bench/lib/timing-probe.ts';
/** Preloaded into every spawned process when BENCH_HEAP_PROF names a directory (see allocation-sampler.ts). */
const ALLOCATION_SAMPLER = 'bench/lib/allocation-sampler.ts';

/**
 * A Node process running `script`: a bench script's TypeScript through tsx, or a compiled
 * service's JavaScript (build/, what startService passes) as it is; `preload` modules first
 * (the timing probe is TypeScript, so it brings tsx along).
 */
export function spawnNode(name: string, script: string, env: Record<string, string>, options: { where: string; kind?: string; stdout?: 'pipe' | 'ignore'; preload?: string[]; flags?: string[] } = { where: '' }): RunningProcess & { output(): string } {
  const modules = [...(process.env.BENCH_HEAP_PROF ? [compiledEntry(ALLOCATION_SAMPLER)] : []), ...(options.preload ?? [])];
  const preload = modules.flatMap((module) => ['--import', module]);
  const loader = script.endsWith('.ts') || modules.some((m) => m.endsWith('.ts')) ? ['--import', 'tsx'] : [];
  const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), ...(options.flags ?? []), ...loader, ...preload, script], {
    // BENCH_WORKER_NODE_OPTIONS: Node options for the spawned services and baselines only (e.g. --max-old-space-size=128).
    // The allocator make run gives the services (glibc's; SERVICE_ALLOCATOR=jemalloc: jemalloc), for the baselines as well.
    env: { ...process.env, ...serviceAllocator().env, NODE_ENV: 'test', LOG_LEVEL: 'error', METRICS_PORT: '0', ...(process.env.BENCH_WORKER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_WORKER_NODE_OPTIONS } : {}), ...env },
    stdio: ['ignore', options.stdout ?? 'ignore', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopping: Promise<number | null> | undefined;
  return {
    name,
    child,
    exited,
    metrics: async () => (env.METRICS_PORT && env.METRICS_PORT !== '0' ? ((await fetch(`http://127.0.0.1:${env.METRICS_PORT}/metrics`).then((r) => r.text()).catch(() => '')) as string) : ''),
    cpuSeconds: () => cpuSeconds(child.pid),
    output: () => out,
    stop() {
      stopping ??= (async () => {
        const mb = peakRssMb(child.pid);
        notePeak(options.kind ?? name, options.where, mb);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await waitExit(child, exited, 20_000);
        return mb;
      })();
      return stopping;
    },
  };
}

/**
 * One of the three services as deployed (its main.ts compiled, build/), on a database and topic prefix of the
 * bench's. `timed`: with the timing probe preloaded and its stdout kept (`output()`), so that
 * the run can be timed from its first record fetched to its last offset committed.
 */
export async function startService(name: ServiceName, target: { databaseUrl: string; topicPrefix: string }, where: string, env: Record<string, string> = {}, options: { timed?: boolean } = {}): Promise<RunningProcess & { output(): string }> {
  const metricsPort = name === 'query-service' ? '0' : String(await freePort());
  return spawnNode(name, compiledEntry(`services/${name}/main.ts`), { DATABASE_URL: target.databaseUrl, KAFKA_TOPIC_PREFIX: target.topicPrefix, METRICS_PORT: metricsPort, ...env }, { where, kind: name, flags: serviceFlags(name), ...(options.timed ? { preload: [compiledEntry(TIMING_PROBE)], stdout: 'pipe' as const } : {}) });
}

/** A TCP port free right now on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** What a run of workers cost: CPU seconds of the worker processes and of the Postgres backends serving the database, and the workers' batches. */
export interface RunCost {
  workerCpuSeconds: number;
  postgresCpuSeconds: number;
  batches: number;
  meanBatchSize: number | null;
  meanBatchMs: number | null;
}

/**
 * Reads the cost of a run before its processes stop: /proc of the workers, /proc of the
 * database's backends (pg_stat_activity; they live as long as the workers' pools; all of them,
 * so with several services on one database it is the database's total; none without `db`),
 * and the workers' batch metrics (ingest_* or aggregator_*).
 */
export async function runCost(processes: RunningProcess[], db: { raw: Knex['raw'] } | null, databaseUrl: string): Promise<RunCost> {
  const database = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const { rows } = db ? await db.raw<{ rows: { pid: number }[] }>('select pid from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [database]) : { rows: [] };
  const postgresCpuSeconds = rows.reduce((a, r) => a + (cpuSeconds(r.pid) ?? 0), 0);
  let events = 0;
  let batches = 0;
  let batchSeconds = 0;
  for (const p of processes) {
    const text = await p.metrics();
    const prefix = p.name === 'ingest-worker' ? 'ingest' : 'aggregator';
    events += metricSum(text, `${prefix}_events_in_total`);
    batches += metricSum(text, `${prefix}_batch_duration_seconds_count`);
    batchSeconds += metricSum(text, `${prefix}_batch_duration_seconds_sum`);
  }
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    workerCpuSeconds: round(processes.reduce((a, p) => a + (p.cpuSeconds() ?? 0), 0)),
    postgresCpuSeconds: round(postgresCpuSeconds),
    batches,
    meanBatchSize: batches ? Math.round(events / batches) : null,
    meanBatchMs: batches ? round((batchSeconds / batches) * 1000) : null,
  };
}
