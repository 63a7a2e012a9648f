import { randomBytes } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { events, loadQueryFixture } from '../support/query-fixture.js';
import { applyIncrements } from '../../libs/funnel/funnel-store.js';
import { sumIncrements } from '../../libs/funnel/increments.js';
import { rebuildFunnels } from '../../libs/funnel/rebuild.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { createAnswerCache, GZIP_MIN_BYTES } from '../../services/query-service/answer-cache.js';

/**
 * The answer cache (services/query-service/answer-cache.ts) on the query fixture, against the
 * same service with the cache off (ANSWER_CACHE_MB=0) on the same database: every answer the
 * cached service gives must be the uncached one's, before and after writes of every kind (the
 * aggregator's own statement, an operator's SQL, a rebuild), while its listening connection is
 * killed, and for callers of different scopes.
 */
let env: TestEnv;
let q: QueryApp;
let plain: QueryApp;
const tokens: Record<string, string> = {};

type Answer = { status: number; cache: string | undefined; etag: string | undefined; body: Record<string, unknown> };
async function get(app: QueryApp, url: string, token: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await app.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.statusCode, cache: res.headers['x-cache'] as string | undefined, etag: res.headers.etag as string | undefined, body: res.statusCode === 304 ? {} : res.json() };
}
/** The cached service's answer, checked equal to the uncached service's. */
async function both(url: string, token: string): Promise<Answer> {
  const cached = await get(q, url, token);
  const fresh = await get(plain, url, token);
  expect(cached.status).toBe(200);
  expect(cached.body).toEqual(fresh.body);
  expect(cached.etag).toBe(fresh.etag);
  return cached;
}
/**
 * The cached service's answer, checked equal to the uncached service's just before or just after
 * it: for an answer that changes with the clock alone, the one it must equal is of that moment.
 */
async function between(url: string, token: string): Promise<Answer> {
  const before = await get(plain, url, token);
  const cached = await get(q, url, token);
  const after = await get(plain, url, token);
  expect(cached.status).toBe(200);
  expect([before, after].some((fresh) => JSON.stringify(fresh.body) === JSON.stringify(cached.body) && fresh.etag === cached.etag)).toBe(true);
  return cached;
}
const ids = (a: Answer) => (a.body.items as { referralId: string }[]).map((r) => r.referralId);
const write = (org: string, mentor: string, iso: string, counts: Parameters<typeof events>[4]) =>
  applyIncrements(q.pool, sumIncrements(events(org, mentor, null, iso, counts)), env.config.defaultTimezone);
/** Asks until the cached answer is the uncached one (a change notice reaches the service just after its commit), then returns it. */
const settles = (url: string, token: string) =>
  eventually(async () => {
    const cached = await get(q, url, token);
    const fresh = await get(plain, url, token);
    return JSON.stringify(cached.body) === JSON.stringify(fresh.body) ? cached : undefined;
  }, 10_000, `the cached answer of ${url} to catch up`, 20);

const orgSummary = (org: string) => `/v1/orgs/${org}/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=week`;
const growth = '/v1/platform/growth?from=2026-03-01&to=2026-03-31&granularity=month';
const clicksOf = (a: Answer) => (a.body.totals as { clicks: number }).clicks;

beforeAll(async () => {
  env = await createTestEnv('query_answer_cache');
  q = await startQueryApp(env);
  plain = await startQueryApp(env, { config: { http: { ...env.config.http, answerCacheMb: 0 } } });
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
  await q.app.answers.ready();
  expect(q.app.answers.live).toBe(true);
  expect(plain.app.answers.live).toBe(false);
  tokens.adminA = await q.token('org_admin', 'admin-a', 'org-a');
  tokens.adminB = await q.token('org_admin', 'admin-b', 'org-b');
  tokens.platform = await q.token('platform_admin', 'ops', null);
  tokens.coordA = await q.token('coordinator', 'coord-a', 'org-a');
  tokens.coordX = await q.token('coordinator', 'coord-x', 'org-a');
  tokens.mentorA2 = await q.token('mentor', 'm-a2', 'org-a');
  tokens.mentorA2Again = await q.token('mentor', 'm-a2', 'org-a');
}, 120_000);

afterAll(async () => {
  await q?.close();
  await plain?.close();
  await env?.close();
});

describe('the answer cache', () => {
  it("keeps an answer until its organization's numbers change, and answers the new numbers then", async () => {
    const a = await both(orgSummary('org-a'), tokens.adminA as string);
    expect(a.cache).toBe('miss');
    expect((await both(orgSummary('org-a'), tokens.adminA as string)).cache).toBe('hit');
    expect((await both(orgSummary('org-b'), tokens.adminB as string)).cache).toBe('miss');
    expect((await both(growth, tokens.platform as string)).cache).toBe('miss');

    await write('org-a', 'm-a1', '2026-03-15T12:00:00Z', { CLICKED: 3, UNIQUE: 3 });
    const after = await settles(orgSummary('org-a'), tokens.adminA as string);
    expect(clicksOf(after)).toBe(clicksOf(a) + 3);
    // org-b's answer read nothing that changed; the platform's did.
    expect((await both(orgSummary('org-b'), tokens.adminB as string)).cache).toBe('hit');
    expect((await settles(growth, tokens.platform as string)).cache).toMatch(/^(miss|hit)$/);
    expect((await both(growth, tokens.platform as string)).cache).toBe('hit');
  });

  it("keeps an answer about some mentors while only other mentors' numbers change, and drops it when theirs or their names do", async () => {
    const stats = '/v1/mentors/m-a2/referral-stats?from=2026-03-01&to=2026-03-31&granularity=day';
    const compared = `${stats}&compare=previous`;
    // coord-a oversees m-a1 and m-a2.
    const performance = '/v1/coordinators/coord-a/mentor-performance?from=2026-03-01&to=2026-03-31&sort=registrations';
    for (const [url, token] of [[stats, tokens.mentorA2], [compared, tokens.mentorA2], [performance, tokens.coordA], [orgSummary('org-a'), tokens.adminA]] as const) {
      await both(url, token as string);
      expect((await both(url, token as string)).cache).toBe('hit');
    }
    // m-a3 is neither's. Once the organization's answer shows the change, its notice has arrived.
    await write('org-a', 'm-a3', '2026-03-16T12:00:00Z', { CLICKED: 2, UNIQUE: 2 });
    await settles(orgSummary('org-a'), tokens.adminA as string);
    expect((await both(stats, tokens.mentorA2 as string)).cache).toBe('hit');
    expect((await both(performance, tokens.coordA as string)).cache).toBe('hit');
    // A comparison rests on the organization's first day of activity too, which this did not move.
    expect((await both(compared, tokens.mentorA2 as string)).cache).toBe('hit');
    // An event before it does: the earlier period of March (February) gains a basis.
    const before = await both(compared, tokens.mentorA2 as string);
    await write('org-a', 'm-a3', '2026-02-01T12:00:00Z', { CLICKED: 1, UNIQUE: 1 });
    const rebased = await settles(compared, tokens.mentorA2 as string);
    expect([(before.body.previous as { orgFirstDay: string }).orgFirstDay, (rebased.body.previous as { orgFirstDay: string }).orgFirstDay]).toEqual(['2026-03-10', '2026-02-01']);

    // m-a1 is the coordinator's, not m-a2's.
    const ranked = await both(performance, tokens.coordA as string);
    await write('org-a', 'm-a1', '2026-03-16T12:00:00Z', { CLICKED: 4, UNIQUE: 4 });
    const reranked = await settles(performance, tokens.coordA as string);
    expect(reranked.body).not.toEqual(ranked.body);
    expect((await both(stats, tokens.mentorA2 as string)).cache).toBe('hit');

    // m-a2's own numbers, then its name (a mentor's name is their own registration's).
    const own = await both(stats, tokens.mentorA2 as string);
    await write('org-a', 'm-a2', '2026-03-17T12:00:00Z', { CLICKED: 1, UNIQUE: 1 });
    expect(clicksOf(await settles(stats, tokens.mentorA2 as string))).toBe(clicksOf(own) + 1);
    await q.pool.query("update registrations set display_name = 'Ola H.' where user_id = 'm-a2' and org_id = 'org-a'");
    expect((await settles(stats, tokens.mentorA2 as string)).body.mentorName).toBe('Ola H.');
    await q.pool.query("update registrations set display_name = 'Ola Hansen' where user_id = 'm-a2' and org_id = 'org-a'");
  });

  it('keeps a page of referrals until a notice names its mentors', async () => {
    const recruits = '/v1/mentors/m-a2/recruits?limit=2';
    // coord-a oversees m-a1 and m-a2; m-a3 is neither's.
    const coordPage = '/v1/coordinators/coord-a/referrals?limit=20';
    const orgPage = '/v1/orgs/org-a/referrals?limit=20';
    // Kept (the notice of the last test's rename of m-a2 may still be on its way, which drops what was computed before it).
    for (const [url, token] of [[recruits, tokens.mentorA2], [coordPage, tokens.coordA], [orgPage, tokens.adminA]] as const) {
      expect((await both(url, token as string)).cache).toBe('miss');
      await eventually(async () => ((await both(url, token as string)).cache === 'hit' ? true : undefined), 10_000, `a kept answer of ${url}`, 20);
    }
    expect(ids(await both(recruits, tokens.mentorA2 as string))).toEqual(['r-a6', 'r-a5']);

    try {
      // A recruit of m-a3: the organization's page shows it (so its notice has arrived); the pages of m-a2 and coord-a stay kept.
      await q.pool.query(
        `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, registered_at, registration_event_id)
         values ('r-a7', 'u-a7', 'org-a', 'm-a3', 'l-a3', null, 'LINK', 'Name u-a7', '2026-03-30T10:00:00Z', 'evt-u-a7')`,
      );
      expect(ids(await settles(orgPage, tokens.adminA as string))[0]).toBe('r-a7');
      expect((await both(recruits, tokens.mentorA2 as string)).cache).toBe('hit');
      expect((await both(coordPage, tokens.coordA as string)).cache).toBe('hit');

      // A recruit moved from m-a2 to m-a3: the notice names both, so the pages that showed it drop it.
      await q.pool.query("update referrals set mentor_id = 'm-a3' where referral_id = 'r-a6'");
      expect(ids(await settles(recruits, tokens.mentorA2 as string))).toEqual(['r-a5', 'r-a4']);
      expect(ids(await settles(coordPage, tokens.coordA as string))).not.toContain('r-a6');

      // A recruit's name, and the mentor's own (shown on the coordinator's page).
      await q.pool.query("update referrals set display_name = 'Siri R.' where referral_id = 'r-a5'");
      expect((await settles(recruits, tokens.mentorA2 as string)).body.items).toMatchObject([{ referralId: 'r-a5', displayName: 'Siri R.' }, { referralId: 'r-a4' }]);
      await q.pool.query("update registrations set display_name = 'Ola H.' where user_id = 'm-a2' and org_id = 'org-a'");
      expect((await settles(coordPage, tokens.coordA as string)).body.items).toContainEqual(expect.objectContaining({ referralId: 'r-a5', mentorName: 'Ola H.' }));
    } finally {
      await q.pool.query("delete from referrals where referral_id = 'r-a7'");
      await q.pool.query("update referrals set mentor_id = 'm-a2' where referral_id = 'r-a6'");
      await q.pool.query("update referrals set display_name = 'Name u-a5' where referral_id = 'r-a5'");
      await q.pool.query("update registrations set display_name = 'Ola Hansen' where user_id = 'm-a2' and org_id = 'org-a'");
    }
    expect(ids(await settles(recruits, tokens.mentorA2 as string))).toEqual(['r-a6', 'r-a5']);
  });

  it('keeps a follow-up list until a write, or until the next waiting recruit reaches its cut-off with nothing written', async () => {
    const lists = [
      ['/v1/coordinators/coord-a/referrals?stuckDays=14&limit=20', tokens.coordA],
      ['/v1/orgs/org-a/referrals?stuckDays=14&limit=20', tokens.adminA],
    ] as const;
    // Every waiting recruit of the fixture is months past the cut-off: none joins with the clock.
    for (const [url, token] of lists) {
      expect((await between(url, token as string)).cache).toBe('miss');
      await eventually(async () => ((await between(url, token as string)).cache === 'hit' ? true : undefined), 10_000, `a kept answer of ${url}`, 20);
    }
    // A waiting recruit of m-a1 (coord-a's) registered 14 days less 3 s ago joins both lists in 3 s, with nothing written then.
    const joins = Date.now() + 3_000;
    try {
      await q.pool.query(
        `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, registered_at, registration_event_id)
         values ('r-a8', 'u-a8', 'org-a', 'm-a1', 'l-a1', null, 'LINK', 'Name u-a8', $1, 'evt-u-a8')`,
        [new Date(joins - 14 * 86_400_000)],
      );
      for (const [url, token] of lists) {
        // The insert's notice drops the list; computed again, it is kept without the recruit.
        const kept = await eventually(async () => {
          const a = await between(url, token as string);
          return a.cache === 'hit' ? a : undefined;
        }, 10_000, `${url} kept again`, 20);
        expect(ids(kept)).not.toContain('r-a8');
      }
      for (const [url, token] of lists) {
        // Asked every 50 ms, each answer the uncached service's of that moment, until the recruit joins: computed again, not served from before.
        const joined = await eventually(async () => {
          const a = await between(url, token as string);
          return ids(a).includes('r-a8') ? a : undefined;
        }, 15_000, `r-a8 to join ${url}`, 50);
        expect(Date.now()).toBeGreaterThanOrEqual(joins);
        expect(joined.cache).toBe('miss');
        expect(ids(joined)[0]).toBe('r-a8');
      }
    } finally {
      await q.pool.query("delete from referrals where referral_id = 'r-a8'");
    }
  });

  it('names the mentors a statement touched, the organizations when they would not fit in a notice, and only the organization for its own totals', async () => {
    const listener = await q.pool.connect();
    const heard: string[] = [];
    const onNotice = (n: { channel: string; payload?: string }) => void heard.push(n.payload ?? '');
    listener.on('notification', onNotice);
    try {
      await listener.query('listen rt_changes');
      const noticesOf = async (sql: string) => {
        heard.length = 0;
        await q.pool.query(sql);
        await listener.query('select 1');
        return heard.map((p) => JSON.parse(p) as unknown);
      };
      const yearly = (org: string, mentor: string) => `('${org}', 2031, '${mentor}', 1, 1, 0, 0, 0)`;
      const insertYearly = (rows: string[]) => `insert into funnel_yearly (org_id, year, mentor_id, clicks, unique_clicks, installs, registrations, activations) values ${rows.join(', ')}`;
      expect(await noticesOf(insertYearly([yearly('org-n1', 'a'), yearly('org-n1', 'b'), yearly('org-n2', 'a')]))).toEqual([{ mentors: { 'org-n1': ['a', 'b'], 'org-n2': ['a'] } }]);
      // An update names the mentors of the old rows and of the new.
      expect(await noticesOf("update funnel_yearly set mentor_id = 'c' where org_id = 'org-n1' and mentor_id = 'b'")).toEqual([{ mentors: { 'org-n1': ['b', 'c'] } }]);
      expect(await noticesOf("update registrations set display_name = display_name where user_id = 'm-b1'")).toEqual([{ mentors: { 'org-b': ['m-b1'] } }]);
      expect(await noticesOf("insert into funnel_daily (org_id, day, mentor_id, campaign_id, clicks, unique_clicks, installs, registrations, activations) values ('org-n1', '2031-02-03', 'a', null, 1, 1, 0, 0, 0)")).toEqual([{ mentors: { 'org-n1': ['a'] } }]);
      expect(await noticesOf("delete from funnel_daily where org_id = 'org-n1' and day = '2031-02-03'")).toEqual([{ mentors: { 'org-n1': ['a'] } }]);
      expect(await noticesOf("insert into funnel_org_daily (org_id, day, clicks, unique_clicks, installs, registrations, activations) values ('org-n3', '2031-01-01', 1, 1, 0, 0, 0)")).toEqual([{ aggregates: ['org-n3'] }]);
      // 300 mentors of 40 characters in two organizations do not fit in a notice's 8000 bytes:
      // one notice an organization does, each whole.
      const mentorIds = (n: number) => Array.from({ length: n }, (_, i) => `mentor-${String(i).padStart(33, '0')}`);
      const many = mentorIds(300).map((m, i) => yearly(i % 2 ? 'org-n4' : 'org-n5', m));
      expect(await noticesOf(insertYearly(many))).toEqual([
        { mentors: { 'org-n4': mentorIds(300).filter((_, i) => i % 2) } },
        { mentors: { 'org-n5': mentorIds(300).filter((_, i) => i % 2 === 0) } },
      ]);
      // 200 of one organization do not fit alone: the organization is named, after the others' notices.
      const daily = (org: string, mentor: string, d: string) => `('${org}', '${d}', '${mentor}', null, 1, 1, 0, 0, 0)`;
      const insertDaily = (rows: string[]) => `insert into funnel_daily (org_id, day, mentor_id, campaign_id, clicks, unique_clicks, installs, registrations, activations) values ${rows.join(', ')}`;
      expect(await noticesOf(insertDaily([...mentorIds(200).map((m) => daily('org-n6', m, '2031-04-02')), daily('org-n7', 'a', '2031-04-03'), daily('org-n8', 'b', '2031-04-01')]))).toEqual([
        { mentors: { 'org-n7': ['a'], 'org-n8': ['b'] } },
        ['org-n6'],
      ]);
      await noticesOf("delete from funnel_daily where org_id in ('org-n6', 'org-n7', 'org-n8')");
      // Whatever order the organizations came in, each is named once, in one notice: here two, each of whole organizations.
      const deleted = (await noticesOf('delete from funnel_yearly where year = 2031')) as { mentors: Record<string, string[]> }[];
      expect(deleted.map((n) => Object.keys(n.mentors))).toEqual([['org-n1', 'org-n2', 'org-n4'], ['org-n5']]);
      expect(Object.assign({}, ...deleted.map((n) => n.mentors))).toEqual({ 'org-n1': ['a', 'c'], 'org-n2': ['a'], 'org-n4': mentorIds(300).filter((_, i) => i % 2), 'org-n5': mentorIds(300).filter((_, i) => i % 2 === 0) });
      await q.pool.query("delete from funnel_org_daily where org_id = 'org-n3'");
    } finally {
      listener.off('notification', onNotice);
      await listener.query('unlisten rt_changes').catch(() => undefined);
      listener.release();
    }
  });

  it('answers If-None-Match from a kept answer with the ETag the uncached service gives', async () => {
    const kept = await both(orgSummary('org-b'), tokens.adminB as string);
    const res = await get(q, orgSummary('org-b'), tokens.adminB as string, { 'if-none-match': kept.etag as string });
    expect(res.status).toBe(304);
  });

  it('sends a large answer gzip-compressed to a client that takes gzip once kept, with an ETag of its own, and uncompressed to one that does not', async () => {
    // A day-by-day month: about 3 kB of JSON, above GZIP_MIN_BYTES.
    const url = '/v1/orgs/org-a/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=day';
    const token = tokens.adminA as string;
    const browser = 'gzip, deflate, br, zstd';
    const raw = (app: QueryApp, headers: Record<string, string> = {}) => app.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
    const identity = await raw(plain);
    expect(identity.statusCode).toBe(200);
    expect(identity.rawPayload.length).toBeGreaterThanOrEqual(GZIP_MIN_BYTES);
    expect(identity.headers['content-encoding']).toBeUndefined();
    // Without an answer cache nothing is kept, so nothing is compressed: a browser gets the answer as it is.
    const uncached = await raw(plain, { 'accept-encoding': browser });
    expect([uncached.statusCode, uncached.headers['content-encoding'], uncached.headers.etag]).toEqual([200, undefined, identity.headers.etag]);
    // A miss is sent as computed, before it is compressed (the same bytes and ETag as the uncached service's) ...
    const miss = await raw(q, { 'accept-encoding': browser });
    expect([miss.statusCode, miss.headers['x-cache'], miss.headers['content-encoding'], miss.headers.etag]).toEqual([200, 'miss', undefined, identity.headers.etag]);
    expect(miss.rawPayload.equals(identity.rawPayload)).toBe(true);
    // ... and kept compressed once it has been sent (in a setImmediate queued before this one): the next requests are sent the kept bytes.
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 2; i++) {
      const zipped = await raw(q, { 'accept-encoding': browser });
      expect([zipped.statusCode, zipped.headers['x-cache'], zipped.headers['content-encoding'], zipped.headers['content-type']]).toEqual([200, 'hit', 'gzip', 'application/json; charset=utf-8']);
      expect(String(zipped.headers.vary)).toContain('accept-encoding');
      expect(zipped.rawPayload.length).toBeLessThan(identity.rawPayload.length / 2);
      expect(gunzipSync(zipped.rawPayload).equals(identity.rawPayload)).toBe(true);
      expect(zipped.headers.etag).toBe(`${String(identity.headers.etag).slice(0, -1)}-gzip"`);
      expect((await raw(q, { 'accept-encoding': 'gzip', 'if-none-match': zipped.headers.etag as string })).statusCode).toBe(304);
    }
    // A browser holding the miss's uncompressed answer holds it still: 304, with that ETag and nothing to inflate.
    const held = await raw(q, { 'accept-encoding': browser, 'if-none-match': identity.headers.etag as string });
    expect([held.statusCode, held.headers.etag, held.rawPayload.length]).toEqual([304, identity.headers.etag, 0]);
    for (const refused of ['gzip;q=0', 'br', 'identity']) {
      const res = await raw(q, { 'accept-encoding': refused });
      expect([res.statusCode, res.headers['content-encoding'], res.headers.etag]).toEqual([200, undefined, identity.headers.etag]);
      expect(res.rawPayload.equals(identity.rawPayload)).toBe(true);
    }
    // Its CSV export is made from the same kept answer, and is sent as text.
    const csv = await raw(q, { 'accept-encoding': 'gzip', accept: 'text/csv' });
    expect([csv.statusCode, csv.headers['content-encoding'], String(csv.headers['content-type'])]).toEqual([200, undefined, 'text/csv; charset=utf-8']);
    expect(csv.body).toContain('2026-03-15');
    // A small answer is kept and sent as it is.
    const small = await q.app.inject({ method: 'GET', url: '/v1/orgs/org-b/referrals?limit=1', headers: { authorization: `Bearer ${tokens.adminB as string}`, 'accept-encoding': 'gzip' } });
    expect([small.statusCode, small.headers['content-encoding']]).toEqual([200, undefined]);
    expect(small.rawPayload.length).toBeLessThan(GZIP_MIN_BYTES);
  });

  it('keeps an answer too large to keep as computed compressed at once, when it fits so, and one that does not fit either not at all', async () => {
    // 64 kB in all: at most 8 kB an answer.
    const cache = createAnswerCache({ connectionString: env.config.databaseUrl, maxBytes: 64 * 1024, log: env.log });
    try {
      await cache.ready();
      expect(cache.live).toBe(true);
      // 20 kB of JSON that compresses to well under 8 kB, and 20 kB that does not compress.
      const compressible = JSON.stringify(Array.from({ length: 400 }, (_, i) => ({ day: i, clicks: i % 7 })));
      const random = randomBytes(20_000);
      expect(compressible.length).toBeGreaterThan(8 * 1024);
      const ask = (key: string, value: string | Uint8Array) => cache.answer(key, 'org-a', async () => value);
      expect((await ask('big', compressible)).outcome).toBe('miss');
      const hit = await ask('big', compressible);
      expect([hit.outcome, hit.answer.encoding]).toEqual(['hit', 'gzip']);
      expect(gunzipSync(hit.answer.body).toString()).toBe(compressible);
      expect((await ask('random', random)).outcome).toBe('miss');
      expect((await ask('random', random)).outcome).toBe('miss');
      expect(cache.kept.answers).toBe(1);
    } finally {
      await cache.close();
    }
  });

  it('sees what other writers change: a display name, a timezone an operator sets', async () => {
    const url = '/v1/coordinators/coord-a/mentor-performance?from=2026-03-01&to=2026-03-31&sort=registrations';
    await both(url, tokens.coordA as string);
    expect((await both(url, tokens.coordA as string)).cache).toBe('hit');
    await q.pool.query("update registrations set display_name = 'Kari N.' where user_id = 'm-a1' and org_id = 'org-a'");
    const renamed = await settles(url, tokens.coordA as string);
    expect(JSON.stringify(renamed.body)).toContain('Kari N.');

    const before = await both(orgSummary('org-b'), tokens.adminB as string);
    await q.pool.query("update org_settings set timezone = 'Asia/Tokyo' where org_id = 'org-b'");
    const moved = await settles(orgSummary('org-b'), tokens.adminB as string);
    expect(moved.body).not.toEqual(before.body);
  });

  it("never hands one scope's answer to another: coordinators of different mentors, the same mentor twice", async () => {
    const url = '/v1/coordinators/:id/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=month';
    const coordA = await both(url.replace(':id', 'coord-a'), tokens.coordA as string);
    const coordX = await both(url.replace(':id', 'coord-x'), tokens.coordX as string);
    expect(coordA.body).not.toEqual(coordX.body);
    expect((await both(url.replace(':id', 'coord-x'), tokens.coordX as string)).cache).toBe('hit');
    // Two tokens of one mentor see the same: one answer serves both.
    const stats = '/v1/mentors/m-a2/referral-stats?from=2026-03-01&to=2026-03-31&granularity=day';
    await both(stats, tokens.mentorA2 as string);
    expect((await both(stats, tokens.mentorA2Again as string)).cache).toBe('hit');
  });

  it('keeps one answer per question: a change replaces it, it does not leave the old one behind', async () => {
    const url = '/v1/orgs/org-b/recruitment-summary?from=2026-01-01&to=2026-03-31&granularity=month';
    await both(url, tokens.adminB as string);
    const kept = q.app.answers.kept.answers;
    for (let i = 1; i <= 4; i++) {
      await write('org-b', 'm-b1', `2026-03-0${i}T12:00:00Z`, { CLICKED: 1, UNIQUE: 1 });
      expect((await settles(url, tokens.adminB as string)).cache).toMatch(/^(miss|hit)$/);
      expect((await both(url, tokens.adminB as string)).cache).toBe('hit');
    }
    // Five versions of the answer were kept in turn; only the last is.
    expect(q.app.answers.kept.answers).toBe(kept);
  });

  it('computes an answer once however many ask for it at the same time', async () => {
    const url = '/v1/orgs/org-a/recruitment-summary?from=2026-02-01&to=2026-03-31&granularity=day';
    const answers = await Promise.all(Array.from({ length: 20 }, () => get(q, url, tokens.adminA as string)));
    expect(answers.map((a) => a.status)).toEqual(Array(20).fill(200));
    expect(answers.filter((a) => a.cache === 'miss')).toHaveLength(1);
    expect(answers.every((a) => a.cache === 'miss' || a.cache === 'shared' || a.cache === 'hit')).toBe(true);
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    await both(url, tokens.adminA as string);
  });

  it('reads a scope fact once however many requests ask for it at the same time, and a failed read is not kept', async () => {
    let reads = 0;
    const slowly = <T>(value: T, fail = false) => async (): Promise<T> => {
      reads += 1;
      await new Promise((r) => setTimeout(r, 50));
      if (fail) throw new Error('postgres went away');
      return value;
    };
    const failed = await Promise.allSettled(Array.from({ length: 20 }, () => q.app.answers.fact('test:shared-fact', slowly(['org-a'], true))));
    expect(failed.map((f) => f.status)).toEqual(Array(20).fill('rejected'));
    expect(reads).toBe(1);
    const values = await Promise.all(Array.from({ length: 20 }, () => q.app.answers.fact('test:shared-fact', slowly(['org-a']))));
    expect(reads).toBe(2);
    expect(values).toEqual(Array(20).fill(['org-a']));
    // Kept: the next request reads nothing.
    expect(await q.app.answers.fact('test:shared-fact', slowly(['never read']))).toEqual(['org-a']);
    expect(reads).toBe(2);
  });

  it('answers from Postgres while its notices cannot arrive, and trusts nothing kept from before once they can', async () => {
    const url = '/v1/mentors/m-a2/referral-stats?from=2026-03-01&to=2026-03-31&granularity=day';
    const before = await both(url, tokens.mentorA2 as string);
    expect((await both(url, tokens.mentorA2 as string)).cache).toBe('hit');
    const { rows } = await q.pool.query<{ ok: boolean }>(
      "select pg_terminate_backend(pid) as ok from pg_stat_activity where application_name = 'query-service answer cache' and datname = current_database()",
    );
    // Both services' pools share the database, but only the cached one listens.
    expect(rows.map((r) => r.ok)).toEqual([true]);
    await eventually(async () => (q.app.answers.live ? undefined : true), 5_000, 'the cache to notice', 5);
    await write('org-a', 'm-a2', '2026-03-20T12:00:00Z', { CLICKED: 2, UNIQUE: 1 });
    const during = await both(url, tokens.mentorA2 as string);
    expect(during.cache).toBe('bypass');
    expect(clicksOf(during)).toBe(clicksOf(before) + 2);
    await eventually(async () => (q.app.answers.live ? true : undefined), 10_000, 'listening again', 20);
    expect((await both(url, tokens.mentorA2 as string)).cache).toBe('miss');
  });

  it('stops trusting a listening connection that goes silent, and listens again once the network is back', async () => {
    const url = new URL(env.config.databaseUrl);
    const proxy = await startTcpProxy({ host: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname, port: Number(url.port || 5432) });
    url.host = `127.0.0.1:${proxy.port}`;
    const behind = await startQueryApp(env, { databaseUrl: url.toString() });
    try {
      await behind.app.answers.ready();
      const stats = '/v1/mentors/m-a1/referral-stats?from=2026-03-01&to=2026-03-31&granularity=day';
      await get(behind, stats, tokens.adminA as string);
      expect((await get(behind, stats, tokens.adminA as string)).cache).toBe('hit');
      // No reset, no close: only the heartbeat can tell that notices no longer arrive.
      proxy.stall();
      await write('org-a', 'm-a1', '2026-03-21T12:00:00Z', { CLICKED: 5, UNIQUE: 5 });
      await eventually(async () => (behind.app.answers.live ? undefined : true), 10_000, 'the silent connection to be given up', 50);
      proxy.restore();
      await eventually(async () => (behind.app.answers.live ? true : undefined), 15_000, 'listening again', 50);
      const after = await get(behind, stats, tokens.adminA as string);
      expect(after.cache).toBe('miss');
      expect(after.body).toEqual((await get(plain, stats, tokens.adminA as string)).body);
    } finally {
      await behind.close();
      await proxy.close();
    }
  });

  it("keeps the facts scope decisions rest on until a scope table changes: a coordinator's mentors, a mentor's organizations", async () => {
    const scopeCount = async (outcome: string): Promise<number> => {
      const text = (await q.app.inject({ method: 'GET', url: '/metrics' })).body;
      return Number(new RegExp(`^query_scope_cache_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const url = '/v1/coordinators/coord-x/mentor-performance?from=2026-03-01&to=2026-03-31&sort=registrations';
    const mentorsOf = (a: Answer) => (a.body.items as { mentorId: string }[]).map((i) => i.mentorId).sort();
    const before = await both(url, tokens.coordX as string);
    // /metrics is computed at most once a second: counts a second apart.
    await new Promise((r) => setTimeout(r, 1_100));
    const [hits, misses] = [await scopeCount('hit'), await scopeCount('miss')];
    for (let i = 0; i < 5; i++) await both(url, tokens.coordX as string);
    await new Promise((r) => setTimeout(r, 1_100));
    // The cached service's five scope reads came from what it kept (the uncached one's are bypasses).
    expect(await scopeCount('hit')).toBe(hits + 5);
    expect(await scopeCount('miss')).toBe(misses);
    // Numbers changing leave the scope kept; the scope changing is seen at once.
    await write('org-a', 'm-a3', '2026-03-15T12:00:00Z', { CLICKED: 1, UNIQUE: 1 });
    await q.pool.query("update coordinator_scopes set mentor_ids = array['m-a1', 'm-a3'] where coordinator_id = 'coord-x'");
    const after = await settles(url, tokens.coordX as string);
    expect(mentorsOf(after)).toEqual(['m-a1', 'm-a3']);
    expect(mentorsOf(after)).not.toEqual(mentorsOf(before));

    // m-a1 has links in org-a only: the platform needs not name it. A link in org-b makes it ambiguous.
    const stats = '/v1/mentors/m-a1/referral-stats?from=2026-03-01&to=2026-03-31&granularity=day';
    expect((await get(q, stats, tokens.platform as string)).status).toBe(200);
    expect((await get(q, stats, tokens.platform as string)).status).toBe(200);
    await q.pool.query("insert into invite_links (link_id, org_id, mentor_id, campaign_id, created_at) values ('l-a1-in-b', 'org-b', 'm-a1', null, now())");
    const ambiguous = await eventually(async () => {
      const res = await get(q, stats, tokens.platform as string);
      return res.status === 400 ? res : undefined;
    }, 10_000, "the mentor's second organization to be seen", 20);
    expect(JSON.stringify(ambiguous.body)).toContain('orgId');
    expect((await get(plain, stats, tokens.platform as string)).status).toBe(400);
  });

  it('exports the kept answer as CSV: a hit after its JSON, the same table as the uncached service, the new numbers after a change', async () => {
    const url = '/v1/mentors/m-a2/referral-stats?from=2026-03-01&to=2026-03-31&granularity=week';
    const csv = async (app: QueryApp) => {
      const res = await app.app.inject({ method: 'GET', url: `${url}&format=csv`, headers: { authorization: `Bearer ${tokens.mentorA2 as string}` } });
      expect([res.statusCode, res.headers['content-type']]).toEqual([200, 'text/csv; charset=utf-8']);
      return { text: res.body, cache: res.headers['x-cache'] };
    };
    await both(url, tokens.mentorA2 as string);
    const kept = await csv(q);
    expect(kept.cache).toBe('hit');
    expect(kept.text).toBe((await csv(plain)).text);
    await write('org-a', 'm-a2', '2026-03-10T12:00:00Z', { CLICKED: 7, UNIQUE: 7 });
    const after = await eventually(async () => {
      const [a, b] = [await csv(q), await csv(plain)];
      return a.text === b.text ? a : undefined;
    }, 10_000, 'the CSV export to catch up', 20);
    expect(after.text).not.toBe(kept.text);
  });

  it('hears of a TRUNCATE too, which fires no row trigger: answers and scope facts are dropped', async () => {
    // org-b's timezone (Asia/Tokyo since an earlier test) goes with the table: its answer moves back to the default zone.
    const url = orgSummary('org-b');
    const tokyo = await both(url, tokens.adminB as string);
    expect((await both(url, tokens.adminB as string)).cache).toBe('hit');
    await q.pool.query('truncate org_settings');
    const moved = await settles(url, tokens.adminB as string);
    expect(moved.body).not.toEqual(tokyo.body);
    expect(moved.body.timezone).toBe(env.config.defaultTimezone);
  });

  it('drops everything on a rebuild, and the rebuilt tables still send their changes', async () => {
    const url = orgSummary('org-b');
    await both(url, tokens.adminB as string);
    expect((await both(url, tokens.adminB as string)).cache).toBe('hit');
    await rebuildFunnels(q.pool, { defaultTimezone: env.config.defaultTimezone, log: env.log });
    await eventually(async () => ((await get(q, url, tokens.adminB as string)).cache === 'miss' ? true : undefined), 10_000, 'the rebuild notice', 20);
    const rebuilt = await both(url, tokens.adminB as string);
    expect(rebuilt.cache).toBe('hit');
    await write('org-b', 'm-b1', '2026-03-20T12:00:00Z', { CLICKED: 4, UNIQUE: 4 });
    const after = await settles(url, tokens.adminB as string);
    expect(clicksOf(after)).toBe(clicksOf(rebuilt) + 4);
  });
});
