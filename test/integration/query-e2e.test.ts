import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startPipeline } from '../support/workers.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';

/**
 * Events published to Kafka, through the ingest worker and the aggregator, read back through
 * the API by every role, with the numbers worked out by hand:
 *
 *   e-m1 (link e-l1, campaign launch): clicks c1 (device d1; delivered twice), c2 (d2),
 *     c3 (d1 again the same day: not unique), a link-preview fetch (never counted);
 *     install i1 (d1, via the link); registration of u1 (via the link); u1 logs in twice;
 *     the mentor registering through their own link (not counted).
 *     => clicks 3, unique 2, installs 1, registrations 1, activations 1
 *   e-m2 (link e-l2, no campaign): click c5 (d3); install i2 (d3, no link: the device's
 *     last click); registration of u3 (no link: device d3); a login before registering
 *     (not an activation) and one after.
 *     => clicks 1, unique 1, installs 1, registrations 1, activations 1
 */
let env: TestEnv;
let producer: EventProducer;
let pipeline: Awaited<ReturnType<typeof startPipeline>>;
let q: QueryApp;

const at = (hhmm: string) => Date.parse(`2026-04-10T${hhmm}:00Z`);
const browser = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
const visitor = (deviceId: string | null, userAgent = browser) => ({ ip: '198.51.100.7', userAgent, deviceId, platform: 'IOS' as const, referrer: null, locale: 'nb-NO' });
const T = (clicks: number, uniqueClicks: number, installs: number, registrations: number, activations: number) => ({ clicks, uniqueClicks, installs, registrations, activations });
const range = 'from=2026-04-01&to=2026-04-30';

async function get(url: string, token: string) {
  const res = await q.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  env = await createTestEnv('query_e2e');
  producer = createEventProducer(env);
  await producer.connect();
  await producer.send('inviteLinks', [
    { linkId: 'e-l1', orgId: 'org-e', mentorId: 'e-m1', campaignId: 'launch', createdAt: at('08:00'), expiresAt: null, revokedAt: null },
    { linkId: 'e-l2', orgId: 'org-e', mentorId: 'e-m2', campaignId: null, createdAt: at('08:00'), expiresAt: null, revokedAt: null },
  ]);
  await producer.send('coordinatorScopes', [{ orgId: 'org-e', coordinatorId: 'e-c1', mentorIds: ['e-m1'], updatedAt: at('08:00') }]);
  const c1 = { eventId: 'c1', linkId: 'e-l1', occurredAt: at('10:00'), visitor: visitor('d1') };
  await producer.send('inviteClicks', [
    c1,
    { eventId: 'c2', linkId: 'e-l1', occurredAt: at('10:05'), visitor: visitor('d2') },
    { eventId: 'c3', linkId: 'e-l1', occurredAt: at('10:10'), visitor: visitor('d1') },
    { eventId: 'c4', linkId: 'e-l1', occurredAt: at('10:11'), visitor: visitor(null, 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)') },
    { eventId: 'c5', linkId: 'e-l2', occurredAt: at('11:00'), visitor: visitor('d3') },
    c1,
  ]);
  await producer.send('appInstalls', [
    { eventId: 'i1', deviceId: 'd1', linkId: 'e-l1', platform: 'IOS', occurredAt: at('10:20') },
    { eventId: 'i2', deviceId: 'd3', linkId: null, platform: 'ANDROID', occurredAt: at('11:10') },
  ]);
  await producer.send('userRegistered', [
    { eventId: 'r1', userId: 'u1', orgId: 'org-e', linkId: 'e-l1', deviceId: 'd1', displayName: 'Ada', occurredAt: at('10:30') },
    { eventId: 'r2', userId: 'u3', orgId: 'org-e', linkId: null, deviceId: 'd3', displayName: 'Bo', occurredAt: at('11:20') },
    { eventId: 'r3', userId: 'e-m1', orgId: 'org-e', linkId: 'e-l1', deviceId: null, displayName: 'The mentor', occurredAt: at('10:40') },
  ]);
  await producer.send('userLogins', [
    { eventId: 'g1', userId: 'u1', occurredAt: at('11:00') },
    { eventId: 'g2', userId: 'u1', occurredAt: at('12:00') },
    { eventId: 'g3', userId: 'u3', occurredAt: at('11:15') },
    { eventId: 'g4', userId: 'u3', occurredAt: at('11:30') },
  ]);
  pipeline = await startPipeline(env);
  await pipeline.settled();
  // The webhook click below is dated in April, as the rest of this scenario.
  q = await startQueryApp(env, { config: { http: { ...env.config.http, webhookMaxEventAgeHours: 24 * 365 * 100 } } });
}, 240_000);

afterAll(async () => {
  await q?.close();
  await pipeline?.stop();
  await producer?.disconnect();
  await env?.close();
});

describe('end to end: Kafka to the API, for every role', () => {
  it('a mentor reads their own funnel, recruits and conversions', async () => {
    const token = await q.token('mentor', 'e-m1', 'org-e');
    const stats = await get(`/v1/mentors/e-m1/referral-stats?${range}&granularity=month`, token);
    expect(stats.body.totals).toEqual(T(3, 2, 1, 1, 1));
    expect(stats.body.series).toEqual([{ periodStart: '2026-04-01', ...T(3, 2, 1, 1, 1) }]);
    const recruits = await get('/v1/mentors/e-m1/recruits', token);
    expect(recruits.body.items).toEqual([
      {
        referralId: expect.any(String), userId: 'u1', displayName: 'Ada', linkId: 'e-l1', campaignId: 'launch', stage: 'ACTIVATED',
        clickedAt: '2026-04-10T10:10:00.000Z', // the device's last click before registering (last touch)
        installedAt: '2026-04-10T10:20:00.000Z', registeredAt: '2026-04-10T10:30:00.000Z', activatedAt: '2026-04-10T11:00:00.000Z',
      },
    ]);
    expect((await get('/v1/conversions/u1', token)).body).toMatchObject({ userId: 'u1', mentorId: 'e-m1', mentorName: 'The mentor', attributedBy: 'LINK', campaignId: 'launch' });
    expect((await get('/v1/conversions/u3', token)).status).toBe(404);
    expect((await get(`/v1/mentors/e-m2/referral-stats?${range}`, token)).status).toBe(404);
  });

  it('a coordinator reads the mentors of their scope only', async () => {
    const token = await q.token('coordinator', 'e-c1', 'org-e');
    const perf = await get(`/v1/coordinators/e-c1/mentor-performance?${range}`, token);
    expect(perf.body.items).toEqual([{ mentorId: 'e-m1', mentorName: 'The mentor', totals: T(3, 2, 1, 1, 1), conversion: { clickToRegistration: 0.5, registrationToActivation: 1, clickToActivation: 0.5 }, rank: 1 }]);
    expect((await get(`/v1/mentors/e-m2/referral-stats?${range}`, token)).status).toBe(404);
  });

  it('an org admin reads the whole organization', async () => {
    const token = await q.token('org_admin', 'e-admin', 'org-e');
    const summary = await get(`/v1/orgs/org-e/recruitment-summary?${range}&granularity=month`, token);
    expect(summary.body.totals).toEqual(T(4, 3, 2, 2, 2));
    expect(summary.body.topMentors.map((m: { mentorId: string; totals: unknown }) => [m.mentorId, m.totals])).toEqual([['e-m1', T(3, 2, 1, 1, 1)], ['e-m2', T(1, 1, 1, 1, 1)]]);
    expect(summary.body.campaigns.map((c: { campaignId: string | null }) => c.campaignId)).toEqual(['launch', null]);
    const referrals = await get('/v1/orgs/org-e/referrals', token);
    expect(referrals.body.items.map((r: { userId: string; mentorId: string; stage: string }) => [r.userId, r.mentorId, r.stage])).toEqual([['u3', 'e-m2', 'ACTIVATED'], ['u1', 'e-m1', 'ACTIVATED']]);
    expect((await get('/v1/conversions/u3', token)).body).toMatchObject({ mentorId: 'e-m2', attributedBy: 'DEVICE', campaignId: null, linkId: 'e-l2' });
    expect((await get('/v1/mentors/e-m2/annual-summary?year=2026', token)).body).toEqual({ mentorId: 'e-m2', mentorName: null, year: 2026, from: '2026-01-01', to: '2026-12-31', timezone: 'Europe/Oslo', totals: T(1, 1, 1, 1, 1), recruits: 1, rankInOrg: 1, percentileInOrg: 1 });
  });

  it('a platform admin reads every organization', async () => {
    const token = await q.token('platform_admin', 'root');
    const growth = await get(`/v1/platform/growth?${range}&granularity=month`, token);
    expect(growth.body.organizations).toEqual([{ orgId: 'org-e', timezone: 'Europe/Oslo', totals: T(4, 3, 2, 2, 2), conversion: { clickToRegistration: 2 / 3, registrationToActivation: 1, clickToActivation: 2 / 3 }, series: [{ periodStart: '2026-04-01', ...T(4, 3, 2, 2, 2) }] }]);
  });

  it('a service posts a click through the webhook, and it reaches the numbers', async () => {
    const token = await q.token('service', 'redirector', 'org-e');
    const click = { eventId: 'c6', linkId: 'e-l2', occurredAt: '2026-04-10T13:00:00Z', visitor: { deviceId: 'd4', userAgent: browser } };
    for (let i = 0; i < 2; i++) {
      const res = await q.app.inject({ method: 'POST', url: '/v1/events/invite-clicks', headers: { authorization: `Bearer ${token}` }, payload: click });
      expect(res.statusCode).toBe(202);
    }
    await pipeline.settled();
    const admin = await q.token('org_admin', 'e-admin', 'org-e');
    expect((await get(`/v1/mentors/e-m2/referral-stats?${range}`, admin)).body.totals).toEqual(T(2, 2, 1, 1, 1));
  });
});
