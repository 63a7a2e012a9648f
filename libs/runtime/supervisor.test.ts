import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { repoPath } from './repo-paths.js';
import { JEMALLOC_CONF, serviceAllocator } from './allocator.js';
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
  it('starts each service on the allocator serviceAllocator names, with its settings', async () => {
    const chosen = serviceAllocator();
    // A stand-in service: says whether jemalloc is mapped into it and what MALLOC_CONF it got, then exits.
    const probe = "const maps = require('fs').readFileSync('/proc/self/maps', 'utf8'); console.log(JSON.stringify({ jemalloc: /libjemalloc\\.so/.test(maps), conf: process.env.MALLOC_CONF ?? null }));";
    let text = '';
    const out = new Writable({ write: (chunk: Buffer, _enc, done) => ((text += chunk.toString()), done()) });
    const services = superviseServices([{ name: 'probe', args: ['-e', probe] }], { out });
    for (let i = 0; i < 100 && !text.includes('probe | {'); i++) await new Promise((r) => setTimeout(r, 50));
    await services.stop();
    expect(text).toContain(`memory allocator: ${chosen.name} (${chosen.reason})`);
    const line = text.split('\n').find((l) => l.startsWith('probe | {'));
    expect(JSON.parse(line!.slice('probe | '.length))).toEqual(
      chosen.name === 'jemalloc' ? { jemalloc: true, conf: process.env.MALLOC_CONF ?? JEMALLOC_CONF } : { jemalloc: false, conf: process.env.MALLOC_CONF ?? null },
    );
  });
});
