import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Credentials } from '../config/config.js';
import type { Kafka } from '../kafka/client.js';
import { createKafkaReadiness } from '../kafka/readiness.js';

export interface WorkerReadinessDeps {
  pool: Pool;
  redis?: Redis;
  /** The Confluent-compatible schema registry the worker decodes and encodes with. */
  registryUrl: string;
  /** Its basic auth (SCHEMA_REGISTRY_USERNAME / _PASSWORD), if it wants one. */
  registryAuth?: Credentials | undefined;
  kafka: Kafka;
  /** Topics the worker consumes and publishes to. */
  reads: string[];
  writes: string[];
  /** Whether the worker's consumer is a member of its group right now. */
  member(): boolean;
  /** Partitions stalled or stopped (null when none): the worker's consumer knows, see libs/kafka/progress-watch.ts. */
  partitions?(): string | null;
  /** The ingest worker's outbox: null, or how long referral events have waited for the broker. */
  outbox?(): string | null;
  timeoutMs?: number;
}

/**
 * Null if the schema registry answers a read of its storage (Apicurio answers 500 while its
 * database is gone): its global compatibility setting, one row whatever the registry holds.
 * Not the list of subjects: that grows with every subject anyone registered (3,350 subjects
 * took 2.7-4 s on the local Apicurio), and a shared registry would keep every worker unready.
 */
export async function registryProblem(url: string, timeoutMs = 2_000, auth?: Credentials): Promise<string | null> {
  try {
    const headers: Record<string, string> = auth ? { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` } : {};
    const res = await fetch(`${url.replace(/\/$/, '')}/config`, { headers, signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok ? null : `answers ${res.status}`;
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (err as Error).message;
  }
}

/**
 * A worker's readiness: every dependency it needs to make progress, asked at once. Ready is
 * null; otherwise one line naming each dependency that is not there and why (Postgres, Redis,
 * the schema registry, each broker that leads a partition it reads or writes, its consumer
 * group membership), and each partition it holds that is stalled or stopped.
 */
export function createWorkerReadiness(deps: WorkerReadinessDeps) {
  const timeoutMs = deps.timeoutMs ?? 2_000;
  const kafka = createKafkaReadiness({ kafka: deps.kafka, reads: deps.reads, writes: deps.writes });
  const failure = (err: unknown) => (err as Error).message || String(err);
  const checks: Record<string, () => Promise<string | null>> = {
    postgres: () => deps.pool.query('select 1').then(() => null, failure),
    ...(deps.redis ? { redis: () => (deps.redis as Redis).ping().then(() => null, failure) } : {}),
    'schema registry': () => registryProblem(deps.registryUrl, timeoutMs, deps.registryAuth),
    kafka: async () => (await kafka.problem())?.replace(/^kafka: /, '') ?? null,
    'consumer group': async () => (deps.member() ? null : 'not a member (joining, rebalancing or restarting)'),
    ...(deps.partitions ? { partitions: async () => (deps.partitions as () => string | null)() } : {}),
    ...(deps.outbox ? { outbox: async () => (deps.outbox as () => string | null)() } : {}),
  };
  const bounded = (check: () => Promise<string | null>) =>
    Promise.race([check(), new Promise<string>((resolve) => setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs).unref())]);
  return {
    async problem(): Promise<string | null> {
      const results = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await bounded(check)] as const));
      const problems = results.filter(([, p]) => p !== null).map(([name, p]) => `${name}: ${p}`);
      return problems.length > 0 ? problems.join('; ') : null;
    },
    close: () => kafka.close(),
  };
}

export type WorkerReadiness = ReturnType<typeof createWorkerReadiness>;
