import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { compiledEntry } from './repo-paths.js';
import { serviceAllocator } from './allocator.js';

export interface ServiceSpec {
  name: string;
  /** Arguments to node, e.g. [compiledEntry('services/ingest-worker/main.ts')]. */
  args: string[];
  env?: Record<string, string>;
}

const COLORS = [36, 35, 33, 32, 34];

/**
 * The three services of the pipeline, as `make run` and `make demo` start them: their compiled
 * JavaScript (make install), not the TypeScript through tsx. Throws when they are not built.
 */
export function pipelineServices(): ServiceSpec[] {
  return [
    { name: 'ingest', args: [...INGEST_NODE_FLAGS, compiledEntry('services/ingest-worker/main.ts')] },
    { name: 'aggregator', args: [...AGGREGATOR_NODE_FLAGS, compiledEntry('services/aggregator-worker/main.ts')] },
    { name: 'query', args: [...QUERY_SERVICE_NODE_FLAGS, compiledEntry('services/query-service/main.ts')] },
  ];
}

/**
 * Node flags every service runs with. A young generation of 4 MB semi-spaces instead of
 * Node 24's default: the ingest worker's peak RSS in bench part 1 fell from 416 to 286 MB at
 * the same throughput (3,773 and 3,815 events/s, scale 0.5); batches are short-lived garbage.
 */
export const SERVICE_NODE_FLAGS = ['--max-semi-space-size=4'];

/**
 * The ingest worker's: its old generation may grow to twice what the last full collection left
 * live before the next one starts (`--heap-growing-percent=100`), instead of up to four times,
 * which V8 allows a process whose collections are fast. A lane's records, rows and binds live
 * through its transaction (0.2-0.5 s), longer than the young generation keeps them, so they are
 * promoted and wait in the old generation as garbage until a full collection. Bench part 2 at
 * 8,000 events/s, two trials each: peak RSS 247-249 -> 181-185 MB, the worker's CPU 24.5-26.0
 * -> 25.8-27.5 s. Part 1 at scale 0.3 (catching up), five and seven runs: 265-308 -> 187-236
 * MB, 49-64 -> 55-63 us of CPU per event, 8,898-12,105 -> 9,824-11,523 events/s. No cap: a read
 * that still grows with what a producer writes finds the heap it needs, where a capped heap
 * would die on it at every restart (see AGGREGATOR_NODE_FLAGS; docs/performance-journal.md,
 * "The ingest worker's heap let grow by a factor of two").
 */
export const INGEST_NODE_FLAGS = [...SERVICE_NODE_FLAGS, '--heap-growing-percent=100'];

/**
 * The query service's: its old generation capped at 96 MB as well. Left to itself V8 grows the
 * heap far past what is live (heap 196 MB with 58-90 MB used, RSS 387 MB at the end of bench
 * part 3); capped, its RSS peaked at 192-194 MB unloaded and 229-233 MB during ingest at the same CPU
 * per request. What is live stays well below the cap: its answers are kept outside the heap
 * (ANSWER_CACHE_MB), and at most RATE_LIMIT_IN_FLIGHT_TOTAL requests are held (2,500 queued
 * in the bench took the heap to 71 MB used).
 *
 * Its old generation may grow by half of what the last full collection left live before the
 * next one starts (`--heap-growing-percent=50`). Under a 96 MB cap V8 lets it grow by a tenth
 * when collections are cheap: with 42 MB live (mostly code and module sources) a full
 * collection began every 1.1-1.8 s at 500 requests/s, and each one (its incremental steps,
 * the final pause, the sweep of the answers' ArrayBuffers) held up the event loop for 5-14 ms
 * at a time over about 40 ms, about 20 requests. Those made the p99 of a route. With the flag:
 * 2 full collections in 10 s instead of 7-8, the mentor referral-stats p99 6.8-9.2 ms instead
 * of 15.5-22.4, 0.68-0.70 ms of CPU a request instead of 0.76-0.77, the same peak RSS (199-205 MB).
 *
 * And no allocation-site pretenuring (`--no-allocation-site-pretenuring`). V8 allocates straight
 * into the old generation the objects of a site whose objects it saw survive; the warm-up's
 * burst of requests (16 at a time, each held longer) made it so for sites of the Postgres
 * client's results and rows. Every later request's rows then went to the old generation, and
 * what they point to was kept alive by them until the next full collection. Mentor recruits at
 * 500 requests/s, 10 s, three runs each: 82-85 MB promoted (two runs; one run 6 MB) and 5-6
 * full collections with it, 6 MB and 1 without; p99 20-36 ms against 6-10 ms
 * (docs/performance-journal.md, "Full collections under misses").
 */
export const QUERY_SERVICE_NODE_FLAGS = [...SERVICE_NODE_FLAGS, '--max-old-space-size=96', '--heap-growing-percent=50', '--no-allocation-site-pretenuring'];

/**
 * The aggregator's: the same cap. Its live set is a fetch's events and their increments (a
 * 2 MiB fetch, KAFKA_FETCH_MAX_BYTES: raise the cap with it). Bench part 1 (scale 0.3, 322k
 * events): peak RSS 258 -> 167 MB, 40,066 -> 37,327 events/s in one run each (it reads far
 * faster than ingest feeds it), its CPU 13.5 -> 19.4 us/event. The ingest worker is left
 * uncapped: some of its reads still grow with what a producer writes (a device's installs,
 * what names a changed link, the users of a device), and a capped heap turns each into a death
 * at every restart. Its late link's clicks, read whole, did so on a 128 MB old generation
 * (test/integration/ingest-memory.test.ts), before they were read a page at a time. Capped, it
 * also took 15-22% more CPU per event (docs/performance-journal.md, "The ingest worker's
 * memory", "Reads that do not grow").
 *
 * It too may grow by half of what the last full collection left live (as the query service,
 * above): bench part 2 at 8,000 events/s, two trials each, its CPU 9.6 and 9.6 s -> 8.8 and
 * 8.6 s (-9%), peak RSS 118 -> 120 MB; part 1 at scale 0.3 (catching up), 3.61-3.68 -> 3.25-3.56
 * CPU s, peak RSS 163-165 -> 156-164 MB.
 */
export const AGGREGATOR_NODE_FLAGS = [...SERVICE_NODE_FLAGS, '--max-old-space-size=96', '--heap-growing-percent=50'];

/**
 * Runs services as child processes in the foreground: every output line is prefixed with
 * the service's name, a service that exits on its own is restarted with backoff, and
 * stop() (or SIGINT/SIGTERM, when handleSignals) stops them all gracefully, by pid.
 */
export function superviseServices(specs: ServiceSpec[], options: { out?: NodeJS.WritableStream; color?: boolean } = {}) {
  const out = options.out ?? process.stdout;
  const width = Math.max(...specs.map((s) => s.name.length));
  const children = new Map<string, ChildProcess>();
  const allocator = serviceAllocator();
  out.write(`memory allocator: ${allocator.name} (${allocator.reason})\n`);
  let stopping = false;
  let exited: () => void = () => undefined;
  const allExited = new Promise<void>((resolve) => (exited = resolve));

  const prefix = (name: string, i: number) => {
    const label = name.padEnd(width);
    return options.color ? `\x1b[${COLORS[i % COLORS.length]}m${label}\x1b[0m | ` : `${label} | `;
  };

  function start(spec: ServiceSpec, i: number, restarts = 0): void {
    const child = spawn(process.execPath, spec.args, { env: { ...process.env, ...allocator.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(spec.name, child);
    const startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (line) => out.write(`${prefix(spec.name, i)}${line}\n`));
    child.on('exit', (code, signal) => {
      children.delete(spec.name);
      if (stopping) {
        if (children.size === 0) exited();
        return;
      }
      // Crashed or exited on its own: restart, backing off while it keeps failing fast.
      const next = Date.now() - startedAt > 60_000 ? 0 : restarts + 1;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(next, 5));
      out.write(`${prefix(spec.name, i)}exited (${signal ?? code}); restarting in ${delay / 1000} s\n`);
      setTimeout(() => !stopping && start(spec, i, next), delay).unref();
    });
  }

  specs.forEach((spec, i) => start(spec, i));

  return {
    /** Sends SIGTERM to every service and resolves when all have exited. */
    async stop(): Promise<void> {
      if (!stopping) {
        stopping = true;
        if (children.size === 0) exited();
        for (const child of children.values()) child.kill('SIGTERM');
      }
      await allExited;
    },
  };
}
