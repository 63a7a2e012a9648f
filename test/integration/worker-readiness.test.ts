import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startAggregatorWorker, startIngestWorker } from '../support/workers.js';
import { createWorkerReadiness, type WorkerReadinessDeps } from '../../libs/observability/readiness.js';
import { createRedis } from '../../libs/runtime/connections.js';

/**
 * A worker's /readyz answer, from the real stack: ready only when Postgres, Redis, the schema
 * registry, every broker leading a partition it reads or writes, and its group membership are
 * all there, and otherwise a line naming what is missing.
 */
let env: TestEnv;
let failingRegistry: Server;
let failingRegistryUrl: string;
let largeRegistry: Server;
let largeRegistryUrl: string;

beforeAll(async () => {
  env = await createTestEnv('worker_readiness');
  // A registry that answers like Apicurio without its database: 500 on every request.
  failingRegistry = createServer((_req, res) => res.writeHead(500).end('{"error_code":50001}'));
  await new Promise<void>((resolve) => failingRegistry.listen(0, '127.0.0.1', resolve));
  const address = failingRegistry.address();
  failingRegistryUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/apis/ccompat/v7`;
  // A registry as large as a shared one: listing its subjects takes 3 s (3,350 subjects took
  // 2.7-4 s on the local Apicurio), while a read of one setting is as quick as ever.
  largeRegistry = createServer((req, res) => {
    if (req.url?.endsWith('/subjects')) setTimeout(() => res.writeHead(200).end('[]'), 3_000);
    else res.writeHead(200, { 'content-type': 'application/json' }).end('{"compatibilityLevel":"BACKWARD"}');
  });
  await new Promise<void>((resolve) => largeRegistry.listen(0, '127.0.0.1', resolve));
  const large = largeRegistry.address();
  largeRegistryUrl = `http://127.0.0.1:${typeof large === 'object' && large ? large.port : 0}/apis/ccompat/v7`;
});

afterAll(async () => {
  await new Promise((resolve) => failingRegistry?.close(resolve));
  largeRegistry?.closeAllConnections();
  await new Promise((resolve) => largeRegistry?.close(resolve));
  await env?.close();
});

/** 'ready', or the problem thrown, so a wait that times out names what was still missing. */
async function readyOrProblem(probe: { problem(): Promise<string | null> }): Promise<'ready'> {
  const problem = await probe.problem();
  if (problem !== null) throw new Error(problem);
  return 'ready';
}

describe('worker readiness', () => {
  it('the ingest worker is ready once it has joined, and names each missing dependency otherwise', async () => {
    const ingest = await startIngestWorker(env);
    const redis = createRedis(env.config, env.log);
    const base: WorkerReadinessDeps = {
      pool: ingest.pool, redis, kafka: env.kafka, registryUrl: env.config.schemaRegistryUrl,
      reads: ingest.worker.reads, writes: ingest.worker.writes, member: () => ingest.worker.member,
    };
    const probes = [
      createWorkerReadiness(base),
      createWorkerReadiness({ ...base, registryUrl: failingRegistryUrl }),
      createWorkerReadiness({ ...base, registryUrl: 'http://127.0.0.1:9/apis/ccompat/v7' }),
      createWorkerReadiness({ ...base, reads: [...base.reads, `${env.namespace}.no-such-topic`] }),
      createWorkerReadiness({ ...base, member: () => false }),
      createWorkerReadiness({ ...base, registryUrl: largeRegistryUrl }),
    ];
    const [ready, registry500, registryDown, missingTopic, notMember, registryLarge] = probes;
    try {
      expect(await eventually(() => readyOrProblem(ready!), 60_000, 'ingest worker ready')).toBe('ready');
      expect(ingest.worker.reads).toHaveLength(7);
      expect(ingest.worker.writes).toEqual([env.topics.referralEvents, env.topics.deadLetters]);

      expect(await registry500!.problem()).toBe('schema registry: answers 500');
      expect(await registryDown!.problem()).toMatch(/^schema registry: /);
      expect(await missingTopic!.problem()).toMatch(/^kafka: /);
      expect(await notMember!.problem()).toBe('consumer group: not a member (joining, rebalancing or restarting)');
      // However many subjects the registry holds, asking whether it answers stays quick.
      expect(await registryLarge!.problem()).toBeNull();
    } finally {
      await Promise.all(probes.map((p) => p.close()));
      redis.disconnect();
      await ingest.stop();
    }
  });

  it('the aggregator is not a member before it starts nor after it stops, and ready in between', async () => {
    const aggregator = await startAggregatorWorker(env);
    const readiness = createWorkerReadiness({
      pool: aggregator.pool, kafka: env.kafka, registryUrl: env.config.schemaRegistryUrl,
      reads: aggregator.worker.reads, writes: aggregator.worker.writes, member: () => aggregator.worker.member,
    });
    try {
      expect(aggregator.worker.reads).toEqual([env.topics.referralEvents]);
      expect(await eventually(() => readyOrProblem(readiness), 60_000, 'aggregator ready')).toBe('ready');
      await aggregator.worker.close();
      expect(aggregator.worker.member).toBe(false);
      expect(await readiness.problem()).toBe('consumer group: not a member (joining, rebalancing or restarting)');
    } finally {
      await readiness.close();
      await aggregator.stop();
    }
  });
});
