import { existsSync } from 'node:fs';

/**
 * The memory allocator the services run on: glibc's malloc, or, with `SERVICE_ALLOCATOR=jemalloc`,
 * jemalloc, preloaded (`LD_PRELOAD`) by whatever starts them (the supervisor of `make run` and
 * `make demo`, the single-service targets, the bench) when its shared library is on the machine.
 *
 * A trade of CPU for memory, so not the default. What V8 keeps outside its heap (the query
 * service's kept answers, every socket's and every Postgres reply's buffers) is allocated with
 * malloc, and glibc's keeps much of what a busy process once freed. Bench part 3 at 10M clicks
 * on one machine, the query service's RSS after the warm-up / at its peak unloaded / during
 * ingest: 192-202 / 223-235 / 251-253 MB on glibc (three runs), 163-171 / 210-214 / 218-223 MB on
 * jemalloc with JEMALLOC_CONF (four). But its CPU per request rose 5-10% unloaded (0.73-0.78 ms
 * against 0.66-0.71 on the mentor referral-stats routes, two runs each), and on a machine
 * saturated by ingest the p99 of the first loaded route was higher in every pair. The ingest
 * worker's peak RSS did not move (its memory is V8's heap). docs/performance-journal.md,
 * "jemalloc, measured: less memory for more CPU".
 *
 * `JEMALLOC_PATH` names a library elsewhere. A `MALLOC_CONF` already set is kept as it is.
 */
export const JEMALLOC_PATHS = [
  '/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', // Debian, Ubuntu (package libjemalloc2)
  '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2',
  '/usr/lib64/libjemalloc.so.2', // Fedora, RHEL (package jemalloc)
  '/usr/lib/libjemalloc.so.2', // Alpine, Arch
];

/**
 * One arena for the whole process (a service has one JavaScript thread; V8's helpers and the
 * libuv pool allocate little), a background thread that gives unused pages back, after a
 * second instead of jemalloc's default ten, and no lazily-purged (muzzy) pages kept at all:
 * the least memory of the settings measured (jemalloc's own defaults kept 4-16 MB more).
 */
export const JEMALLOC_CONF = 'narenas:1,background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0';

export interface Allocator {
  /** What the service runs on. */
  name: 'jemalloc' | 'system';
  /** Why, in a sentence for a start-up log line. */
  reason: string;
  /** Variables to add to the service's environment (none for the system allocator). */
  env: Record<string, string>;
}

/** The allocator a service started now with `env` would get, and the variables that give it. */
export function serviceAllocator(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): Allocator {
  const wanted = (env.SERVICE_ALLOCATOR ?? 'system').trim().toLowerCase();
  if (wanted === 'system') return { name: 'system', reason: env.SERVICE_ALLOCATOR === undefined ? 'the default; SERVICE_ALLOCATOR=jemalloc for less memory' : 'SERVICE_ALLOCATOR=system', env: {} };
  if (wanted !== 'jemalloc') throw new Error(`SERVICE_ALLOCATOR must be jemalloc or system, not ${JSON.stringify(env.SERVICE_ALLOCATOR)}`);
  const preloaded = (env.LD_PRELOAD ?? '').split(/[\s:]+/).filter(Boolean);
  const already = preloaded.find((lib) => /(^|\/)libjemalloc\.so(\.\d+)*$/.test(lib));
  const named = env.JEMALLOC_PATH?.trim();
  if (named && !exists(named)) throw new Error(`JEMALLOC_PATH names ${named}, which does not exist`);
  const library = already ?? named ?? JEMALLOC_PATHS.find((path) => exists(path));
  if (!library) return { name: 'system', reason: `SERVICE_ALLOCATOR=jemalloc, but no jemalloc library was found (looked for ${JEMALLOC_PATHS.join(', ')}; install libjemalloc2 or set JEMALLOC_PATH)`, env: {} };
  return {
    name: 'jemalloc',
    reason: already ? `already preloaded (${already})` : `preloading ${library}`,
    env: {
      ...(already ? {} : { LD_PRELOAD: [...preloaded, library].join(':') }),
      ...(env.MALLOC_CONF === undefined ? { MALLOC_CONF: JEMALLOC_CONF } : {}),
    },
  };
}
