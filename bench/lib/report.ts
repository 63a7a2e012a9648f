import os from 'node:os';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { Redis } from 'ioredis';
import type { Config } from '../../libs/config/config.js';
import { serviceAllocator } from '../../libs/runtime/allocator.js';

/** Cores, memory and versions of what the bench ran on. */
export async function machine(config: Config): Promise<Record<string, unknown>> {
  const pkg = (name: string) => {
    try {
      return (JSON.parse(readFileSync(`node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
    } catch {
      return null;
    }
  };
  const db = new pg.Client({ connectionString: config.databaseUrl });
  await db.connect();
  const postgres = (await db.query<{ server_version: string }>('show server_version')).rows[0]?.server_version ?? null;
  const settings = Object.fromEntries((await db.query<{ name: string; setting: string; unit: string | null }>(
    "select name, setting, unit from pg_settings where name in ('shared_buffers', 'work_mem', 'max_connections', 'synchronous_commit', 'effective_cache_size')",
  )).rows.map((r) => [r.name, `${r.setting}${r.unit ?? ''}`]));
  await db.end();
  const redis = new Redis(config.redisUrl, { lazyConnect: true });
  await redis.connect();
  const info = await redis.info('server');
  redis.disconnect();
  const common = readFileSync('infra/scripts/common.sh', 'utf8');
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? null,
    memoryGb: Math.round(os.totalmem() / 1024 ** 3),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    kafka: process.env.KAFKA_VERSION ?? /KAFKA_VERSION="\$\{KAFKA_VERSION:-([^}]+)\}"/.exec(common)?.[1] ?? null,
    kafkaBrokers: config.kafka.brokers.join(','),
    postgres,
    postgresSettings: settings,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? null,
    kafkajs: pkg('kafkajs'),
    // What every process the bench spawns (services and baselines) allocates with (libs/runtime/allocator.ts).
    allocator: serviceAllocator(),
    pg: pkg('pg'),
    fastify: pkg('fastify'),
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  };
}

/** Prints rows as an aligned table. */
export function table(title: string, header: string[], rows: (string | number | null)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === null ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ') + ' |';
  const sep = '|' + widths.map((w, i) => (i === 0 ? ':' + '-'.repeat(w + 1) : '-'.repeat(w + 1) + ':')).join('|') + '|';
  return [`\n${title}\n`, line(cells[0] as string[]), sep, ...cells.slice(1).map(line)].join('\n');
}

export const ratio = (a: number | null | undefined, b: number | null | undefined): number | null => (a == null || b == null || b === 0 ? null : Math.round((a / b) * 100) / 100);
