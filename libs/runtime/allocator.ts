import { existsSync } from 'node:fs';

/**
 * The memory allocator the services run on: jemalloc, preloaded (`LD_PRELOAD`) by whatever
 * starts them (the supervisor of `make run` and `make demo`, the single-service targets, the
 * bench), when its shared library is on the machine; glibc's malloc otherwise.
 *
 * Why: what V8 keeps outside its heap (the query service's kept answers, every socket's and
 * every Postgres reply's buffers, the fetches a worker decodes) is allocated with malloc, and
 * glibc's keeps what a busy process once freed: bench part 3 at 10M clicks, one run each on
 * one machine, query service RSS after the warm-up, peak unloaded and peak during ingest
 * 202 / 235 / 253 MB on glibc, 166 / 211 / 216 MB on jemalloc with JEMALLOC_CONF; the ingest
 * worker catching up (part 1, scale 0.3) 325 MB on glibc and 295 MB on jemalloc (README
 * "An allocator that gives memory back").
 *
 * `SERVICE_ALLOCATOR=system` keeps glibc's; `JEMALLOC_PATH` names a library elsewhere. A
 * `MALLOC_CONF` already set is kept as it is.
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
 * second instead of jemalloc's default ten, and no lazily-purged (muzzy) pages kept at all.
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
  const wanted = (env.SERVICE_ALLOCATOR ?? 'jemalloc').trim().toLowerCase();
  if (wanted === 'system') return { name: 'system', reason: 'SERVICE_ALLOCATOR=system', env: {} };
  if (wanted !== 'jemalloc') throw new Error(`SERVICE_ALLOCATOR must be jemalloc or system, not ${JSON.stringify(env.SERVICE_ALLOCATOR)}`);
  const preloaded = (env.LD_PRELOAD ?? '').split(/[\s:]+/).filter(Boolean);
  const already = preloaded.find((lib) => /(^|\/)libjemalloc\.so(\.\d+)*$/.test(lib));
  const named = env.JEMALLOC_PATH?.trim();
  if (named && !exists(named)) throw new Error(`JEMALLOC_PATH names ${named}, which does not exist`);
  const library = already ?? named ?? JEMALLOC_PATHS.find((path) => exists(path));
  if (!library) return { name: 'system', reason: `no jemalloc library found (looked for ${JEMALLOC_PATHS.join(', ')}; install libjemalloc2 or set JEMALLOC_PATH)`, env: {} };
  return {
    name: 'jemalloc',
    reason: already ? `already preloaded (${already})` : `preloading ${library}`,
    env: {
      ...(already ? {} : { LD_PRELOAD: [...preloaded, library].join(':') }),
      ...(env.MALLOC_CONF === undefined ? { MALLOC_CONF: JEMALLOC_CONF } : {}),
    },
  };
}
