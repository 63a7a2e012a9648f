import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { repoPath } from './repo-paths.js';
import { GLIBC_MALLOC_TUNABLES, JEMALLOC_CONF, JEMALLOC_PATHS, serviceAllocator } from './allocator.js';
import { pipelineServices, superviseServices } from './supervisor.js';

/** The recipe of a Makefile target (its first command). */
function recipe(target: string): string {
  const lines = readFileSync(repoPath('Makefile'), 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith(`${target}:`));
  if (at < 0) throw new Error(`no Makefile target ${target}`);
  return lines[at + 1]?.trim() ?? '';
}

describe('starting a service', () => {
  it('goes through the supervisor from every make target, so each gets the same Node flags and allocator as make run and the bench', () => {
    const names = pipelineServices().map((s) => s.name);
    expect(recipe('ingest-worker')).toBe('node build/infra/run.js ingest');
    expect(recipe('aggregator-worker')).toBe('node build/infra/run.js aggregator');
    expect(recipe('query-service')).toBe('node build/infra/run.js query');
    expect(recipe('run')).toBe('node build/infra/run.js');
    expect(names).toEqual(['ingest', 'aggregator', 'query']);
    // No target starts a service's entry point by itself.
    expect(readFileSync(repoPath('Makefile'), 'utf8')).not.toMatch(/build\/services\/[a-z-]+\/main\.js/);
  });
});

describe('superviseServices', () => {
  /** Starts a stand-in service under the supervisor with SERVICE_ALLOCATOR set as given: what it printed, and what it says of itself. */
  async function probe(allocator: string | undefined): Promise<{ text: string; seen: Seen }> {
    // Says whether jemalloc is mapped into it and what MALLOC_CONF and GLIBC_TUNABLES it got, then exits.
    const script = "const maps = require('fs').readFileSync('/proc/self/maps', 'utf8'); console.log(JSON.stringify({ jemalloc: /libjemalloc\\.so/.test(maps), conf: process.env.MALLOC_CONF ?? null, tunables: process.env.GLIBC_TUNABLES ?? null }));";
    const before = process.env.SERVICE_ALLOCATOR;
    if (allocator === undefined) delete process.env.SERVICE_ALLOCATOR;
    else process.env.SERVICE_ALLOCATOR = allocator;
    let text = '';
    try {
      const out = new Writable({ write: (chunk: Buffer, _enc, done) => ((text += chunk.toString()), done()) });
      const services = superviseServices([{ name: 'probe', args: ['-e', script] }], { out });
      for (let i = 0; i < 100 && !text.includes('probe | {'); i++) await new Promise((r) => setTimeout(r, 50));
      await services.stop();
    } finally {
      if (before === undefined) delete process.env.SERVICE_ALLOCATOR;
      else process.env.SERVICE_ALLOCATOR = before;
    }
    const line = text.split('\n').find((l) => l.startsWith('probe | {'));
    return { text, seen: JSON.parse(line!.slice('probe | '.length)) as Seen };
  }
  type Seen = { jemalloc: boolean; conf: string | null; tunables: string | null };

  it('starts services on the system allocator by default', async () => {
    const { text, seen } = await probe(undefined);
    expect(text).toContain('memory allocator: system (the default; SERVICE_ALLOCATOR=jemalloc for less memory)');
    expect(seen.jemalloc).toBe(false);
    // glibc's settings, unless whoever started the tests set their own.
    expect(seen.tunables).toBe(process.env.GLIBC_TUNABLES ?? GLIBC_MALLOC_TUNABLES);
  });

  it('starts them on jemalloc, with its settings, when asked and the machine has it', async () => {
    const chosen = serviceAllocator({ ...process.env, SERVICE_ALLOCATOR: 'jemalloc' });
    // Read from the disk here, not from serviceAllocator: a library in one of the usual places must be chosen.
    if (process.env.JEMALLOC_PATH === undefined && JEMALLOC_PATHS.some((path) => existsSync(path))) expect(chosen.name).toBe('jemalloc');
    const { text, seen } = await probe('jemalloc');
    expect(text).toContain(`memory allocator: ${chosen.name} (${chosen.reason})`);
    // Where no library is found (make install tries Debian's libjemalloc2 only when asked), the reason says so and nothing is preloaded.
    const tunables = process.env.GLIBC_TUNABLES ?? (chosen.name === 'jemalloc' ? null : GLIBC_MALLOC_TUNABLES);
    expect(seen).toEqual(chosen.name === 'jemalloc' ? { jemalloc: true, conf: process.env.MALLOC_CONF ?? JEMALLOC_CONF, tunables } : { jemalloc: false, conf: process.env.MALLOC_CONF ?? null, tunables });
  });
});
