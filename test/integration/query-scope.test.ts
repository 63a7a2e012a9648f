import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { FIXTURE, loadQueryFixture } from '../support/query-fixture.js';
import type { TokenRole } from '../../libs/auth/tokens.js';

/**
 * Every role against every route: the allowed case and the denied case, with the status the
 * caller gets. Denials by role are 403; ids outside the caller's scope are 404, the same as
 * ids that do not exist, so nothing outside is revealed.
 */
let env: TestEnv;
let q: QueryApp;

const range = 'from=2026-03-01&to=2026-03-31';
const R = {
  stats: (m: string) => `GET /v1/mentors/${m}/referral-stats?${range}`,
  recruits: (m: string) => `GET /v1/mentors/${m}/recruits`,
  annual: (m: string) => `GET /v1/mentors/${m}/annual-summary?year=2026`,
  performance: (c: string) => `GET /v1/coordinators/${c}/mentor-performance?${range}`,
  scopeSummary: (c: string) => `GET /v1/coordinators/${c}/recruitment-summary?${range}`,
  summary: (o: string) => `GET /v1/orgs/${o}/recruitment-summary?${range}`,
  referrals: (o: string) => `GET /v1/orgs/${o}/referrals`,
  scopeReferrals: (c: string) => `GET /v1/coordinators/${c}/referrals?stuckDays=7`,
  growth: () => `GET /v1/platform/growth?${range}`,
  conversion: (u: string) => `GET /v1/conversions/${u}`,
  clicks: () => 'POST /v1/events/invite-clicks',
  registrations: () => 'POST /v1/events/registrations',
};

const bodies: Record<string, object> = {
  '/v1/events/invite-clicks': { eventId: 'evt-scope-1', linkId: 'l-a1', occurredAt: new Date(Date.now() - 60_000).toISOString(), visitor: {} },
  '/v1/events/registrations': { eventId: 'evt-scope-2', userId: 'u-x', orgId: 'org-a', occurredAt: new Date(Date.now() - 60_000).toISOString() },
};

async function call(route: string, token: string | null) {
  const [method, url] = route.split(' ') as ['GET' | 'POST', string];
  const res = await q.app.inject({
    method,
    url,
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(method === 'POST' ? { payload: bodies[url] } : {}),
  });
  return { status: res.statusCode, body: res.json() };
}

type Case = [route: string, status: number];
const CALLERS: { role: TokenRole; sub: string; org: string | null; allowed: Case[]; denied: Case[] }[] = [
  {
    role: 'mentor', sub: 'm-a1', org: 'org-a',
    allowed: [[R.stats('m-a1'), 200], [R.recruits('m-a1'), 200], [R.annual('m-a1'), 200], [R.conversion('u-a1'), 200]],
    denied: [
      [R.stats('m-a2'), 404], [R.recruits('m-b1'), 404], [R.annual('m-a2'), 404], [R.performance('coord-a'), 403], [R.scopeSummary('coord-a'), 403], [R.summary('org-a'), 403],
      [R.referrals('org-a'), 403], [R.growth(), 403], [R.conversion('u-a4'), 404], [R.clicks(), 403], [R.registrations(), 403], [R.scopeReferrals('coord-a'), 403],
    ],
  },
  {
    role: 'coordinator', sub: 'coord-a', org: 'org-a',
    allowed: [[R.stats('m-a2'), 200], [R.recruits('m-a1'), 200], [R.annual('m-a2'), 200], [R.performance('coord-a'), 200], [R.scopeSummary('coord-a'), 200], [R.conversion('u-a4'), 200], [R.scopeReferrals('coord-a'), 200]],
    denied: [
      [R.stats('m-a3'), 404], [R.recruits('m-b1'), 404], [R.annual('m-a3'), 404], [R.performance('coord-b'), 404], [R.scopeSummary('coord-b'), 404], [R.scopeSummary('coord-x'), 404], [R.summary('org-a'), 403],
      [R.referrals('org-a'), 403], [R.growth(), 403], [R.conversion('u-b1'), 404], [R.clicks(), 403], [R.registrations(), 403],
      [R.scopeReferrals('coord-b'), 404], [R.scopeReferrals('coord-x'), 404],
    ],
  },
  {
    role: 'org_admin', sub: 'admin-a', org: 'org-a',
    allowed: [
      [R.stats('m-a3'), 200], [R.recruits('m-a2'), 200], [R.annual('m-a1'), 200], [R.performance('coord-a'), 200], [R.scopeSummary('coord-x'), 200], [R.summary('org-a'), 200],
      [R.referrals('org-a'), 200], [R.conversion('u-a3'), 200], [R.scopeReferrals('coord-x'), 200], [R.scopeReferrals('coord-a'), 200],
    ],
    denied: [
      [R.stats('m-b1'), 404], [R.recruits('m-b1'), 404], [R.annual('m-b1'), 404], [R.performance('coord-b'), 404], [R.scopeSummary('coord-b'), 404], [R.summary('org-b'), 404],
      [R.referrals('org-b'), 404], [R.growth(), 403], [R.conversion('u-b1'), 404], [R.clicks(), 403], [R.registrations(), 403], [R.scopeReferrals('coord-b'), 404],
    ],
  },
  {
    role: 'platform_admin', sub: 'root', org: null,
    allowed: [
      [R.stats('m-b1'), 200], [R.recruits('m-a1'), 200], [R.annual('m-b1'), 200], [R.performance('coord-b'), 200], [R.scopeSummary('coord-b'), 200], [R.summary('org-b'), 200],
      [R.referrals('org-a'), 200], [R.growth(), 200], [R.conversion('u-b1'), 200], [R.scopeReferrals('coord-b'), 200],
    ],
    denied: [[R.clicks(), 403], [R.registrations(), 403], [R.stats('nobody'), 404], [R.performance('nobody'), 404], [R.scopeSummary('nobody'), 404], [R.scopeReferrals('nobody'), 404]],
  },
  {
    role: 'service', sub: 'redirector', org: 'org-a',
    allowed: [[R.clicks(), 202], [R.registrations(), 202]],
    denied: [
      [R.stats('m-a1'), 403], [R.recruits('m-a1'), 403], [R.annual('m-a1'), 403], [R.performance('coord-a'), 403], [R.scopeSummary('coord-a'), 403], [R.summary('org-a'), 403],
      [R.referrals('org-a'), 403], [R.growth(), 403], [R.conversion('u-a1'), 403], [R.scopeReferrals('coord-a'), 403],
    ],
  },
];

beforeAll(async () => {
  env = await createTestEnv('query_scope');
  q = await startQueryApp(env);
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
});

afterAll(async () => {
  await q?.close();
  await env?.close();
});

describe('scope: every role against every route', () => {
  for (const caller of CALLERS) {
    it(`${caller.role}: allowed routes answer, denied routes refuse without data`, async () => {
      const token = await q.token(caller.role, caller.sub, caller.org);
      for (const [route, status] of caller.allowed) expect([route, (await call(route, token)).status]).toEqual([route, status]);
      for (const [route, status] of caller.denied) {
        const res = await call(route, token);
        expect([route, res.status]).toEqual([route, status]);
        expect(Object.keys(res.body)).toEqual(['error']);
        expect(res.body.error.code).toBe(status === 403 ? 'forbidden' : 'not_found');
      }
    });
  }

  /** The CSV of every list and summary route: the same status for every caller, an error still JSON, a success CSV (csv-reply.ts). */
  for (const caller of CALLERS) {
    it(`${caller.role}: CSV answers within the same scope, by format=csv and by Accept: text/csv`, async () => {
      const token = await q.token(caller.role, caller.sub, caller.org);
      const reads = [...caller.allowed, ...caller.denied].filter(([route]) => route.startsWith('GET ') && !route.includes('/conversions/'));
      for (const [route, status] of reads) {
        const [, url] = route.split(' ') as [string, string];
        const asked = [
          { url: `${url}${url.includes('?') ? '&' : '?'}format=csv`, headers: {} },
          { url, headers: { accept: 'text/csv' } },
        ];
        for (const a of asked) {
          const res = await q.app.inject({ method: 'GET', url: a.url, headers: { authorization: `Bearer ${token}`, ...a.headers } });
          const type = res.headers['content-type'] as string;
          expect([a.url, a.headers, res.statusCode, type.split(';')[0]]).toEqual([a.url, a.headers, status, status === 200 ? 'text/csv' : 'application/json']);
          if (status !== 200) expect(res.json().error.code).toBe(status === 403 ? 'forbidden' : 'not_found');
        }
      }
    });
  }

  it('a coordinator cannot list another coordinator\'s recruits, nor reach past their scope with mentorId', async () => {
    const coordA = await q.token('coordinator', 'coord-a', 'org-a');
    const ids = async (url: string, token = coordA) => {
      const res = await call(`GET ${url}`, token);
      return [res.status, res.body.items?.map((i: { referralId: string }) => i.referralId) ?? res.body.error.code];
    };
    expect(await ids('/v1/coordinators/coord-a/referrals')).toEqual([200, ['r-a3', 'r-a6', 'r-a5', 'r-a4', 'r-a2', 'r-a1']]);
    expect(await ids('/v1/coordinators/coord-x/referrals')).toEqual([404, 'not_found']);
    expect(await ids('/v1/coordinators/coord-b/referrals?format=json')).toEqual([404, 'not_found']);
    // Mentors outside the scope, in the org or in another, find nothing.
    expect(await ids('/v1/coordinators/coord-a/referrals?mentorId=m-x')).toEqual([200, []]);
    expect(await ids('/v1/coordinators/coord-a/referrals?mentorId=m-b1')).toEqual([200, []]);
    // coord-x's scope wrongly lists org-b's m-b1: still only org-a's rows.
    const coordX = await q.token('coordinator', 'coord-x', 'org-a');
    expect(await ids('/v1/coordinators/coord-x/referrals', coordX)).toEqual([200, ['r-ax']]);
    expect(await ids('/v1/coordinators/coord-x/referrals?mentorId=m-b1', coordX)).toEqual([200, []]);
    // A coordinator's token naming another org sees nothing of the scope's org: there it is a coordinator without a scope yet (scopes are per organization).
    expect(await ids('/v1/coordinators/coord-a/referrals', await q.token('coordinator', 'coord-a', 'org-b'))).toEqual([200, []]);
  });

  it('every route needs a valid token: 401 otherwise', async () => {
    const secret = new TextEncoder().encode(env.config.auth.jwtSecret);
    const sign = (claims: Record<string, unknown>, alter: (j: SignJWT) => SignJWT = (j) => j, key = secret) =>
      alter(new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setSubject('m-a1').setIssuedAt()).sign(key);
    const bad = [
      null,
      'not-a-jwt',
      await sign({ role: 'mentor', org: 'org-a' }, (j) => j, new TextEncoder().encode('another-secret-of-sufficient-length')),
      await sign({ role: 'mentor', org: 'org-a' }, (j) => j.setExpirationTime(Math.floor(Date.now() / 1000) - 60)),
      await sign({ role: 'superuser', org: 'org-a' }),
      await sign({ role: 'mentor' }),
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"m-a1","role":"platform_admin"}').toString('base64url')}.`,
    ];
    for (const route of Object.values(R).map((r) => r('x'))) {
      for (const token of bad) {
        const res = await call(route, token);
        expect([route, token?.slice(0, 12), res.status, res.body.error?.code]).toEqual([route, token?.slice(0, 12), 401, 'unauthorized']);
      }
    }
  });

  it('a new coordinator scope applies once committed (as soon as its change notice reaches the service)', async () => {
    const token = await q.token('coordinator', 'coord-a', 'org-a');
    // The scope facts are kept between requests until a scope table changes (answer-cache.ts).
    const status = (mentor: string) => call(R.stats(mentor), token).then((r) => r.status);
    const becomes = (mentor: string, wanted: number) => eventually(async () => ((await status(mentor)) === wanted ? true : undefined), 10_000, `${mentor} to answer ${wanted}`, 10);
    expect(await status('m-a3')).toBe(404);
    expect(await status('m-a1')).toBe(200);
    await q.pool.query("update coordinator_scopes set mentor_ids = '{m-a3}' where coordinator_id = 'coord-a'");
    try {
      await becomes('m-a3', 200);
      expect(await status('m-a1')).toBe(404);
      const perf = await call(R.performance('coord-a'), token);
      expect(perf.body.items.map((i: { mentorId: string }) => i.mentorId)).toEqual(['m-a3']);
    } finally {
      await q.pool.query("update coordinator_scopes set mentor_ids = '{m-a1,m-a2}' where coordinator_id = 'coord-a'");
      await becomes('m-a1', 200);
    }
    expect(await status('m-a3')).toBe(404);
  });

  it('ids in the query string cannot widen the scope', async () => {
    const admin = await q.token('org_admin', 'admin-a', 'org-a');
    expect((await call(`GET /v1/orgs/org-a/referrals?mentorId=m-b1`, admin)).body).toEqual({ items: [], nextCursor: null });
    // A coordinator whose token names another org sees nothing of the scope's org: there it has no scope yet, and reads its own empty page.
    const crossed = await q.token('coordinator', 'coord-a', 'org-b');
    expect((await call(R.stats('m-a1'), crossed)).status).toBe(404);
    expect((await call(R.performance('coord-a'), crossed)).body).toMatchObject({ coordinatorId: 'coord-a', items: [] });
    expect((await call(R.scopeSummary('coord-a'), crossed)).body).toMatchObject({ totals: { clicks: 0, registrations: 0 } });
    expect((await call(`${R.performance('coord-a')}&orgId=org-a`, crossed)).status).toBe(404);
    // A mentor with no links yet reads their own (empty) numbers, in their token's org.
    const newcomer = await q.token('mentor', 'm-new', 'org-a');
    const own = await call(R.stats('m-new'), newcomer);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ mentorId: 'm-new', orgId: 'org-a', totals: { clicks: 0, registrations: 0 } });
  });

  it('a mentor id in two organizations: each caller reads the one of their own organization, a platform admin names one', async () => {
    const clicks = async (route: string, token: string) => {
      const res = await call(route, token);
      return [res.status, res.body.orgId ?? res.body.error?.code, res.body.totals?.clicks];
    };
    expect(await clicks(R.stats('m-x'), await q.token('org_admin', 'admin-a', 'org-a'))).toEqual([200, 'org-a', 2]);
    expect(await clicks(R.stats('m-x'), await q.token('org_admin', 'admin-b', 'org-b'))).toEqual([200, 'org-b', 7]);
    expect(await clicks(R.stats('m-x'), await q.token('mentor', 'm-x', 'org-a'))).toEqual([200, 'org-a', 2]);
    expect(await clicks(`${R.stats('m-x')}&orgId=org-b`, await q.token('mentor', 'm-x', 'org-a'))).toEqual([404, 'not_found', undefined]);
    const root = await q.token('platform_admin', 'root');
    const ambiguous = await call(R.stats('m-x'), root);
    expect([ambiguous.status, ambiguous.body.error?.message]).toEqual([400, expect.stringMatching(/^orgId: mentor m-x belongs to several organizations/)]);
    expect(await clicks(`${R.stats('m-x')}&orgId=org-b`, root)).toEqual([200, 'org-b', 7]);
    const recruits = await call(`${R.recruits('m-x')}?orgId=org-b`, root);
    expect(recruits.body.items.map((i: { userId: string }) => i.userId).sort()).toEqual(['u-bx1', 'u-bx2']);
    const own = await call(R.recruits('m-x'), await q.token('mentor', 'm-x', 'org-a'));
    expect(own.body.items.map((i: { userId: string }) => i.userId)).toEqual(['u-ax']);
  });

  it('a mentor of another organization listed in a coordinator scope stays out of reach', async () => {
    const coordX = await q.token('coordinator', 'coord-x', 'org-a');
    for (const route of [R.stats('m-b1'), R.recruits('m-b1'), R.annual('m-b1'), R.conversion('u-b1')]) expect([route, (await call(route, coordX)).status]).toEqual([route, 404]);
    // Their own mentors are there, with their own organization's numbers.
    expect((await call(R.stats('m-x'), coordX)).body.totals.clicks).toBe(2);
    const perf = await call(R.performance('coord-x'), coordX);
    expect(perf.body.items.map((i: { mentorId: string; totals: { clicks: number } }) => [i.mentorId, i.totals.clicks])).toEqual([['m-x', 2], ['m-a3', 1]]);
    // Names too: m-x's of org-a only, and m-b1's ("Beth Brown") in no answer of coord-x.
    expect(perf.body.items.map((i: { mentorId: string; mentorName: string | null }) => [i.mentorId, i.mentorName])).toEqual([['m-x', 'Xavier A'], ['m-a3', null]]);
    const answers = await Promise.all([R.performance('coord-x'), R.scopeSummary('coord-x'), R.stats('m-x'), R.annual('m-x'), R.stats('m-b1'), R.conversion('u-b1'), R.conversion('u-bx1')].map((r) => call(r, coordX)));
    const text = JSON.stringify(answers);
    expect(text).not.toContain('Beth Brown');
    expect(text).not.toContain('Xena B');
  });

  it('a name never reaches a caller who cannot read that mentor', async () => {
    const names = Object.values(FIXTURE.namesOf).filter((n): n is string => n !== null);
    const seen = async (token: string, routes: string[]) => {
      const text = JSON.stringify(await Promise.all(routes.map((r) => call(r, token))));
      return names.filter((n) => text.includes(n));
    };
    const every = (org: string) => [
      ...FIXTURE.mentorsOf[org]!.flatMap((m) => [R.stats(m), R.annual(m), R.recruits(m)]),
      ...Object.keys(FIXTURE.scopes).flatMap((c) => [R.performance(c), R.scopeSummary(c)]),
      R.summary('org-a'), R.summary('org-b'), R.referrals('org-a'), R.referrals('org-b'),
      ...Object.values(FIXTURE.recruitsOf).flat().map((u) => R.conversion(u)),
    ];
    const all = [...every('org-a'), ...every('org-b')];
    expect(await seen(await q.token('mentor', 'm-a1', 'org-a'), all)).toEqual(['Kari Nordmann']);
    expect(await seen(await q.token('coordinator', 'coord-a', 'org-a'), all)).toEqual(['Kari Nordmann', 'Ola Hansen']);
    expect(await seen(await q.token('org_admin', 'admin-a', 'org-a'), all)).toEqual(['Kari Nordmann', 'Ola Hansen', 'Xavier A']);
    expect(await seen(await q.token('org_admin', 'admin-b', 'org-b'), all)).toEqual(['Beth Brown', 'Xena B']);
  });

  it('an org admin cannot read a coordinator of another organization, and a platform admin gets 404 for an organization that does not exist', async () => {
    expect((await call(R.performance('coord-a'), await q.token('org_admin', 'admin-b', 'org-b'))).status).toBe(404);
    expect((await call(R.performance('coord-x'), await q.token('org_admin', 'admin-b', 'org-b'))).status).toBe(404);
    expect((await call(R.scopeSummary('coord-a'), await q.token('org_admin', 'admin-b', 'org-b'))).status).toBe(404);
    const root = await q.token('platform_admin', 'root');
    expect((await call(R.summary('org-nowhere'), root)).status).toBe(404);
    expect((await call(R.referrals('org-nowhere'), root)).status).toBe(404);
    expect((await call(R.summary('org-b'), root)).status).toBe(200);
  });
});

describe('a coordinator id with a scope in two organizations', () => {
  it('each organization reads its own scope; a platform admin names the organization', async () => {
    await q.pool.query("insert into coordinator_scopes (coordinator_id, org_id, mentor_ids, updated_at) values ('coord-two', 'org-a', '{m-a1}', now()), ('coord-two', 'org-b', '{m-b1}', now())");
    const mentors = async (url: string, token: string) => {
      const { status, body } = await call(`GET ${url}`, token);
      return status === 200 ? (body as { items: { mentorId: string }[] }).items.map((i) => i.mentorId) : [status, (body as { error: { message: string } }).error.message];
    };
    const performance = `/v1/coordinators/coord-two/mentor-performance?${range}`;
    expect(await mentors(performance, await q.token('coordinator', 'coord-two', 'org-a'))).toEqual(['m-a1']);
    expect(await mentors(performance, await q.token('coordinator', 'coord-two', 'org-b'))).toEqual(['m-b1']);
    expect(await mentors(performance, await q.token('org_admin', 'admin-a', 'org-a'))).toEqual(['m-a1']);
    expect(await mentors(`${performance}&orgId=org-b`, await q.token('org_admin', 'admin-a', 'org-a'))).toEqual([404, 'coordinator not found']);
    const root = await q.token('platform_admin', 'root');
    expect(await mentors(performance, root)).toEqual([400, 'orgId: coordinator coord-two has scopes in several organizations (org-a, org-b); name one']);
    expect(await mentors(`${performance}&orgId=org-b`, root)).toEqual(['m-b1']);
    expect((await call(`GET /v1/coordinators/coord-two/referrals?orgId=org-b`, root)).status).toBe(200);
    expect((await call(`GET /v1/coordinators/coord-two/recruitment-summary?${range}&orgId=org-nowhere`, root)).status).toBe(404);
  });
});
