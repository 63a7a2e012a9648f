import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { loadQueryFixture } from '../support/query-fixture.js';
import { sampleIds, warmUp, warmUpRoutes } from '../../services/query-service/warm-up.js';
import { buildApp } from '../../services/query-service/app.js';

/**
 * The query service's warm start (services/query-service/warm-up.ts) on the query fixture: it
 * asks every read route about stored facts before the service listens, through every
 * connection of the pool, and leaves nothing in the service's answer cache.
 */
let env: TestEnv;
let q: QueryApp;

/** The read routes of SPEC §5: every one is warmed. */
const READ_ROUTES = [
  '/v1/mentors/:mentorId/referral-stats', '/v1/mentors/:mentorId/recruits', '/v1/mentors/:mentorId/annual-summary',
  '/v1/coordinators/:coordinatorId/mentor-performance', '/v1/coordinators/:coordinatorId/recruitment-summary', '/v1/coordinators/:coordinatorId/referrals',
  '/v1/orgs/:orgId/recruitment-summary', '/v1/orgs/:orgId/referrals', '/v1/platform/growth', '/v1/conversions/:userId',
];

beforeAll(async () => {
  env = await createTestEnv('query_warm_up');
  q = await startQueryApp(env);
  await q.app.answers.ready();
});
afterAll(async () => {
  await q?.close();
  await env?.close();
});

describe('the warm-up', () => {
  it('on an empty database asks nothing, and says why', async () => {
    const report = await warmUp(q.deps, { requestsPerRoute: 10, concurrency: 4 });
    expect(report).toMatchObject({ requests: 0, skipped: 'no stored referral to ask about' });
    expect(await warmUp(q.deps, { requestsPerRoute: 0, concurrency: 4 })).toMatchObject({ requests: 0, skipped: 'QUERY_WARMUP_REQUESTS is 0' });
  });

  it('answers every read route 200 about stored facts, on every connection, and keeps no answer', async () => {
    await loadQueryFixture(q.pool, env.config.defaultTimezone);
    for (const route of READ_ROUTES) expect(q.app.hasRoute({ method: 'GET', url: route })).toBe(true);

    const now = new Date('2026-04-15T12:00:00Z');
    const report = await warmUp(q.deps, { requestsPerRoute: 24, concurrency: 12, now });
    expect(report.skipped).toBeUndefined();
    expect(Object.keys(report.answered).sort()).toEqual([...READ_ROUTES].sort());
    for (const route of READ_ROUTES) expect(report.answered[route]).toEqual({ 200: 24 });
    expect(report.requests).toBe(24 * READ_ROUTES.length);

    // Every connection of the pool ran statements of the routes (prepared on it: prepared-statements.ts).
    const clients = await Promise.all(Array.from({ length: 6 }, () => q.pool.connect()));
    try {
      const prepared = await Promise.all(clients.map(async (c) => Number((await c.query<{ n: string }>('select count(*) n from pg_prepared_statements')).rows[0]?.n)));
      for (const n of prepared) expect(n).toBeGreaterThan(0);
    } finally {
      for (const c of clients) c.release();
    }

    // The service itself kept nothing: the first answer to a request the warm-up sent is computed
    // (the warm-up ran on an app of its own, without a cache), and the second is kept.
    const token = await q.token('platform_admin', 'ops', null);
    const asked = warmUpRoutes(await sampleIds(q.pool), now).find((r) => r.route === '/v1/mentors/:mentorId/referral-stats')?.path(0) as string;
    const ask = () => q.app.inject({ method: 'GET', url: asked, headers: { authorization: `Bearer ${token}` } });
    const first = await ask();
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-cache']).toBe('miss');
    expect((await ask()).headers['x-cache']).toBe('hit');
  });

  it("an app built without process metrics (the warm-up's) starts none of prom-client's collectors, which no close would stop", async () => {
    const metrics = async (app: QueryApp['app']) => (await app.inject('/metrics')).body;
    expect(await metrics(q.app)).toMatch(/^query_process_cpu_user_seconds_total /m);
    const second = await buildApp({ ...q.deps, processMetrics: false });
    try {
      const text = await metrics(second);
      expect(text).not.toMatch(/^query_process_|^query_nodejs_/m);
      expect(text).toMatch(/^# TYPE http_requests_total counter/m);
    } finally {
      await second.close();
    }
  });

  it('sends the parameters dashboards send, with ids taken in turn', () => {
    const ids = { mentors: [{ org: 'o 1', mentor: 'm/1' }, { org: 'o2', mentor: 'm2' }], users: [{ org: 'o2', user: 'u1' }], coordinators: [{ org: 'o2', coordinator: 'c1' }], orgs: ['o 1', 'o2'] };
    const routes = warmUpRoutes(ids, new Date('2026-11-30T10:00:00Z'));
    expect(routes.map((r) => r.route).sort()).toEqual([...READ_ROUTES].sort());
    const stats = routes.find((r) => r.route === '/v1/mentors/:mentorId/referral-stats');
    expect(stats?.path(0)).toBe('/v1/mentors/m%2F1/referral-stats?from=2026-09-02&to=2026-11-30&granularity=day&orgId=o%201');
    expect(stats?.path(1)).toBe('/v1/mentors/m2/referral-stats?orgId=o2');
    expect(routes.find((r) => r.route === '/v1/conversions/:userId')?.path(5)).toBe('/v1/conversions/u1?orgId=o2');
    // A coordinator id may have scopes in several organizations: the one sampled is named.
    expect(routes.find((r) => r.route === '/v1/coordinators/:coordinatorId/mentor-performance')?.path(1)).toBe('/v1/coordinators/c1/mentor-performance?orgId=o2');
    // Without coordinators, their routes are left out.
    expect(warmUpRoutes({ ...ids, coordinators: [] }, new Date()).map((r) => r.route)).not.toContain('/v1/coordinators/:coordinatorId/referrals');
  });
});
