import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GLIBC_MALLOC_TUNABLES, JEMALLOC_CONF, JEMALLOC_PATHS, serviceAllocator } from './allocator.js';

const only = (...present: string[]) => (path: string) => present.includes(path);

const JE = { SERVICE_ALLOCATOR: 'jemalloc' };

describe('serviceAllocator', () => {
  it('is the system allocator, with glibc\'s settings, unless jemalloc is asked for', () => {
    expect(serviceAllocator({}, only(JEMALLOC_PATHS[0]!))).toMatchObject({ name: 'system', env: { GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES } });
    expect(serviceAllocator({ SERVICE_ALLOCATOR: 'system' }, only(JEMALLOC_PATHS[0]!))).toEqual({ name: 'system', reason: 'SERVICE_ALLOCATOR=system', env: { GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES } });
  });

  it('keeps a GLIBC_TUNABLES already set', () => {
    expect(serviceAllocator({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=4' }, only()).env).toEqual({});
  });

  // A misspelt tunable is ignored without a word: ask glibc's dynamic loader what it makes of ours.
  const loader = ['/lib64/ld-linux-x86-64.so.2', '/lib/ld-linux-aarch64.so.1'].find((path) => existsSync(path));
  it.skipIf(!loader)('gives glibc settings it takes: one arena, thresholds fixed at 128 kB', () => {
    const listed = execFileSync(loader!, ['--list-tunables'], { env: { GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES }, encoding: 'utf8' });
    const value = (name: string) => /: (0x[0-9a-f]+)/.exec(listed.split('\n').find((line) => line.startsWith(`${name}:`)) ?? '')?.[1];
    expect([value('glibc.malloc.arena_max'), value('glibc.malloc.trim_threshold'), value('glibc.malloc.mmap_threshold')]).toEqual(['0x1', '0x20000', '0x20000']);
  });

  it('preloads the first jemalloc found, with the project\'s settings', () => {
    const a = serviceAllocator({ ...JE }, only(JEMALLOC_PATHS[2]!, JEMALLOC_PATHS[3]!));
    expect(a.name).toBe('jemalloc');
    expect(a.env).toEqual({ LD_PRELOAD: JEMALLOC_PATHS[2], MALLOC_CONF: JEMALLOC_CONF });
  });

  it('adds it to libraries already preloaded and keeps a MALLOC_CONF already set', () => {
    const a = serviceAllocator({ ...JE, LD_PRELOAD: '/opt/a.so /opt/b.so', MALLOC_CONF: 'narenas:4' }, only(JEMALLOC_PATHS[0]!));
    expect(a.env).toEqual({ LD_PRELOAD: `/opt/a.so:/opt/b.so:${JEMALLOC_PATHS[0]}` });
  });

  it('does not preload it twice', () => {
    const a = serviceAllocator({ ...JE, LD_PRELOAD: '/opt/jemalloc/lib/libjemalloc.so.2' }, only());
    expect(a).toMatchObject({ name: 'jemalloc', env: { MALLOC_CONF: JEMALLOC_CONF } });
    expect(a.env.LD_PRELOAD).toBeUndefined();
  });

  it('takes JEMALLOC_PATH, and refuses one that does not exist', () => {
    expect(serviceAllocator({ ...JE, JEMALLOC_PATH: '/opt/j/libjemalloc.so' }, only('/opt/j/libjemalloc.so')).env.LD_PRELOAD).toBe('/opt/j/libjemalloc.so');
    expect(() => serviceAllocator({ ...JE, JEMALLOC_PATH: '/nowhere/libjemalloc.so.2' }, only(JEMALLOC_PATHS[0]!))).toThrow(/JEMALLOC_PATH names \/nowhere/);
  });

  it('falls back to the system allocator when jemalloc is not there, saying why', () => {
    expect(serviceAllocator({ ...JE }, only())).toMatchObject({ name: 'system', env: { GLIBC_TUNABLES: GLIBC_MALLOC_TUNABLES }, reason: expect.stringMatching(/no jemalloc library was found.*libjemalloc2/) });
    expect(() => serviceAllocator({ SERVICE_ALLOCATOR: 'tcmalloc' }, only())).toThrow(/SERVICE_ALLOCATOR must be jemalloc or system/);
  });
});
