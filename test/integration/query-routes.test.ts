import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { loadQueryFixture } from '../support/query-fixture.js';
import { readTopic } from '../support/kafka.js';

/** Every route of SPEC §5 through app.inject(), with the exact numbers of the fixture. */
let env: TestEnv;
let q: QueryApp;
let admin: string;

async function get(url: string, token = admin) {
  const res = await q.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json(), headers: res.headers };
}

beforeAll(async () => {
  env = await createTestEnv('query_routes');
  q = await startQueryApp(env);
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
  admin = await q.token('org_admin', 'admin-a', 'org-a');
});

afterAll(async () => {
  await q?.close();
  await env?.close();
});

const T = (clicks: number, uniqueClicks: number, installs: number, registrations: number, activations: number) => ({ clicks, uniqueClicks, installs, registrations, activations });

describe('query service routes', () => {
  it('GET referral-stats: totals, conversion and a daily series cut in Oslo time', async () => {
    const { status, body } = await get('/v1/mentors/m-a1/referral-stats?from=2026-03-09&to=2026-03-31&granularity=day');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['mentorId', 'mentorName', 'orgId', 'from', 'to', 'timezone', 'totals', 'conversion', 'series']);
    expect(body).toMatchObject({ mentorId: 'm-a1', mentorName: 'Kari Nordmann', orgId: 'org-a', from: '2026-03-09', to: '2026-03-31', timezone: 'Europe/Oslo' });
    expect(body.totals).toEqual(T(8, 6, 2, 3, 1));
    expect(body.conversion).toEqual({ clickToRegistration: 0.5, registrationToActivation: 1 / 3, clickToActivation: 1 / 6 });
    expect(body.series).toHaveLength(23);
    expect(body.series.filter((p: { clicks: number }) => p.clicks > 0)).toEqual([
      { periodStart: '2026-03-10', ...T(6, 4, 2, 2, 1) },
      { periodStart: '2026-03-30', ...T(2, 2, 0, 1, 0) }, // 22:30 UTC on the 29th is past midnight in Oslo
    ]);
  });

  it('GET referral-stats: weeks, a campaign filter, and rates null on empty periods', async () => {
    const weeks = await get('/v1/mentors/m-a1/referral-stats?from=2026-03-01&to=2026-03-31&granularity=week&campaignId=spring');
    expect(weeks.body.series.map((p: { periodStart: string; clicks: number }) => [p.periodStart, p.clicks])).toEqual([
      ['2026-02-23', 0], ['2026-03-02', 0], ['2026-03-09', 6], ['2026-03-16', 0], ['2026-03-23', 0], ['2026-03-30', 0],
    ]);
    expect(weeks.body.totals).toEqual(T(6, 4, 2, 2, 1));
    const empty = await get('/v1/mentors/m-a1/referral-stats?from=2026-05-01&to=2026-05-31&granularity=month');
    expect(empty.body.totals).toEqual(T(0, 0, 0, 0, 0));
    expect(empty.body.conversion).toEqual({ clickToRegistration: null, registrationToActivation: null, clickToActivation: null });
    expect(empty.body.series).toEqual([{ periodStart: '2026-05-01', ...T(0, 0, 0, 0, 0) }]);
  });

  it('GET recruits: keyset pages, newest first, and a stage filter', async () => {
    const first = await get('/v1/mentors/m-a1/recruits?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items.map((r: { userId: string }) => r.userId)).toEqual(['u-a3', 'u-a2']);
    expect(Object.keys(first.body.items[0])).toEqual(['referralId', 'userId', 'displayName', 'linkId', 'campaignId', 'stage', 'clickedAt', 'installedAt', 'registeredAt', 'activatedAt']);
    expect(first.body.items[0]).toEqual({
      referralId: 'r-a3', userId: 'u-a3', displayName: 'Name u-a3', linkId: 'l-a1n', campaignId: null, stage: 'REGISTERED',
      clickedAt: '2026-03-29T22:35:00.000Z', installedAt: null, registeredAt: '2026-03-29T22:40:00.000Z', activatedAt: null,
    });
    const second = await get(`/v1/mentors/m-a1/recruits?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.items.map((r: { userId: string }) => r.userId)).toEqual(['u-a1']);
    expect(second.body.nextCursor).toBeNull();
    const activated = await get('/v1/mentors/m-a1/recruits?stage=ACTIVATED');
    expect(activated.body.items.map((r: { userId: string; stage: string }) => [r.userId, r.stage])).toEqual([['u-a1', 'ACTIVATED']]);
    expect((await get('/v1/mentors/m-a1/recruits?stage=CLICKED')).body).toEqual({ items: [], nextCursor: null });
  });

  it('GET annual-summary: the year, recruits, and rank and percentile in the org', async () => {
    const a1 = await get('/v1/mentors/m-a1/annual-summary?year=2026');
    expect(a1.body).toEqual({ mentorId: 'm-a1', mentorName: 'Kari Nordmann', year: 2026, from: '2026-01-01', to: '2026-12-31', timezone: 'Europe/Oslo', totals: T(8, 6, 2, 3, 1), recruits: 3, rankInOrg: 1, percentileInOrg: 1 });
    const a3 = await get('/v1/mentors/m-a3/annual-summary?year=2026');
    expect(a3.body).toMatchObject({ mentorId: 'm-a3', mentorName: null, year: 2026, totals: T(1, 1, 0, 0, 0), recruits: 0, rankInOrg: 4, percentileInOrg: 1 / 4 });
    expect((await get('/v1/mentors/m-a1/annual-summary?year=2025')).body).toMatchObject({ totals: T(0, 0, 0, 0, 0), recruits: 0, rankInOrg: 1, percentileInOrg: 1 });
  });

  it('GET mentor-performance: the scope mentors ranked by each sort', async () => {
    const range = 'from=2026-03-01&to=2026-03-31';
    const byRegs = await get(`/v1/coordinators/coord-a/mentor-performance?${range}`);
    expect(byRegs.body.coordinatorId).toBe('coord-a');
    expect(byRegs.body.items.map((i: { mentorId: string; rank: number; totals: { registrations: number } }) => [i.mentorId, i.rank, i.totals.registrations])).toEqual([['m-a1', 1, 3], ['m-a2', 2, 3]]);
    const byActs = await get(`/v1/coordinators/coord-a/mentor-performance?${range}&sort=activations`);
    expect(byActs.body.items.map((i: { mentorId: string }) => i.mentorId)).toEqual(['m-a2', 'm-a1']);
    const byRate = await get(`/v1/coordinators/coord-a/mentor-performance?${range}&sort=clickToRegistration&limit=1`);
    expect(byRate.body.items).toEqual([{ mentorId: 'm-a2', mentorName: 'Ola Hansen', totals: T(3, 3, 0, 3, 3), conversion: { clickToRegistration: 1, registrationToActivation: 1, clickToActivation: 1 }, rank: 1 }]);
  });

  it('GET recruitment-summary: org totals, series, top mentors and campaigns', async () => {
    const { body } = await get('/v1/orgs/org-a/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=month');
    expect(Object.keys(body)).toEqual(['orgId', 'from', 'to', 'timezone', 'totals', 'conversion', 'series', 'topMentors', 'campaigns']);
    expect(body).toMatchObject({ from: '2026-03-01', to: '2026-03-31', timezone: 'Europe/Oslo' });
    expect(body.totals).toEqual(T(14, 12, 2, 7, 4));
    expect(body.series).toEqual([{ periodStart: '2026-03-01', ...T(14, 12, 2, 7, 4) }]);
    expect(body.topMentors.map((m: { mentorId: string; mentorName: string | null; rank: number }) => [m.mentorId, m.mentorName, m.rank])).toEqual([
      ['m-a1', 'Kari Nordmann', 1], ['m-a2', 'Ola Hansen', 2], ['m-x', 'Xavier A', 3], ['m-a3', null, 4],
    ]);
    expect(body.campaigns.map((c: { campaignId: string | null; totals: { clicks: number; registrations: number } }) => [c.campaignId, c.totals.clicks, c.totals.registrations])).toEqual([['spring', 9, 5], [null, 5, 2]]);
  });

  it('GET coordinator recruitment-summary: the funnel, series and campaigns of the scope mentors only', async () => {
    const { status, body } = await get('/v1/coordinators/coord-a/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=week');
    expect(status).toBe(200);
    expect(Object.keys(body)).toEqual(['coordinatorId', 'orgId', 'from', 'to', 'timezone', 'totals', 'conversion', 'series', 'campaigns']);
    expect(body).toMatchObject({ coordinatorId: 'coord-a', orgId: 'org-a', from: '2026-03-01', to: '2026-03-31', timezone: 'Europe/Oslo' });
    // m-a1 and m-a2, not m-a3 or m-x of the same organization.
    expect(body.totals).toEqual(T(11, 9, 2, 6, 4));
    expect(body.conversion).toEqual({ clickToRegistration: 6 / 9, registrationToActivation: 4 / 6, clickToActivation: 4 / 9 });
    expect(body.series.map((p: { periodStart: string; clicks: number; registrations: number }) => [p.periodStart, p.clicks, p.registrations])).toEqual([
      ['2026-02-23', 0, 0], ['2026-03-02', 0, 0], ['2026-03-09', 9, 5], ['2026-03-16', 0, 0], ['2026-03-23', 0, 0], ['2026-03-30', 2, 1],
    ]);
    expect(body.campaigns.map((c: { campaignId: string | null; totals: { clicks: number; registrations: number } }) => [c.campaignId, c.totals.clicks, c.totals.registrations])).toEqual([['spring', 9, 5], [null, 2, 1]]);
    // coord-x lists org-b's m-b1 by mistake: its numbers never count.
    const x = await get('/v1/coordinators/coord-x/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=month');
    expect(x.body.totals).toEqual(T(3, 3, 0, 1, 0));
  });

  it('GET org referrals: every recruit of the org with its mentor, filterable by mentor', async () => {
    const all = await get('/v1/orgs/org-a/referrals?limit=200');
    expect(all.body.items.map((r: { userId: string; mentorId: string; mentorName: string | null }) => `${r.userId}:${r.mentorId}:${r.mentorName}`)).toEqual([
      'u-a3:m-a1:Kari Nordmann', 'u-ax:m-x:Xavier A', 'u-a6:m-a2:Ola Hansen', 'u-a5:m-a2:Ola Hansen', 'u-a4:m-a2:Ola Hansen', 'u-a2:m-a1:Kari Nordmann', 'u-a1:m-a1:Kari Nordmann',
    ]);
    // org-b's m-x is another member with another name.
    const b = await get('/v1/orgs/org-b/referrals?mentorId=m-x', await q.token('org_admin', 'admin-b', 'org-b'));
    expect(b.body.items.map((r: { userId: string; mentorName: string | null }) => `${r.userId}:${r.mentorName}`)).toEqual(['u-bx2:Xena B', 'u-bx1:Xena B']);
    const a2 = await get('/v1/orgs/org-a/referrals?mentorId=m-a2&stage=ACTIVATED');
    expect(a2.body.items.map((r: { userId: string }) => r.userId)).toEqual(['u-a6', 'u-a5', 'u-a4']);
  });

  it('GET platform growth: every organization in its own timezone', async () => {
    const token = await q.token('platform_admin', 'root');
    const { body } = await get('/v1/platform/growth?from=2026-03-01&to=2026-03-31&granularity=month', token);
    expect(body.from).toBe('2026-03-01');
    expect(body.organizations.map((o: { orgId: string; timezone: string; totals: unknown }) => [o.orgId, o.timezone, o.totals])).toEqual([
      ['org-a', 'Europe/Oslo', T(14, 12, 2, 7, 4)],
      ['org-b', 'America/New_York', T(12, 12, 0, 3, 0)],
    ]);
    const days = await get('/v1/platform/growth?from=2026-03-09&to=2026-03-10&granularity=day', token);
    const b = days.body.organizations.find((o: { orgId: string }) => o.orgId === 'org-b');
    expect(b.series.map((p: { periodStart: string; clicks: number }) => [p.periodStart, p.clicks])).toEqual([['2026-03-09', 5], ['2026-03-10', 0]]); // 03:00Z is 23:00 the day before in New York
  });

  it('GET conversions: the attribution record, 404 when unknown', async () => {
    const { status, body } = await get('/v1/conversions/u-a2');
    expect(status).toBe(200);
    expect(body).toEqual({ userId: 'u-a2', referralId: 'r-a2', linkId: 'l-a1', mentorId: 'm-a1', mentorName: 'Kari Nordmann', campaignId: 'spring', orgId: 'org-a', attributedBy: 'DEVICE', registeredAt: '2026-03-10T11:00:00.000Z', activatedAt: null, explanation: {
      rule: 'DEVICE', windowFrom: '2026-02-08T11:00:00.000Z', windowTo: '2026-03-10T11:00:00.000Z',
      winner: { eventId: 'evt-c-a2-kari', kind: 'CLICK', linkId: 'l-a1', occurredAt: '2026-03-10T10:55:00.000Z' },
      candidates: [
        { eventId: 'evt-c-a2-kari', kind: 'CLICK', linkId: 'l-a1', occurredAt: '2026-03-10T10:55:00.000Z', mentorId: 'm-a1', mentorName: 'Kari Nordmann', outcome: 'WON', reason: null },
        { eventId: 'evt-c-a2-ola', kind: 'CLICK', linkId: 'l-a2', occurredAt: '2026-03-09T20:00:00.000Z', mentorId: 'm-a2', mentorName: 'Ola Hansen', outcome: 'EARLIER_TOUCH', reason: null },
        { eventId: 'evt-c-a2-bot', kind: 'CLICK', linkId: 'l-a3', occurredAt: '2026-03-09T07:00:00.000Z', mentorId: 'm-a3', mentorName: null, outcome: 'NOT_COUNTED', reason: 'bot' },
        { eventId: 'evt-c-a2-orgb', kind: 'CLICK', linkId: null, occurredAt: '2026-03-08T18:00:00.000Z', mentorId: null, mentorName: null, outcome: 'OTHER_ORG', reason: null },
        { eventId: 'evt-i-a2-jan', kind: 'INSTALL', linkId: 'l-a1', occurredAt: '2026-01-20T09:30:00.000Z', mentorId: 'm-a1', mentorName: 'Kari Nordmann', outcome: 'OUTSIDE_WINDOW', reason: null },
        { eventId: 'evt-c-a2-jan', kind: 'CLICK', linkId: 'l-a1', occurredAt: '2026-01-20T09:00:00.000Z', mentorId: 'm-a1', mentorName: 'Kari Nordmann', outcome: 'OUTSIDE_WINDOW', reason: null },
      ],
    } });
    // Kari herself sees her own touches; the other mentors' links and mentors stay hidden.
    const kari = (await get('/v1/conversions/u-a2', await q.token('mentor', 'm-a1', 'org-a'))).body.explanation.candidates;
    expect(kari.map((c: { linkId: string | null; mentorId: string | null; outcome: string }) => [c.linkId, c.mentorId, c.outcome])).toEqual([
      ['l-a1', 'm-a1', 'WON'], [null, null, 'EARLIER_TOUCH'], [null, null, 'NOT_COUNTED'], [null, null, 'OTHER_ORG'], ['l-a1', 'm-a1', 'OUTSIDE_WINDOW'], ['l-a1', 'm-a1', 'OUTSIDE_WINDOW'],
    ]);
    const link = { eventId: 'evt-u-a1', kind: 'REGISTRATION', linkId: 'l-a1', occurredAt: '2026-03-10T10:05:00.000Z' };
    expect((await get('/v1/conversions/u-a1')).body.explanation).toEqual({
      rule: 'LINK', windowFrom: '2026-02-08T10:05:00.000Z', windowTo: '2026-03-10T10:05:00.000Z', winner: link,
      candidates: [{ ...link, mentorId: 'm-a1', mentorName: 'Kari Nordmann', outcome: 'WON', reason: null }],
    });
    expect((await get('/v1/conversions/u-a4')).body.explanation).toBeNull(); // no stored facts behind it
    expect((await get('/v1/conversions/nobody')).status).toBe(404);
  });

  it('POST events: validates against the record, publishes to Kafka, answers 202 with the eventId', async () => {
    const token = await q.token('service', 'redirector', 'org-a');
    const at = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const click = { eventId: 'evt-web-1', linkId: 'l-a1', occurredAt: new Date(at).toISOString(), visitor: { ip: '203.0.113.9', userAgent: 'Mozilla/5.0', platform: 'WEB' } };
    const post = (url: string, payload: unknown) => q.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload: payload as object });
    const res = await post('/v1/events/invite-clicks', click);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toEqual({ eventId: 'evt-web-1' });
    expect((await post('/v1/events/invite-clicks', click)).statusCode).toBe(202); // a retry is harmless: the ingest worker drops it
    const reg = await post('/v1/events/registrations', { eventId: 'evt-reg-1', userId: 'u-new', orgId: 'org-a', linkId: 'l-a1', occurredAt: at + 1000 });
    expect(reg.statusCode).toBe(202);

    const clicks = await readTopic(env.kafka, env.topics.inviteClicks, 2);
    const decoded = await env.codec.decode('inviteClicks', clicks[0]?.value ?? null);
    expect(decoded).toMatchObject({ eventId: 'evt-web-1', linkId: 'l-a1', occurredAt: at, visitor: { ip: '203.0.113.9', platform: 'WEB', deviceId: null } });
    const [registration] = await readTopic(env.kafka, env.topics.userRegistered, 1);
    expect(await env.codec.decode('userRegistered', registration?.value ?? null)).toMatchObject({ eventId: 'evt-reg-1', userId: 'u-new', displayName: null });

    const bad = await post('/v1/events/invite-clicks', { ...click, visitor: { platform: 'PALM' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/^visitor\.platform/);
    const missing = await post('/v1/events/registrations', { eventId: 'e', userId: 'u', occurredAt: at });
    expect(missing.json().error.message).toMatch(/^orgId/);
    const ancient = await post('/v1/events/registrations', { eventId: 'e', userId: 'u', orgId: 'org-a', occurredAt: 1 });
    expect(ancient.statusCode).toBe(400);
    expect(ancient.json().error.message).toMatch(/^occurredAt/);
  });

  it('answers for the first and last days of the calendar, 1970-01-01 and 9999-12-31', async () => {
    for (const granularity of ['day', 'week', 'month', 'year']) {
      const last = await get(`/v1/orgs/org-a/recruitment-summary?from=9999-12-01&to=9999-12-31&granularity=${granularity}`);
      expect([granularity, last.status, last.body.totals]).toEqual([granularity, 200, T(0, 0, 0, 0, 0)]);
    }
    // The last week of 9999 ends in 10000: partial, and no date past the calendar is read.
    const week = await get('/v1/orgs/org-a/recruitment-summary?from=9999-12-27&to=9999-12-31&granularity=week');
    expect(week.body.series).toEqual([{ periodStart: '9999-12-27', partial: true, ...T(0, 0, 0, 0, 0) }]);
    expect((await get('/v1/mentors/m-a1/annual-summary?year=9999')).body).toMatchObject({ year: 9999, from: '9999-01-01', to: '9999-12-31', totals: T(0, 0, 0, 0, 0), recruits: 0 });
    // Only `to` given: `from` defaults to 29 days before it, but never before the calendar's first day.
    const first = await get('/v1/mentors/m-a1/referral-stats?to=1970-01-05&granularity=week');
    expect(first.body).toMatchObject({ from: '1970-01-01', to: '1970-01-05' });
    expect(first.body.series.map((p: { periodStart: string; partial?: true }) => [p.periodStart, p.partial])).toEqual([['1969-12-29', true], ['1970-01-05', true]]);
  });

  it('names the bad parameter in a 400', async () => {
    const cases: [string, RegExp][] = [
      ['/v1/mentors/m-a1/referral-stats?from=2026-13-01', /^from/],
      ['/v1/mentors/m-a1/referral-stats?to=2026-02-30', /^to/],
      ['/v1/mentors/m-a1/referral-stats?from=2026-03-10&to=2026-03-01', /^from/],
      ['/v1/mentors/m-a1/referral-stats?from=2020-01-01&to=2026-01-01&granularity=day', /^to/],
      ['/v1/mentors/m-a1/referral-stats?granularity=hour', /^granularity/],
      ['/v1/mentors/m-a1/referral-stats?bogus=1', /^bogus/],
      ['/v1/mentors/m-a1/recruits?limit=0', /^limit/],
      ['/v1/mentors/m-a1/recruits?limit=201', /^limit/],
      ['/v1/mentors/m-a1/recruits?cursor=abc', /^cursor/],
      ['/v1/mentors/m-a1/recruits?stage=LOST', /^stage/],
      ['/v1/coordinators/coord-a/mentor-performance?sort=clicks', /^sort/],
      ['/v1/mentors/m-a1/annual-summary?year=1969', /^year/],
      ['/v1/mentors/m-a1/annual-summary?year=10000', /^year/],
      ['/v1/mentors/m-a1/annual-summary?year=1e400', /^year: must be a finite number/],
      ['/v1/mentors/m-a1/recruits?limit=1e400', /^limit: must be a finite number/],
      ['/v1/orgs/org-a/referrals?limit=Infinity', /^limit/],
      // Dates outside 1970-01-01..9999-12-31 (year 0 was a 500: Postgres has no year 0).
      ['/v1/mentors/m-a1/referral-stats?from=0000-01-01&to=0000-01-05', /^from: 0000-01-01 is outside the dates this service answers for, 1970-01-01 to 9999-12-31/],
      ['/v1/mentors/m-a1/referral-stats?from=1969-12-31&to=1970-01-05', /^from/],
      ['/v1/orgs/org-a/recruitment-summary?to=0001-01-01', /^to/],
      ['/v1/orgs/org-a/recruitment-summary?from=9999-12-31&to=10000-01-01', /^to/],
      ['/v1/coordinators/coord-a/mentor-performance?from=0000-12-31', /^from/],
      [`/v1/mentors/m-a1/recruits?cursor=${Buffer.from('["0000-01-01T00:00:00.000Z","r-a1"]').toString('base64url')}`, /^cursor/],
      ['/v1/mentors/m%00a1/referral-stats', /^mentorId/],
      ['/v1/orgs/org-a/referrals?mentorId=m%00', /^mentorId/],
      ['/v1/conversions/%00', /^userId/],
      [`/v1/mentors/m-a1/recruits?cursor=${Buffer.from('["2026-03-10T10:05:00.000Z","r\u0000"]').toString('base64url')}`, /^cursor/],
    ];
    for (const [url, message] of cases) {
      const res = await get(url);
      expect([url, res.status, res.body.error.code]).toEqual([url, 400, 'invalid_parameter']);
      expect(res.body.error.message).toMatch(message);
    }
  });

  it('answers the operational routes, with security headers and request ids', async () => {
    expect((await q.app.inject('/healthz')).json()).toEqual({ status: 'ok' });
    expect((await q.app.inject('/readyz')).json()).toEqual({ status: 'ready' });
    const res = await q.app.inject({ url: '/v1/mentors/m-a1/referral-stats', headers: { authorization: `Bearer ${admin}`, 'x-request-id': 'req-123' } });
    expect(res.headers['x-request-id']).toBe('req-123');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['strict-transport-security']).toBeDefined();
    const metrics = (await q.app.inject('/metrics')).body;
    expect(metrics).toMatch(/http_request_duration_seconds_bucket\{.*route="\/v1\/mentors\/:mentorId\/referral-stats"/);
    const doc = (await q.app.inject('/openapi.json')).json();
    expect(doc.openapi).toBe('3.0.3');
    expect(Object.keys(doc.paths).sort()).toEqual([
      '/v1/conversions/{userId}', '/v1/coordinators/{coordinatorId}/mentor-performance', '/v1/coordinators/{coordinatorId}/recruitment-summary', '/v1/coordinators/{coordinatorId}/referrals', '/v1/events/invite-clicks', '/v1/events/registrations',
      '/v1/mentors/{mentorId}/annual-summary', '/v1/mentors/{mentorId}/recruits', '/v1/mentors/{mentorId}/referral-stats',
      '/v1/orgs/{orgId}/recruitment-summary', '/v1/orgs/{orgId}/referrals', '/v1/platform/growth',
    ]);
    const docs = await q.app.inject('/docs/');
    expect(docs.statusCode).toBe(200);
    // The viewer works over plain http on a local machine: no upgrade of its script requests.
    expect(docs.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    for (const script of docs.body.match(/src="\.\/static\/[^"]+\.js"/g) ?? []) expect((await q.app.inject(`/docs/${script.slice(7, -1)}`)).statusCode).toBe(200);
  });

  it('answers 503 with Retry-After while Postgres is unreachable, and readyz says which dependency', async () => {
    const down = await startQueryApp(env, { databaseUrl: 'postgres://postgres@127.0.0.1:1/recruitment' });
    try {
      const res = await down.app.inject({ url: '/v1/mentors/m-a1/referral-stats', headers: { authorization: `Bearer ${admin}` } });
      expect(res.statusCode).toBe(503);
      expect(res.headers['retry-after']).toBe('5');
      expect(res.json()).toEqual({ error: { code: 'unavailable', message: expect.stringContaining('unavailable') } });
      const ready = await down.app.inject('/readyz');
      expect([ready.statusCode, ready.json()]).toEqual([503, { status: 'unavailable', down: ['postgres'] }]);
    } finally {
      await down.close();
    }
  });

  it('limits requests per token with 429', async () => {
    const limited = await startQueryApp(env, { rateLimitPerMinute: 3 });
    try {
      const token = await limited.token('mentor', 'm-a3', 'org-a');
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await limited.app.inject({ url: '/v1/mentors/m-a3/referral-stats', headers: { authorization: `Bearer ${token}` } })).statusCode);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const other = await limited.token('mentor', 'm-a1', 'org-a');
      expect((await limited.app.inject({ url: '/v1/mentors/m-a1/referral-stats', headers: { authorization: `Bearer ${other}` } })).statusCode).toBe(200);
    } finally {
      await limited.close();
    }
  });
});
