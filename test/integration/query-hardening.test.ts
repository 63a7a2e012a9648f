import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT } from 'jose';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { loadQueryFixture } from '../support/query-fixture.js';
import { startTcpProxy } from '../support/tcp-proxy.js';

/**
 * The holes an attacker or a careless client finds first (issue "Query service hardening"),
 * each through app.inject() against the real Postgres and Redis of the local stack.
 */
let env: TestEnv;
let q: QueryApp;
let limited: QueryApp;
let admin: string;

beforeAll(async () => {
  env = await createTestEnv('query_hardening');
  q = await startQueryApp(env);
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
  limited = await startQueryApp(env, { rateLimitPerMinute: 5 });
  admin = await q.token('org_admin', 'admin-a', 'org-a');
});

afterAll(async () => {
  await limited?.close();
  await q?.close();
  await env?.close();
});

const get = async (app: QueryApp, url: string, token: string | null = admin, remoteAddress = '127.0.0.1') => {
  const res = await app.app.inject({ method: 'GET', url, remoteAddress, headers: token === null ? {} : { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json() as { error?: { code: string; message: string } }, headers: res.headers };
};

describe('1. the rate limit counts what is routed, per identity', () => {
  it('a percent-encoded path is routed and counted like the plain one', async () => {
    const token = await q.token('org_admin', 'admin-encoded', 'org-a');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await get(limited, '/%76%31/mentors/m-a1/referral-stats', token)).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
    expect((await get(limited, '/v1/mentors/m-a1/referral-stats', token)).status).toBe(429);
  });

  it('failed authentications count, per client address', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(limited, '/v1/orgs/org-a/referrals', `not.a.token${i}`, '203.0.113.50')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    // Another address still gets its answer.
    expect((await get(limited, '/v1/orgs/org-a/referrals', 'not.a.token', '203.0.113.51')).status).toBe(401);
  });

  it('one token is one bucket, however its signature is spelled', async () => {
    const token = await q.token('org_admin', 'admin-spelled', 'org-a');
    const [head, body, sig] = token.split('.') as [string, string, string];
    // A 32-byte HS256 signature leaves two spare bits in its last base64url character: four spellings verify.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1) as string) & ~3;
    const spellings = [0, 1, 2, 3].map((k) => `${head}.${body}.${sig.slice(0, -1)}${alphabet[last + k]}`);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await get(limited, '/v1/orgs/org-a/referrals', spellings[i % 4] as string, '203.0.113.60')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('a HEAD costs what its GET costs: the answer is computed either way', async () => {
    // 93 days cost three units of the five a minute: once, then refused, by GET and by HEAD alike.
    const url = '/v1/orgs/org-a/recruitment-summary?from=2026-01-01&to=2026-04-03&granularity=month';
    const statuses = async (method: 'GET' | 'HEAD', who: string) => {
      const token = await q.token('org_admin', who, 'org-a');
      const out: number[] = [];
      for (let i = 0; i < 2; i++) out.push((await limited.app.inject({ method, url, headers: { authorization: `Bearer ${token}` } })).statusCode);
      return out;
    };
    expect(await statuses('GET', 'admin-get')).toEqual([200, 429]);
    expect(await statuses('HEAD', 'admin-head')).toEqual([200, 429]);
    // A year however it is spelled is read as that year, and costs a year (12 units, more than the window: one a minute).
    expect((await get(q, '/v1/mentors/m-a1/annual-summary?year=2.026e3', await q.token('org_admin', 'admin-year', 'org-a'))).status).toBe(200);
    const spelled = await q.token('org_admin', 'admin-spelled-year', 'org-a');
    const years: number[] = [];
    for (const year of ['2.026e3', '2026.0']) years.push((await get(limited, `/v1/mentors/m-a1/annual-summary?year=${year}`, spelled)).status);
    expect(years).toEqual([200, 429]);
  });
});

describe('1b. a CSV export of a list costs the pages it may read', () => {
  it('50 units (10,000 rows, 200 a page), where a JSON page costs 1', async () => {
    const app = await startQueryApp(env, { rateLimitPerMinute: 120 });
    try {
      const token = await app.token('org_admin', 'admin-csv', 'org-a');
      const remaining: string[] = [];
      const statuses: number[] = [];
      for (const url of ['/v1/orgs/org-a/referrals?format=csv', '/v1/orgs/org-a/referrals', '/v1/orgs/org-a/referrals?format=csv', '/v1/orgs/org-a/referrals?format=csv']) {
        const res = await app.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
        statuses.push(res.statusCode);
        remaining.push(String(res.headers['x-ratelimit-remaining']));
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
      expect(remaining).toEqual(['70', '69', '19', '0']);
    } finally {
      await app.close();
    }
  });
});

describe('2. tokens must expire', () => {
  it('a token without exp is refused', async () => {
    const forever = await new SignJWT({ role: 'org_admin', org: 'org-a' }).setProtectedHeader({ alg: 'HS256' }).setSubject('admin-a').setIssuedAt().sign(new TextEncoder().encode(env.config.auth.jwtSecret));
    expect((await get(q, '/v1/orgs/org-a/referrals', forever)).status).toBe(401);
  });
});

describe('3. a Redis outage costs no latency, and lifts no limit', () => {
  it('with Redis down every request is answered at once, and the limit holds in the process', async () => {
    const down = await startQueryApp(env, { rateLimitPerMinute: 2, config: { redisUrl: 'redis://127.0.0.1:1' } });
    try {
      const statuses: number[] = [];
      // Before the first fix each of these took 9-13 s: the test's own timeout below catches a stall.
      // Before issue 20 all eight were 200: the limit was skipped while Redis was away.
      for (let i = 0; i < 8; i++) statuses.push((await get(down, '/v1/mentors/m-a1/referral-stats')).status);
      expect(statuses).toEqual([200, 200, 429, 429, 429, 429, 429, 429]);
    } finally {
      await down.close();
    }
  }, 20_000);
});

describe('4. service tokens write only what they are bound to', () => {
  const post = async (token: string, url: string, payload: object) => {
    const res = await q.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload });
    return { status: res.statusCode, body: res.json() as { error?: { code: string; message: string } } };
  };
  const now = () => new Date(Date.now() - 60_000).toISOString();
  const registration = (extra: object = {}) => ({ eventId: `evt-${Math.random()}`, userId: 'u-svc', orgId: 'org-a', occurredAt: now(), ...extra });
  const click = (extra: object = {}) => ({ eventId: `evt-${Math.random()}`, linkId: 'l-a1', occurredAt: now(), visitor: {}, ...extra });

  it('a token of one organization cannot write another organization\'s events, nor claim its mentors\' links', async () => {
    const orgA = await q.token('service', 'svc-a', 'org-a');
    expect((await post(orgA, '/v1/events/registrations', registration())).status).toBe(202);
    expect((await post(orgA, '/v1/events/registrations', registration({ orgId: 'org-b' }))).status).toBe(403);
    expect((await post(orgA, '/v1/events/registrations', registration({ orgId: 'org-b', linkId: 'l-b1' }))).status).toBe(403);
    expect((await post(orgA, '/v1/events/registrations', registration({ linkId: 'l-b1' }))).status).toBe(409); // org-b's mentor
    expect((await post(orgA, '/v1/events/invite-clicks', click())).status).toBe(202);
    expect((await post(orgA, '/v1/events/invite-clicks', click({ linkId: 'l-b1' }))).status).toBe(409);
    const unbound = await q.token('service', 'svc-none');
    expect((await post(unbound, '/v1/events/registrations', registration())).status).toBe(403);
    const both = await q.token('service', 'svc-ab', null, ['org-a', 'org-b']);
    expect((await post(both, '/v1/events/registrations', registration({ orgId: 'org-b' }))).status).toBe(202);
    const every = await q.token('service', 'svc-all', null, ['*']);
    expect((await post(every, '/v1/events/invite-clicks', click({ linkId: 'l-b1' }))).status).toBe(202);
  });

  it('an org-bound token naming a link it cannot place in its organizations is a 409 naming linkId, to retry once the link is published', async () => {
    const orgA = await q.token('service', 'svc-a', null, ['org-a']);
    const every = await q.token('service', 'svc-all', null, ['*']);
    const cases: [string, string, object, number][] = [
      // A link of org A: placed.
      ['org-a token, org-a link, click', orgA, click({ linkId: 'l-a1', visitor: { deviceId: null, platform: null } }), 202],
      ['org-a token, org-a link, registration', orgA, registration({ linkId: 'l-a2' }), 202],
      // A link of org B, or no link published yet: refused until it is.
      ['org-a token, org-b link, click', orgA, click({ linkId: 'l-b1' }), 409],
      ['org-a token, org-b link, registration', orgA, registration({ linkId: 'l-bx' }), 409],
      ['org-a token, unknown link, click', orgA, click({ linkId: 'l-not-yet' }), 409],
      ['org-a token, unknown link, registration', orgA, registration({ linkId: 'l-not-yet' }), 409],
      // No link named (null, as SPEC §3's optional fields may be): nothing to place.
      ['org-a token, registration without link', orgA, registration({ linkId: null, deviceId: null }), 202],
      // A registration of another organization stays forbidden, whatever its link.
      ['org-a token, org-b registration', orgA, registration({ orgId: 'org-b' }), 403],
      ['org-a token, org-b registration with org-a link', orgA, registration({ orgId: 'org-b', linkId: 'l-a1' }), 403],
      // `*` tokens are not checked.
      ['* token, org-b link, click', every, click({ linkId: 'l-b1' }), 202],
      ['* token, unknown link, registration', every, registration({ linkId: 'l-not-yet' }), 202],
    ];
    for (const [name, token, body, status] of cases) {
      const res = await post(token, name.includes('click') ? '/v1/events/invite-clicks' : '/v1/events/registrations', body);
      expect([name, res.status]).toEqual([name, status]);
      if (status === 409) {
        expect(res.body).toEqual({ error: { code: 'link_not_placed', message: expect.stringMatching(/^linkId: l-\S+ is not a published link of this token's organizations \(org-a\); retry once the link is published$/) } });
      }
    }
    // Once the link is published in org A, the same click is accepted.
    await q.pool.query("insert into invite_links (link_id, org_id, mentor_id, created_at) values ('l-not-yet', 'org-a', 'm-a3', now())");
    expect((await post(orgA, '/v1/events/invite-clicks', click({ linkId: 'l-not-yet' }))).status).toBe(202);
    // The OpenAPI document says so.
    const doc = (await q.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, { post: { responses: Record<string, unknown> } }> };
    for (const path of ['/v1/events/invite-clicks', '/v1/events/registrations']) {
      expect([path, doc.paths[path]?.post.responses['409']]).toEqual([path, {
        description: "linkId names no link published in one of the token's organizations (yet): retry once the link is published",
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      }]);
    }
  });

  it("an org-A producer can no longer post a registration naming an org-B link (issue 19, finding 3): refused, and nothing is published", async () => {
    // B's recruit u-b1 registered through l-b1; org A's producer names the same user and org B's link, 70 hours back.
    const orgA = await q.token('service', 'svc-a', null, ['org-a']);
    const occurredAt = new Date(Date.now() - 70 * 3_600_000).toISOString();
    const admin = env.kafka.admin();
    await admin.connect();
    try {
      // Records on the registrations topic: the refused registration adds none, an accepted one adds one.
      const published = async () => (await admin.fetchTopicOffsets(env.topics.userRegistered)).reduce((n, p) => n + Number(p.high), 0);
      const before = await published();
      const res = await post(orgA, '/v1/events/registrations', { eventId: 'evt-issue-19-3', userId: 'u-b1', orgId: 'org-a', linkId: 'l-b1', occurredAt });
      expect(res).toEqual({ status: 409, body: { error: { code: 'link_not_placed', message: "linkId: l-b1 is not a published link of this token's organizations (org-a); retry once the link is published" } } });
      expect(await published()).toBe(before);
      expect((await post(orgA, '/v1/events/registrations', { eventId: 'evt-issue-19-3b', userId: 'u-b1', orgId: 'org-a', linkId: 'l-a1', occurredAt })).status).toBe(202);
      expect(await published()).toBe(before + 1);
    } finally {
      await admin.disconnect();
    }
  });

  it('an event time far from now is a 400 naming occurredAt', async () => {
    const token = await q.token('service', 'svc-a', 'org-a');
    for (const occurredAt of ['2000-01-02T00:00:00Z', new Date(Date.now() - 73 * 3_600_000).toISOString(), new Date(Date.now() + 3_600_000).toISOString()]) {
      const res = await post(token, '/v1/events/registrations', registration({ occurredAt }));
      expect(res.status).toBe(400);
      expect(res.body.error?.message).toMatch(/^occurredAt/);
    }
  });

  it('whitespace-only ids are refused at the door, not dead-lettered later', async () => {
    const token = await q.token('service', 'svc-a', 'org-a');
    const blankUser = await post(token, '/v1/events/registrations', registration({ userId: '   ' }));
    expect(blankUser.status).toBe(400);
    expect(blankUser.body.error?.message).toMatch(/^userId/);
    const blankEvent = await post(token, '/v1/events/invite-clicks', click({ eventId: '\t' }));
    expect(blankEvent.status).toBe(400);
    expect(blankEvent.body.error?.message).toMatch(/^eventId/);
  });
});

describe('5. a request cannot hold the database', () => {
  it('a query that runs past the statement timeout is a 503 with Retry-After', async () => {
    const quick = await startQueryApp(env, { config: { http: { ...env.config.http, statementTimeoutMs: 200 } } });
    const blocker = await q.pool.connect();
    try {
      await blocker.query('begin');
      await blocker.query('lock table funnel_daily in access exclusive mode');
      const res = await get(quick, '/v1/orgs/org-a/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=day');
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.body.error?.code).toBe('unavailable');
    } finally {
      await blocker.query('rollback');
      blocker.release();
      await quick.close();
    }
  });
});

describe('5. a Postgres gone silent', () => {
  it('answers 503 soon after the statement timeout, and answers again once Postgres is back', async () => {
    const url = new URL(env.config.databaseUrl);
    const proxy = await startTcpProxy({ host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    const behind = await startQueryApp(env, { databaseUrl: url.toString(), config: { http: { ...env.config.http, statementTimeoutMs: 300 } } });
    try {
      const conversion = '/v1/conversions/u-a1';
      expect((await get(behind, conversion)).status).toBe(200);
      // No reset, no close: the connections stay open and nothing comes back.
      proxy.stall();
      // Without the client-side timeout the request waits for TCP to give up (about a quarter of an hour): null here.
      const silent = await Promise.race([get(behind, conversion), new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
      expect(silent && [silent.status, silent.body.error?.code]).toEqual([503, 'unavailable']);
      proxy.restore();
      await eventually(async () => ((await get(behind, conversion)).status === 200 ? true : undefined), 15_000, 'answers again');
    } finally {
      await behind.close();
      await proxy.close();
    }
  }, 60_000);
});

describe('5. platform growth is paged', () => {
  it('a page of organizations at a time, by id, with a cursor to the next', async () => {
    const root = await q.token('platform_admin', 'root');
    const first = await get(q, '/v1/platform/growth?from=2026-03-01&to=2026-03-31&granularity=month&limit=1', root);
    expect(first.status).toBe(200);
    const page1 = first.body as unknown as { organizations: { orgId: string; totals: { clicks: number } }[]; nextCursor: string };
    expect(page1.organizations.map((o) => [o.orgId, o.totals.clicks])).toEqual([['org-a', 14]]);
    const second = (await get(q, `/v1/platform/growth?from=2026-03-01&to=2026-03-31&granularity=month&limit=1&cursor=${page1.nextCursor}`, root)).body as unknown as typeof page1;
    expect(second.organizations.map((o) => [o.orgId, o.totals.clicks])).toEqual([['org-b', 12]]);
    expect(second.nextCursor).toBeNull();
    expect((await get(q, '/v1/platform/growth?limit=500', root)).status).toBe(400);
  });

  it('a page holds at most 10,000 rows, however long its series: a daily series of two years takes 13 organizations a page', async () => {
    // 32 organizations; at `limit` 200 a page was all of them, 23,000 points (a few hundred organizations ran the service out of memory).
    await q.pool.query("insert into org_settings (org_id, timezone) select 'org-many-' || lpad(i::text, 2, '0'), 'UTC' from generate_series(1, 30) i");
    const root = await q.token('platform_admin', 'root');
    const pages: { organizations: { orgId: string; series: unknown[] }[]; nextCursor: string | null }[] = [];
    for (let cursor: string | null = ''; cursor !== null && pages.length < 5; ) {
      const res = await get(q, `/v1/platform/growth?from=2024-12-01&to=2026-11-30&granularity=day&limit=200${cursor ? `&cursor=${cursor}` : ''}`, root);
      expect(res.status).toBe(200);
      const page = res.body as unknown as (typeof pages)[number];
      pages.push(page);
      cursor = page.nextCursor;
    }
    expect(pages.map((p) => p.organizations.length)).toEqual([13, 13, 6]);
    expect(new Set(pages.flatMap((p) => p.organizations.map((o) => o.orgId))).size).toBe(32);
    expect(pages.flatMap((p) => p.organizations).every((o) => o.series.length === 730)).toBe(true);
    // A monthly series of a year still fills the page the caller asked for.
    const monthly = (await get(q, '/v1/platform/growth?from=2025-12-01&to=2026-11-30&granularity=month&limit=200', root)).body as unknown as (typeof pages)[number];
    expect(monthly.organizations).toHaveLength(32);
    expect(monthly.nextCursor).toBeNull();
  });
});

describe('6. forged cursors', () => {
  it('a well-formed cursor holding an impossible date is a 400 naming the cursor', async () => {
    const cursor = Buffer.from(JSON.stringify(['2026-02-30T10:00:00.000Z', 'r-a1'])).toString('base64url');
    const res = await get(q, `/v1/orgs/org-a/referrals?cursor=${cursor}`);
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/^cursor/);
  });
});

describe('dashboard developers: errors and documents that say enough', () => {
  it('a value outside an enumeration is a 400 that names the allowed values', async () => {
    const res = await get(q, '/v1/mentors/m-a1/referral-stats?granularity=hour');
    expect(res.body.error?.message).toBe('granularity: must be one of day, week, month, year');
    expect((await get(q, '/v1/coordinators/coord-a/mentor-performance?sort=clicks')).body.error?.message).toBe('sort: must be one of registrations, activations, clickToRegistration');
  });

  it('a range too long names the parameter the caller sent: from, when to was left to default to today', async () => {
    const res = await get(q, '/v1/orgs/org-a/recruitment-summary?from=2020-01-01&granularity=day');
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toMatch(/^from: the range 2020-01-01\.\.\d{4}-\d{2}-\d{2} spans \d+ days; at most 731 are allowed for a daily series$/);
    expect((await get(q, '/v1/orgs/org-a/recruitment-summary?from=2020-01-01&to=2026-01-01&granularity=day')).body.error?.message).toMatch(/^to: /);
  });

  it('the OpenAPI document lists every status a route can answer', async () => {
    const doc = (await q.app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const [method, op] of Object.entries(methods)) expect([path, method, Object.keys(op.responses).sort()]).toEqual([path, method, expect.arrayContaining(['400', '401', '403', '404', '429', '503'])]);
    }
  });

  it('scoped answers are private to the caller, carry an ETag, and a repeat with it is a 304', async () => {
    const first = await get(q, '/v1/mentors/m-a1/referral-stats?from=2026-03-01&to=2026-03-31');
    expect(first.headers['cache-control']).toBe('private, no-cache');
    const tag = first.headers.etag as string;
    expect(tag).toMatch(/^"/);
    const again = await q.app.inject({ method: 'GET', url: '/v1/mentors/m-a1/referral-stats?from=2026-03-01&to=2026-03-31', headers: { authorization: `Bearer ${admin}`, 'if-none-match': tag } });
    expect([again.statusCode, again.body]).toEqual([304, '']);
  });

  it('CORS: no origin is allowed by default; CORS_ORIGINS opens the API to those, preflight answered', async () => {
    const preflight = (app: QueryApp, origin: string) =>
      app.app.inject({ method: 'OPTIONS', url: '/v1/orgs/org-a/referrals', headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } });
    expect((await preflight(q, 'https://dashboard.example.org')).headers['access-control-allow-origin']).toBeUndefined();
    const open = await startQueryApp(env, { config: { http: { ...env.config.http, corsOrigins: ['https://dashboard.example.org'] } } });
    try {
      const ok = await preflight(open, 'https://dashboard.example.org');
      expect(ok.statusCode).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe('https://dashboard.example.org');
      expect(String(ok.headers['access-control-allow-headers'])).toContain('authorization');
      expect((await preflight(open, 'https://evil.example.net')).headers['access-control-allow-origin']).toBeUndefined();
      const read = await open.app.inject({ method: 'GET', url: '/v1/orgs/org-a/referrals', headers: { origin: 'https://dashboard.example.org', authorization: `Bearer ${admin}` } });
      expect([read.statusCode, read.headers['access-control-allow-origin']]).toEqual([200, 'https://dashboard.example.org']);
    } finally {
      await open.close();
    }
  });

  it('every ranged answer says which dates and timezone it used, and marks a period the range cuts into', async () => {
    const weeks = (await get(q, '/v1/mentors/m-a1/referral-stats?from=2026-03-04&to=2026-03-31&granularity=week')).body as unknown as { series: { periodStart: string; partial?: true }[] };
    expect(weeks.series.map((p) => [p.periodStart, p.partial ?? false])).toEqual([
      ['2026-03-02', true], ['2026-03-09', false], ['2026-03-16', false], ['2026-03-23', false], ['2026-03-30', true],
    ]);
    const perf = await get(q, '/v1/coordinators/coord-a/mentor-performance?from=2026-03-01&to=2026-03-31');
    expect(perf.body).toMatchObject({ coordinatorId: 'coord-a', from: '2026-03-01', to: '2026-03-31', timezone: 'Europe/Oslo' });
    const months = (await get(q, '/v1/orgs/org-b/recruitment-summary?from=2026-03-15&to=2026-04-30&granularity=month', await q.token('org_admin', 'admin-b', 'org-b'))).body as unknown as { timezone: string; series: { periodStart: string; partial?: true }[] };
    expect(months.timezone).toBe('America/New_York');
    expect(months.series.map((p) => [p.periodStart, p.partial ?? false])).toEqual([['2026-03-01', true], ['2026-04-01', false]]);
  });

  it('the OpenAPI document names its shapes as components, so generated clients get real types', async () => {
    const doc = (await q.app.inject({ method: 'GET', url: '/openapi.json' })).json() as {
      components: { schemas: Record<string, unknown> };
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>>;
    };
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining([
      'FunnelTotals', 'Conversion', 'SeriesPoint', 'RecruitProfile', 'OrgRecruitProfile', 'MentorReferralStats', 'MentorPerformance',
      'MentorPerformanceSummary', 'OrgRecruitmentSummary', 'PlatformGrowth', 'AnnualSummary', 'ConversionRecord', 'RecruitPage', 'Error', 'Accepted',
    ]));
    const stats = doc.paths['/v1/mentors/{mentorId}/referral-stats']?.get?.responses['200']?.content?.['application/json']?.schema;
    expect(stats).toEqual({ $ref: '#/components/schemas/MentorReferralStats' });
    // A value that may be null is said as OpenAPI 3.0 says it (an answer's fields are written directly, not checked against a union).
    expect((doc.components.schemas.RecruitProfile as { properties: Record<string, unknown> }).properties.activatedAt).toEqual({ type: 'string', format: 'date-time', nullable: true });
    expect(JSON.stringify(doc.components.schemas.MentorReferralStats)).toContain('#/components/schemas/FunnelTotals');
  });
});

