import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type pg from 'pg';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { loadQueryFixture } from '../support/query-fixture.js';

/**
 * Issue 20 finding 4, one caller can starve the rest: caps on requests in flight, readiness
 * computed once a second, and another organization served while one identity floods, through
 * app.inject() against the real Postgres and Redis of the local stack. Outcomes are asserted
 * (statuses); latencies are only printed.
 */
let env: TestEnv;
let q: QueryApp;

beforeAll(async () => {
  env = await createTestEnv('query_fair_use');
  q = await startQueryApp(env);
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
}, 60_000);

afterAll(async () => {
  await q?.close();
  await env?.close();
});

const get = async (app: QueryApp, url: string, token: string) => {
  const started = performance.now();
  const res = await app.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, code: (res.json() as { error?: { code: string } }).error?.code, retryAfter: res.headers['retry-after'], ms: performance.now() - started };
};

/** Holds org_settings (read by every authorization of an org route) locked until released: requests stay in flight. */
async function holdOrgSettings(pool: pg.Pool): Promise<{ waiting: () => Promise<number>; release: () => Promise<void> }> {
  const client = await pool.connect();
  await client.query('begin');
  await client.query('lock table org_settings in access exclusive mode');
  return {
    waiting: async () => Number((await pool.query<{ n: string }>("select count(*) as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'")).rows[0]?.n),
    release: async () => {
      await client.query('rollback');
      client.release();
    },
  };
}

/** Scope facts a request took from another request's read in flight (the answer cache shares them). */
async function sharedScopeReads(app: QueryApp): Promise<number> {
  const res = await app.app.inject({ method: 'GET', url: '/metrics' });
  return Number(/query_scope_cache_total\{outcome="shared"\} (\d+)/.exec(res.body)?.[1] ?? 0);
}

describe('requests in flight are capped per identity and per organization', () => {
  it('a request beyond the cap is a 429 with Retry-After, and is served once the others are answered', async () => {
    const capped = await startQueryApp(env, { config: { fairUse: { requestsPerMinute: 1_000_000, inFlightPerIdentity: 1, inFlightPerOrg: 2, inFlightTotal: 1_000 }, http: { ...env.config.http, statementTimeoutMs: 20_000 } } });
    try {
      const [a1, a2, a3, b1] = await Promise.all([
        capped.token('org_admin', 'admin-a1', 'org-a'), capped.token('org_admin', 'admin-a2', 'org-a'), capped.token('org_admin', 'admin-a3', 'org-a'), capped.token('org_admin', 'admin-b1', 'org-b'),
      ]);
      const lock = await holdOrgSettings(q.pool);
      let first: Promise<Awaited<ReturnType<typeof get>>>;
      let second: Promise<Awaited<ReturnType<typeof get>>>;
      try {
        first = get(capped, '/v1/orgs/org-a/recruitment-summary', a1);
        await vi.waitFor(async () => expect(await lock.waiting()).toBe(1), { timeout: 10_000, interval: 50 });
        // The same identity again: over its cap.
        const again = await get(capped, '/v1/orgs/org-a/recruitment-summary', a1);
        expect([again.status, again.code, again.retryAfter]).toEqual([429, 'too_many_in_flight', '1']);
        // Another identity of the organization takes its second place; a third is over the organization's cap.
        const sharedBefore = await sharedScopeReads(capped);
        second = get(capped, '/v1/orgs/org-a/recruitment-summary', a2);
        // In flight once its own backend waits for the lock, or once it shares the read of org-a's scope the first is waiting on.
        await vi.waitFor(async () => expect((await lock.waiting()) === 2 || (await sharedScopeReads(capped)) > sharedBefore).toBe(true), { timeout: 10_000, interval: 50 });
        const held = await lock.waiting();
        expect((await get(capped, '/v1/orgs/org-a/recruitment-summary', a3)).code).toBe('too_many_in_flight');
        // Another organization is not held back by org-a's requests in flight (it waits for the lock like them).
        const other = get(capped, '/v1/orgs/org-b/recruitment-summary', b1);
        await vi.waitFor(async () => expect(await lock.waiting()).toBe(held + 1), { timeout: 10_000, interval: 50 });
        await lock.release();
        expect([(await first).status, (await second).status, (await other).status]).toEqual([200, 200, 200]);
      } catch (err) {
        await lock.release().catch(() => undefined);
        throw err;
      }
      // Answered requests free their places.
      expect((await get(capped, '/v1/orgs/org-a/recruitment-summary', a1)).status).toBe(200);
      expect((await get(capped, '/v1/orgs/org-a/recruitment-summary', a3)).status).toBe(200);
    } finally {
      await capped.close();
    }
  }, 60_000);
});

describe('requests in flight are capped for the whole process', () => {
  it('beyond the cap a request is a 503 with Retry-After whoever asks, and is served once the others are answered', async () => {
    const capped = await startQueryApp(env, { config: { fairUse: { requestsPerMinute: 1_000_000, inFlightPerIdentity: 10, inFlightPerOrg: 10, inFlightTotal: 2 }, http: { ...env.config.http, statementTimeoutMs: 20_000 } } });
    try {
      const [a1, b1, c1] = await Promise.all([capped.token('org_admin', 'admin-a1', 'org-a'), capped.token('org_admin', 'admin-b1', 'org-b'), capped.token('platform_admin', 'root')]);
      const lock = await holdOrgSettings(q.pool);
      let waiting: Promise<Awaited<ReturnType<typeof get>>>[] = [];
      try {
        waiting = [get(capped, '/v1/orgs/org-a/recruitment-summary', a1), get(capped, '/v1/orgs/org-b/recruitment-summary', b1)];
        await vi.waitFor(async () => expect(await lock.waiting()).toBe(2), { timeout: 10_000, interval: 50 });
        // Two in flight, from two organizations, each far below its own caps: a third caller is refused.
        const refused = await get(capped, '/v1/platform/growth?from=2026-01-01&to=2026-03-31&granularity=month', c1);
        expect([refused.status, refused.code, refused.retryAfter]).toEqual([503, 'overloaded', '1']);
        await lock.release();
        expect((await Promise.all(waiting)).map((r) => r.status)).toEqual([200, 200]);
      } catch (err) {
        await lock.release().catch(() => undefined);
        throw err;
      }
      expect((await get(capped, '/v1/platform/growth?from=2026-01-01&to=2026-03-31&granularity=month', c1)).status).toBe(200);
      const metrics = (await capped.app.inject('/metrics')).body;
      expect(metrics).toMatch(/http_fair_use_refusals_total\{reason="overloaded"\} 1/);
    } finally {
      await capped.close();
    }
  }, 60_000);
});

describe('readiness is computed at most once a second', () => {
  it('two calls within a second check the dependencies once', async () => {
    const spy = vi.spyOn(q.pool, 'query');
    try {
      const answers = [await q.app.inject('/readyz'), await q.app.inject('/readyz')];
      expect(answers.map((r) => [r.statusCode, r.json()])).toEqual([[200, { status: 'ready' }], [200, { status: 'ready' }]]);
      expect(spy.mock.calls.filter((c) => c[0] === 'select 1')).toHaveLength(1);
    } finally {
      spy.mockRestore();
    }
  });
});

describe("another organization's requests hold while one identity floods", () => {
  it('an org admin flooding ten-year weekly summaries gets 429s; every request of another organization is answered 200', async () => {
    // Ten years of daily rows for 100 mentors of org-a: a ten-year summary reads a million rows' worth of work.
    // Through the test's own connection: the app's pool has the service's statement timeout.
    await env.db.raw(`
      insert into funnel_daily (org_id, mentor_id, campaign_id, day, clicks, unique_clicks, installs, registrations, activations)
      select 'org-a', 'flood-m' || m, 'spring', d::date, 3, 2, 1, 1, 0
      from generate_series(1, 100) m, generate_series(date '2016-01-01', date '2025-12-31', interval '1 day') d
      on conflict do nothing`);
    const app = await startQueryApp(env, { rateLimitPerMinute: 1_200, config: { fairUse: { requestsPerMinute: 1_200, inFlightPerIdentity: 2, inFlightPerOrg: 3, inFlightTotal: 1_000 } } });
    try {
      const flooder = await app.token('org_admin', 'admin-flood', 'org-a');
      const other = await app.token('org_admin', 'admin-b', 'org-b');
      const flood = Promise.all(Array.from({ length: 120 }, () => get(app, '/v1/orgs/org-a/recruitment-summary?from=2016-01-01&to=2025-12-31&granularity=week', flooder)));
      const others: Awaited<ReturnType<typeof get>>[] = [];
      for (let i = 0; i < 20; i++) others.push(await get(app, '/v1/orgs/org-b/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=day', other));
      const flooded = await flood;
      const tally = (rs: { status: number; code?: string | undefined }[]) => rs.reduce<Record<string, number>>((t, r) => ({ ...t, [`${r.status}${r.code ? ` ${r.code}` : ''}`]: (t[`${r.status}${r.code ? ` ${r.code}` : ''}`] ?? 0) + 1 }), {});
      const p = (rs: { ms: number }[], k: number) => Math.round([...rs].sort((x, y) => x.ms - y.ms)[Math.min(rs.length - 1, Math.floor(k * rs.length))]?.ms ?? 0);
      console.log(`flooder: ${JSON.stringify(tally(flooded))}; other org: ${JSON.stringify(tally(others))}, p50 ${p(others, 0.5)} ms, p99 ${p(others, 0.99)} ms`);
      expect(others.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(flooded.filter((r) => r.status === 429).length).toBeGreaterThan(0);
      expect(flooded.filter((r) => r.status >= 500)).toEqual([]);
    } finally {
      await app.close();
      await q.pool.query("delete from funnel_daily where mentor_id like 'flood-m%'");
    }
  }, 120_000);
});
