import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { events, loadQueryFixture } from '../support/query-fixture.js';
import { applyIncrements } from '../../libs/funnel/funnel-store.js';
import { sumIncrements } from '../../libs/funnel/increments.js';

/**
 * `compare=previous` and `compare=year` (SPEC §5) through the real service: the fixture's March
 * 2026 and, added here, earlier activity of org-a (Europe/Oslo), some of it within an hour of
 * an earlier range's edge in Oslo time, and around the leap day of 2024:
 *
 *   m-a1 none    2026-01-28 22:30Z (28 Jan 23:30 Oslo: before March's previous range)  5 clicks (5 unique)
 *   m-a1 none    2026-01-28 23:30Z (29 Jan 00:30 Oslo: its first day)                  1 click (1 unique)
 *   m-a3 none    2026-02-10 12:00Z                                                     2 clicks (2 unique)
 *   m-a1 spring  2026-02-20 12:00Z                                                     4 clicks (2 unique), 1 registration
 *   m-a2 spring  2026-02-27 23:30Z (28 Feb 00:30 Oslo: its last day)                   1 click (1 unique), 1 registration, 1 activation
 *   m-a1 spring  2025-03-15 12:00Z                                                     3 clicks (3 unique), 2 registrations, 1 activation
 *   m-a3 none    2025-03-31 22:30Z (1 Apr 00:30 Oslo: after March 2025)                9 clicks (9 unique)
 *   m-a1 none    2024-02-29 12:00Z                                                     2 clicks (2 unique), 1 registration
 *   m-a1 none    2023-02-28 12:00Z (org-a's first day of activity)                      1 click (1 unique), 1 registration, 1 activation
 *   m-a1 none    2023-03-01 12:00Z                                                     7 clicks (7 unique)
 *
 * The earlier ranges are worked out by hand: March 2026 (31 days) is compared with 29 January
 * to 28 February 2026 (previous) or with March 2025 (year).
 */
let env: TestEnv;
let q: QueryApp;
let adminA: string;
let adminB: string;
let coordA: string;
let mentorA1: string;

async function get(url: string, token = adminA) {
  const res = await q.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  env = await createTestEnv('query_compare');
  q = await startQueryApp(env);
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
  const earlier = [
    ...events('org-a', 'm-a1', null, '2026-01-28T22:30:00Z', { CLICKED: 5, UNIQUE: 5 }),
    ...events('org-a', 'm-a1', null, '2026-01-28T23:30:00Z', { CLICKED: 1, UNIQUE: 1 }),
    ...events('org-a', 'm-a3', null, '2026-02-10T12:00:00Z', { CLICKED: 2, UNIQUE: 2 }),
    ...events('org-a', 'm-a1', 'spring', '2026-02-20T12:00:00Z', { CLICKED: 4, UNIQUE: 2, REGISTERED: 1 }),
    ...events('org-a', 'm-a2', 'spring', '2026-02-27T23:30:00Z', { CLICKED: 1, UNIQUE: 1, REGISTERED: 1, ACTIVATED: 1 }),
    ...events('org-a', 'm-a1', 'spring', '2025-03-15T12:00:00Z', { CLICKED: 3, UNIQUE: 3, REGISTERED: 2, ACTIVATED: 1 }),
    ...events('org-a', 'm-a3', null, '2025-03-31T22:30:00Z', { CLICKED: 9, UNIQUE: 9 }),
    ...events('org-a', 'm-a1', null, '2024-02-29T12:00:00Z', { CLICKED: 2, UNIQUE: 2, REGISTERED: 1 }),
    ...events('org-a', 'm-a1', null, '2023-02-28T12:00:00Z', { CLICKED: 1, UNIQUE: 1, REGISTERED: 1, ACTIVATED: 1 }),
    ...events('org-a', 'm-a1', null, '2023-03-01T12:00:00Z', { CLICKED: 7, UNIQUE: 7 }),
  ];
  await applyIncrements(q.pool, sumIncrements(earlier), env.config.defaultTimezone);
  adminA = await q.token('org_admin', 'admin-a', 'org-a');
  adminB = await q.token('org_admin', 'admin-b', 'org-b');
  coordA = await q.token('coordinator', 'coord-a', 'org-a');
  mentorA1 = await q.token('mentor', 'm-a1', 'org-a');
});

afterAll(async () => {
  await q?.close();
  await env?.close();
});

const T = (clicks: number, uniqueClicks: number, installs: number, registrations: number, activations: number) => ({ clicks, uniqueClicks, installs, registrations, activations });
const C = (clickToRegistration: number | null, registrationToActivation: number | null, clickToActivation: number | null) => ({ clickToRegistration, registrationToActivation, clickToActivation });
const MARCH = 'from=2026-03-01&to=2026-03-31';

describe('compared with before', () => {
  it('referral-stats: a mentor against the previous range and the same dates a year earlier', async () => {
    const plain = await get(`/v1/mentors/m-a1/referral-stats?${MARCH}`, mentorA1);
    expect(plain.body).not.toHaveProperty('previous');

    const previous = await get(`/v1/mentors/m-a1/referral-stats?${MARCH}&compare=previous`, mentorA1);
    expect(previous.status).toBe(200);
    expect(previous.body.totals).toEqual(T(8, 6, 2, 3, 1));
    expect(previous.body.previous).toEqual({ from: '2026-01-29', to: '2026-02-28', orgFirstDay: '2023-02-28', totals: T(5, 3, 0, 1, 0), conversion: C(1 / 3, 0, 0) });

    const campaign = await get(`/v1/mentors/m-a1/referral-stats?${MARCH}&campaignId=spring&compare=previous`, mentorA1);
    expect(campaign.body.totals).toEqual(T(6, 4, 2, 2, 1));
    expect(campaign.body.previous.totals).toEqual(T(4, 2, 0, 1, 0));

    const year = await get(`/v1/mentors/m-a1/referral-stats?${MARCH}&granularity=week&compare=year`, mentorA1);
    expect(year.body.series).toHaveLength(6); // the series is the range's own, unchanged
    expect(year.body.previous).toEqual({ from: '2025-03-01', to: '2025-03-31', orgFirstDay: '2023-02-28', totals: T(3, 3, 0, 2, 1), conversion: C(2 / 3, 1 / 2, 1 / 3) });
  });

  it('org recruitment-summary: the whole organization before', async () => {
    const previous = await get(`/v1/orgs/org-a/recruitment-summary?${MARCH}&compare=previous`);
    expect(previous.status).toBe(200);
    expect(previous.body.totals).toEqual(T(14, 12, 2, 7, 4));
    expect(previous.body.previous).toEqual({ from: '2026-01-29', to: '2026-02-28', orgFirstDay: '2023-02-28', totals: T(8, 6, 0, 2, 1), conversion: C(1 / 3, 1 / 2, 1 / 6) });
    const year = await get(`/v1/orgs/org-a/recruitment-summary?${MARCH}&granularity=month&compare=year`);
    expect(year.body.previous.totals).toEqual(T(3, 3, 0, 2, 1)); // m-a3's 9 clicks fell on 1 April in Oslo
  });

  it("coordinator recruitment-summary: only the coordinator's mentors before", async () => {
    const { status, body } = await get(`/v1/coordinators/coord-a/recruitment-summary?${MARCH}&compare=previous`, coordA);
    expect(status).toBe(200);
    expect(body.totals).toEqual(T(11, 9, 2, 6, 4));
    expect(body.previous).toEqual({ from: '2026-01-29', to: '2026-02-28', orgFirstDay: '2023-02-28', totals: T(6, 4, 0, 2, 1), conversion: C(1 / 2, 1 / 2, 1 / 4) });
  });

  it('mentor-performance: each mentor with their own earlier numbers, null rates where there were none', async () => {
    const previous = await get(`/v1/coordinators/coord-a/mentor-performance?${MARCH}&compare=previous`, coordA);
    expect(previous.status).toBe(200);
    expect(previous.body.items.map((i: { mentorId: string; previous: unknown }) => [i.mentorId, i.previous])).toEqual([
      ['m-a1', { from: '2026-01-29', to: '2026-02-28', orgFirstDay: '2023-02-28', totals: T(5, 3, 0, 1, 0), conversion: C(1 / 3, 0, 0) }],
      ['m-a2', { from: '2026-01-29', to: '2026-02-28', orgFirstDay: '2023-02-28', totals: T(1, 1, 0, 1, 1), conversion: C(1, 1, 1) }],
    ]);
    const year = await get(`/v1/coordinators/coord-a/mentor-performance?${MARCH}&compare=year`, coordA);
    expect(year.body.items.map((i: { mentorId: string; previous: { totals: unknown; conversion: unknown } }) => [i.mentorId, i.previous.totals, i.previous.conversion])).toEqual([
      ['m-a1', T(3, 3, 0, 2, 1), C(2 / 3, 1 / 2, 1 / 3)],
      ['m-a2', T(0, 0, 0, 0, 0), C(null, null, null)],
    ]);
    const plain = await get(`/v1/coordinators/coord-a/mentor-performance?${MARCH}`, coordA);
    expect(plain.body.items.every((i: object) => !('previous' in i))).toBe(true);
  });

  it('an earlier range with no activity has null rates, and begins before the organization had any', async () => {
    const { status, body } = await get('/v1/orgs/org-b/recruitment-summary?from=2026-03-09&to=2026-03-15&compare=previous', adminB);
    expect(status).toBe(200);
    expect(body.totals).toEqual(T(12, 12, 0, 3, 0));
    expect(body.previous).toEqual({ from: '2026-03-02', to: '2026-03-08', orgFirstDay: '2026-03-09', totals: T(0, 0, 0, 0, 0), conversion: C(null, null, null) });
  });

  it('compare=year across a leap day: 29 February becomes 28 February, a whole February stays whole', async () => {
    const leapDay = await get('/v1/mentors/m-a1/referral-stats?from=2024-02-29&to=2024-02-29&compare=year', mentorA1);
    expect(leapDay.body.totals).toEqual(T(2, 2, 0, 1, 0));
    expect(leapDay.body.previous).toMatchObject({ from: '2023-02-28', to: '2023-02-28', totals: T(1, 1, 0, 1, 1) });
    const leapFebruary = await get('/v1/mentors/m-a1/referral-stats?from=2024-02-01&to=2024-02-29&compare=year', mentorA1);
    expect(leapFebruary.body.previous).toMatchObject({ from: '2023-02-01', to: '2023-02-28', totals: T(1, 1, 0, 1, 1) }); // not 1 March 2023's 7 clicks
    const afterLeap = await get('/v1/mentors/m-a1/referral-stats?from=2025-02-01&to=2025-02-28&compare=year', mentorA1);
    expect(afterLeap.body.previous).toMatchObject({ from: '2024-02-01', to: '2024-02-29', totals: T(2, 2, 0, 1, 0) });
    const summary = await get('/v1/orgs/org-a/recruitment-summary?from=2024-03-01&to=2025-02-28&granularity=month&compare=year');
    expect(summary.body.previous).toMatchObject({ from: '2023-03-01', to: '2024-02-29', totals: T(9, 9, 0, 1, 0) });
  });

  it('a bad compare is a 400 naming compare, on every route that takes it', async () => {
    const routes: [string, string][] = [
      ['/v1/mentors/m-a1/referral-stats', mentorA1], ['/v1/orgs/org-a/recruitment-summary', adminA],
      ['/v1/coordinators/coord-a/recruitment-summary', coordA], ['/v1/coordinators/coord-a/mentor-performance', coordA],
    ];
    for (const [path, token] of routes) {
      for (const bad of ['last', 'YEAR', '', '1', 'previous,year']) {
        const { status, body } = await get(`${path}?compare=${encodeURIComponent(bad)}`, token);
        expect([path, bad, status]).toEqual([path, bad, 400]);
        expect(body.error.code).toBe('invalid_parameter');
        expect(body.error.message).toMatch(/^compare: /);
      }
    }
  });
});
