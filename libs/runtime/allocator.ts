import { existsSync } from 'node:fs';

/**
 * The memory allocator the services run on: glibc's malloc with GLIBC_MALLOC_TUNABLES, or, with
 * `SERVICE_ALLOCATOR=jemalloc`, jemalloc, preloaded (`LD_PRELOAD`) by whatever starts them (the
 * supervisor of `make run` and `make demo`, the single-service targets, the bench) when its
 * shared library is on the machine.
 *
 * jemalloc is a trade of CPU for memory, so not the default. What V8 keeps outside its heap (the query
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

/**
 * glibc malloc's settings for the services on the system allocator (`GLIBC_TUNABLES`; a value
 * already set is kept as it is, and a C library other than glibc ignores it): one arena for
 * every thread instead of up to eight a core, and the thresholds at which malloc maps a block of
 * its own and gives the top of its heap back fixed at glibc's initial 128 kB. Left to itself,
 * glibc raises both each time a mapped block is freed (up to 32 MB and twice that), after which
 * large buffers come from the heap and stay there, freed but kept; and each thread that
 * allocates (V8's collector helpers, the libuv pool) gets an arena of its own whose freed memory
 * is kept apart. Bench part 3 on the 10M database (the mentor routes, runs in turns), the query
 * service's RSS after the warm-up / at its peak unloaded / during ingest: 168-185 / 177-187 /
 * 179-190 MB in three runs, against 188-194 / 201-207 / 204-217 with glibc's defaults, at the
 * same CPU per request (0.81-0.87 ms on referral-stats against 0.79-1.02). One arena alone gave
 * 171 / 178-180 / 179-181, the thresholds alone 170-177 / 189-193 / 195-210. The workers' peaks
 * did not move (V8's heap), nor, beyond that machine's spread, their rates
 * (docs/performance-journal.md, "glibc's malloc with one arena").
 */
export const GLIBC_MALLOC_TUNABLES = 'glibc.malloc.arena_max=1:glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072';

/** The system allocator's variables: GLIBC_MALLOC_TUNABLES, unless GLIBC_TUNABLES is already set. */
const systemEnv = (env: NodeJS.ProcessEnv): Record<string, string> => (env.GLIBC_TUNABLES === undefined ? { GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES } : {});

export interface Allocator {
  /** What the service runs on. */
  name: 'jemalloc' | 'system';
  /** Why, in a sentence for a start-up log line. */
  reason: string;
  /** Variables to add to the service's environment (the system allocator's: GLIBC_TUNABLES, unless already set). */
  env: Record<string, string>;
}

/** The allocator a service started now with `env` would get, and the variables that give it. */
export function serviceAllocator(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): Allocator {
  const wanted = (env.SERVICE_ALLOCATOR ?? 'system').trim().toLowerCase();
  if (wanted === 'system') return { name: 'system', reason: env.SERVICE_ALLOCATOR === undefined ? 'the default; SERVICE_ALLOCATOR=jemalloc for less memory' : 'SERVICE_ALLOCATOR=system', env: systemEnv(env) };
  if (wanted !== 'jemalloc') throw new Error(`SERVICE_ALLOCATOR must be jemalloc or system, not ${JSON.stringify(env.SERVICE_ALLOCATOR)}`);
  const preloaded = (env.LD_PRELOAD ?? '').split(/[\s:]+/).filter(Boolean);
  const already = preloaded.find((lib) => /(^|\/)libjemalloc\.so(\.\d+)*$/.test(lib));
  const named = env.JEMALLOC_PATH?.trim();
  if (named && !exists(named)) throw new Error(`JEMALLOC_PATH names ${named}, which does not exist`);
  const library = already ?? named ?? JEMALLOC_PATHS.find((path) => exists(path));
  if (!library) return { name: 'system', reason: `SERVICE_ALLOCATOR=jemalloc, but no jemalloc library was found (looked for ${JEMALLOC_PATHS.join(', ')}; install libjemalloc2 or set JEMALLOC_PATH)`, env: systemEnv(env) };
  return {
    name: 'jemalloc',
    reason: already ? `already preloaded (${already})` : `preloading ${library}`,
    env: {
      ...(already ? {} : { LD_PRELOAD: [...preloaded, library].join(':') }),
      ...(env.MALLOC_CONF === undefined ? { MALLOC_CONF: JEMALLOC_CONF } : {}),
    },
  };
}
