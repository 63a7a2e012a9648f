import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sleep } from './scale.js';

export type ServiceName = 'ingest-worker' | 'aggregator-worker' | 'query-service';

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

export function spawnNode(name: string, script: string, env: Record<string, string>, options: { where: string; kind?: string; stdout?: 'pipe' | 'ignore' } = { where: '' }): RunningProcess & { output(): string } {
  const child = spawn(process.execPath, [...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []), '--import', 'tsx', script], {
    env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'error', METRICS_PORT: '0', ...env },
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

/** One of the three services as deployed (its main.ts), on a database and topic prefix of the bench's. */
export function startService(name: ServiceName, target: { databaseUrl: string; topicPrefix: string }, where: string, env: Record<string, string> = {}): RunningProcess {
  return spawnNode(name, `services/${name}/main.ts`, { DATABASE_URL: target.databaseUrl, KAFKA_TOPIC_PREFIX: target.topicPrefix, ...env }, { where, kind: name });
}
