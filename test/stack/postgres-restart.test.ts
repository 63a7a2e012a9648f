import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { referenceFacts, startPipeline } from '../support/workers.js';
import { expectedFunnel, factsSnapshot, funnelRecords, funnelSnapshot } from '../support/facts.js';
import { startQueryApp } from '../support/query.js';
import { publishOutOfOrder, trafficHalf } from '../support/publish-out-of-order.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';

/**
 * Postgres restarts while events are being ingested. Nothing is restarted by hand afterwards:
 * the schema registry (whose schemas live in Postgres), both workers and the query service must
 * recover by themselves, and the numbers must end exact. Needs the Debian cluster tools, as
 * the local stack's Postgres is a Debian cluster.
 */
const clusters = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
const restartable = clusters.length > 0 && existsSync('/usr/bin/pg_ctlcluster');
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('postgres_restart');
});
afterAll(async () => {
  await env?.close();
});

const restartPostgres = () =>
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', clusters.sort().at(-1) as string, 'main', 'restart'], { stdio: 'inherit', timeout: 120_000 });

describe.skipIf(!restartable)('a Postgres restart during ingest', () => {
  it('the registry, both workers and the query service recover by themselves, and every number is exact', async () => {
    const traffic = sampleTraffic({ seed: 31, clicks: 3000 });
    const producer = createEventProducer(env);
    await producer.connect();
    const pipeline = await startPipeline(env);
    const query = await startQueryApp(env);
    try {
      await publishOutOfOrder(producer, trafficHalf(traffic, true), 31);
      // Mid-stream: the workers have committed some batches and are working on others.
      await eventually(async () => (Number((await env.db('clicks').count({ n: '*' }))[0]?.n) > 300 ? true : undefined), 90_000, 'ingest under way');
      restartPostgres();
      // As soon as Postgres answers, so does the registry: its pool replaces the dead connections
      // it holds instead of handing them to requests (before, every request was a 500 until the
      // registry itself was restarted).
      await eventually(async () => ((await env.db.raw('select 1')) ? true : undefined), 60_000, 'postgres to answer');
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${env.config.schemaRegistryUrl}/subjects/${env.topics.inviteClicks}-value/versions`)).status);
      expect(statuses).toEqual([200, 200, 200, 200, 200]);
      await publishOutOfOrder(producer, trafficHalf(traffic, false), 32);
      await pipeline.settled();

      // The registry answers again without being restarted: a new schema lookup works.
      const subjects = await eventually(async () => {
        const res = await fetch(`${env.config.schemaRegistryUrl}/subjects`);
        return res.ok ? ((await res.json()) as string[]) : undefined;
      }, 60_000, 'the registry to answer');
      expect(subjects.length).toBeGreaterThan(0);
      // The query service answers with numbers, after answering 503 at most while Postgres was away.
      const admin = await query.token('platform_admin', 'root');
      const growth: { organizations: unknown[] } = await eventually(async () => {
        const res = await query.app.inject({ method: 'GET', url: '/v1/platform/growth?from=2026-03-01&to=2026-04-30&granularity=month', headers: { authorization: `Bearer ${admin}` } });
        return res.statusCode === 200 ? res.json() : undefined;
      }, 60_000, 'the query service to answer');
      expect(growth.organizations.length).toBeGreaterThan(0);

      // Exact: the funnel equals the funnel records counted once, and the facts equal those of an
      // undisturbed run over the same topics with a fresh codec (which asks the registry anew).
      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel(await funnelRecords(env.db)));
      expect(await factsSnapshot(env.db)).toEqual(await referenceFacts(env));
    } finally {
      await query.close();
      await pipeline.stop();
      await producer.disconnect();
    }
  });
});
