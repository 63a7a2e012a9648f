import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * `make bench` at BENCH_SCALE=0.01: every part runs and every figure is produced. No timing is
 * asserted (the figures of a smoke run on a shared machine mean nothing); only that the bench
 * still works, and that the bulk-generated dashboard data still equals what the ingest worker
 * writes.
 */
describe('make bench, shrunk to a smoke run', () => {
  it('produces every figure of the five parts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    const out = join(dir, 'results.json');
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts'], { env: { ...process.env, BENCH_SCALE: '0.01', BENCH_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect(code, output.slice(-3000)).toBe(0);
      for (const heading of ['1. Ingest worker', '2. End to end', '3. Dashboards', '4. Scale out', '5. Peak RSS']) expect(output).toContain(heading);

      const r = JSON.parse(readFileSync(out, 'utf8'));
      expect(r.machine).toMatchObject({ cpus: expect.any(Number), memoryGb: expect.any(Number), node: expect.any(String), postgres: expect.any(String), redis: expect.any(String), kafka: expect.any(String) });
      for (const run of [r.ingest.ingestOne, r.ingest.ingestTwo, r.ingest.bareConsumer, r.ingest.bareWriter, r.ingest.slice.naive, r.ingest.slice.ingest, r.ingest.aggregatorOne, r.ingest.aggregatorTwo]) {
        expect(run.eventsPerSecond).toBeGreaterThan(0);
        expect(run.peakRssMb.every((mb: number | null) => typeof mb === 'number' && mb > 0)).toBe(true);
        // Every process reported its first fetch and last commit (the rate leaves start-up out).
        expect(run.timedFrom).toBe('first fetch');
        expect(run.cpuSeconds).toEqual(expect.any(Number));
      }
      for (const t of r.ingest.bareWriterRows) expect(t.bareWriter, t.table).toBe(t.ingest);
      expect(r.endToEnd.trials.length).toBeGreaterThan(0);
      for (const t of r.endToEnd.trials) {
        expect(t.cpu.machineCpuSeconds).toBeGreaterThan(0);
        for (const role of ['ingest worker', 'aggregator', 'query service', 'Kafka', 'Postgres', 'load generator']) expect(t.cpu.processes[role], role).toEqual(expect.any(Number));
      }
      expect(r.endToEnd.sustainedEventsPerSecond).toBeGreaterThan(0);
      expect(r.endToEnd.freshness.probes).toBeGreaterThan(0);
      for (const k of ['p50Ms', 'p99Ms', 'maxMs']) expect(r.endToEnd.freshness[k]).toEqual(expect.any(Number));
      // Past the cold start too, and by 10 s of the run.
      expect(r.endToEnd.freshness.steady.probes).toBeGreaterThan(0);
      for (const k of ['p50Ms', 'p99Ms', 'maxMs']) expect(r.endToEnd.freshness.steady[k]).toEqual(expect.any(Number));
      expect(r.endToEnd.freshness.p99ByTenSecondsMs.length).toBeGreaterThan(0);
      expect(r.dashboards.checkedAgainstIngest.differing).toEqual([]);
      expect(r.dashboards.rows.clicks).toBeGreaterThan(0);
      expect(r.dashboards.sizes.length).toBeGreaterThan(0);
      expect(r.dashboards.unloaded).toHaveLength(11);
      expect(r.dashboards.loaded).toHaveLength(11);
      expect(r.dashboards.load.leadInSeconds).toBeGreaterThanOrEqual(3);
      // Every answer says where it came from: platform growth (one key) from the answer cache after its first, lists never.
      const growth = r.dashboards.unloaded.find((x: { route: string }) => x.route.startsWith('platform growth'));
      expect(growth.cache.hit + (growth.cache.shared ?? 0)).toBeGreaterThan(0);
      expect(Object.keys(r.dashboards.unloaded.find((x: { route: string }) => x.route.startsWith('conversion record')).cache)).toEqual(['none']);
      for (const route of [...r.dashboards.unloaded, ...r.dashboards.loaded]) {
        expect(route.requests).toBeGreaterThan(0);
        expect(route.non2xx, JSON.stringify(route.failures)).toBe(0);
        for (const k of ['p50Ms', 'p99Ms', 'p99AfterFirstSecondMs', 'maxMs', 'requestsPerSecond', 'queryServicePeakRssMb']) expect(route[k], k).toEqual(expect.any(Number));
      }
      expect(r.dashboards.queryServiceRssMb).toEqual({ afterWarmup: expect.any(Number), peakUnloaded: expect.any(Number), peakLoaded: expect.any(Number) });
      for (const kind of ['ingest-worker', 'aggregator-worker', 'query-service']) expect(r.memory[kind].peakMb).toBeGreaterThan(0);
      for (const [name, value] of Object.entries(r.ratios)) expect(value, name).toEqual(expect.any(Number));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 900_000);
});
