import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startPipeline } from '../support/workers.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';

/**
 * Attribution is per organization (SPEC §4), read through the API: a person who joins two
 * organizations is a recruit of each, and one tenant's producer (here an org-bound service
 * token on the webhook) cannot move or delete another tenant's recruit, whatever it posts.
 * The scenario of the issue: B's recruit registered ten hours ago; A's producer posts a
 * registration of the same user 70 hours ago, once with an org-A link and once with none.
 */
let env: TestEnv;
let producer: EventProducer;
let pipeline: Awaited<ReturnType<typeof startPipeline>>;
let q: QueryApp;

const HOUR = 3600_000;
const now = Date.now();

async function get(url: string, token: string) {
  const res = await q.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, body: res.json() };
}

async function post(url: string, token: string, payload: object) {
  const res = await q.app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${token}` }, payload });
  return { status: res.statusCode, body: res.json() };
}

beforeAll(async () => {
  env = await createTestEnv('conversions_per_org');
  producer = createEventProducer(env);
  await producer.connect();
  await producer.send('inviteLinks', [
    { linkId: 'po-la', orgId: 'org-pa', mentorId: 'po-ma', campaignId: 'a-spring', createdAt: now - 240 * HOUR, expiresAt: null, revokedAt: null },
    { linkId: 'po-lb', orgId: 'org-pb', mentorId: 'po-mb', campaignId: null, createdAt: now - 240 * HOUR, expiresAt: null, revokedAt: null },
  ]);
  await producer.send('userRegistered', [
    { eventId: 'po-r1', userId: 'po-u1', orgId: 'org-pb', linkId: 'po-lb', deviceId: null, displayName: 'Kari', occurredAt: now - 10 * HOUR },
    { eventId: 'po-r2', userId: 'po-u2', orgId: 'org-pb', linkId: 'po-lb', deviceId: null, displayName: 'Ola', occurredAt: now - 10 * HOUR },
  ]);
  pipeline = await startPipeline(env);
  q = await startQueryApp(env);
  await pipeline.settled();
});

afterAll(async () => {
  await q?.close();
  await pipeline?.stop();
  await producer?.disconnect();
  await env?.close();
});

describe('conversions per organization', () => {
  it("an org-bound producer registering B's recruits in its own organization leaves B's numbers and records as they were", async () => {
    const adminB = await q.token('org_admin', 'admin-b', 'org-pb');
    const adminA = await q.token('org_admin', 'admin-a', 'org-pa');
    const serviceA = await q.token('service', 'producer-a', null, ['org-pa']);
    const before = await get('/v1/conversions/po-u1', adminB);
    expect(before).toEqual({ status: 200, body: expect.objectContaining({ userId: 'po-u1', orgId: 'org-pb', mentorId: 'po-mb', linkId: 'po-lb', attributedBy: 'LINK' }) });
    const summaryRes = await get('/v1/orgs/org-pb/recruitment-summary?from=2025-01-01&to=2027-12-31&granularity=year', adminB);
    expect(summaryRes.status, JSON.stringify(summaryRes.body)).toBe(200);
    const summaryBefore = summaryRes.body.totals;
    expect(summaryBefore.registrations).toBe(2);

    const at = new Date(now - 70 * HOUR).toISOString();
    expect((await post('/v1/events/registrations', serviceA, { eventId: 'po-x1', userId: 'po-u1', orgId: 'org-pa', linkId: 'po-la', occurredAt: at })).status).toBe(202);
    expect((await post('/v1/events/registrations', serviceA, { eventId: 'po-x2', userId: 'po-u2', orgId: 'org-pa', occurredAt: at })).status).toBe(202);
    await pipeline.settled();

    expect(await get('/v1/conversions/po-u1', adminB)).toEqual(before);
    expect((await get('/v1/conversions/po-u2', adminB)).body).toMatchObject({ orgId: 'org-pb', mentorId: 'po-mb' });
    expect((await get('/v1/orgs/org-pb/recruitment-summary?from=2025-01-01&to=2027-12-31&granularity=year', adminB)).body.totals).toEqual(summaryBefore);
    // In A, the same person is A's recruit through A's link; without a link or device, nobody's.
    expect((await get('/v1/conversions/po-u1', adminA)).body).toMatchObject({
      orgId: 'org-pa', mentorId: 'po-ma', linkId: 'po-la', campaignId: 'a-spring',
      explanation: { rule: 'LINK', winner: { eventId: 'po-x1', kind: 'REGISTRATION', linkId: 'po-la' }, candidates: [{ eventId: 'po-x1', outcome: 'WON', mentorId: 'po-ma' }] },
    });
    expect((await get('/v1/conversions/po-u2', adminA)).status).toBe(404);
  });

  it('orgId picks the organization; a caller asking for another organization than its own is answered 404', async () => {
    const platform = await q.token('platform_admin', 'root', null);
    expect((await get('/v1/conversions/po-u1?orgId=org-pa', platform)).body).toMatchObject({ orgId: 'org-pa', mentorId: 'po-ma' });
    expect((await get('/v1/conversions/po-u1?orgId=org-pb', platform)).body).toMatchObject({ orgId: 'org-pb', mentorId: 'po-mb' });
    // Without an org (a platform admin's token names none): the organization the user joined first.
    expect((await get('/v1/conversions/po-u1', platform)).body).toMatchObject({ orgId: 'org-pa' });
    expect((await get('/v1/conversions/po-u1?orgId=org-pb', await q.token('org_admin', 'admin-a', 'org-pa'))).status).toBe(404);
    expect((await get('/v1/conversions/po-u1?orgId=org-pa', await q.token('mentor', 'po-mb', 'org-pb'))).status).toBe(404);
    expect((await get('/v1/conversions/po-u1', await q.token('mentor', 'po-mb', 'org-pb'))).body).toMatchObject({ orgId: 'org-pb' });
    const bad = await get('/v1/conversions/po-u1?orgId=', platform);
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/orgId/);
  });

  it('explains a device attribution: the winning touch, and why every other touch of the device lost, without revealing another organization', async () => {
    const ua = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';
    const visitor = (userAgent = ua) => ({ ip: '198.51.100.9', userAgent, deviceId: 'po-d3', platform: 'IOS' as const, referrer: null, locale: null });
    await producer.send('inviteLinks', [{ linkId: 'po-la2', orgId: 'org-pa', mentorId: 'po-ma2', campaignId: null, createdAt: now - 240 * HOUR, expiresAt: null, revokedAt: null }]);
    await producer.send('inviteClicks', [
      { eventId: 'po-c1', linkId: 'po-la2', occurredAt: now - 30 * HOUR, visitor: visitor() },
      { eventId: 'po-c2', linkId: 'po-la', occurredAt: now - 20 * HOUR, visitor: visitor() },
      { eventId: 'po-c3', linkId: 'po-lb', occurredAt: now - 15 * HOUR, visitor: visitor() },
      { eventId: 'po-c4', linkId: 'po-la2', occurredAt: now - 14 * HOUR, visitor: visitor('facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)') },
      { eventId: 'po-c5', linkId: 'po-la2', occurredAt: now - 2 * HOUR, visitor: visitor() },
    ]);
    await producer.send('userRegistered', [{ eventId: 'po-r3', userId: 'po-u3', orgId: 'org-pa', linkId: null, deviceId: 'po-d3', displayName: 'Per', occurredAt: now - 10 * HOUR }]);
    await pipeline.settled();
    const { status, body } = await get('/v1/conversions/po-u3', await q.token('org_admin', 'admin-a', 'org-pa'));
    expect(status).toBe(200);
    expect(body).toMatchObject({ mentorId: 'po-ma', attributedBy: 'DEVICE' });
    expect(body.explanation.rule).toBe('DEVICE');
    expect(body.explanation.winner).toEqual({ eventId: 'po-c2', kind: 'CLICK', linkId: 'po-la', occurredAt: new Date(now - 20 * HOUR).toISOString() });
    expect(body.explanation.windowTo).toBe(new Date(now - 10 * HOUR).toISOString());
    expect(body.explanation.candidates.map((c: { eventId: string; outcome: string; reason: string | null; linkId: string | null; mentorId: string | null }) => [c.eventId, c.outcome, c.reason, c.linkId, c.mentorId])).toEqual([
      ['po-c5', 'OUTSIDE_WINDOW', null, 'po-la2', 'po-ma2'],
      ['po-c4', 'NOT_COUNTED', 'bot', 'po-la2', 'po-ma2'],
      ['po-c3', 'OTHER_ORG', null, null, null], // B's link and mentor are not A's to see
      ['po-c2', 'WON', null, 'po-la', 'po-ma'],
      ['po-c1', 'EARLIER_TOUCH', null, 'po-la2', 'po-ma2'],
    ]);
    // A mentor sees their own recruit's explanation, but not which other mentor's touches lost.
    const mentor = await get('/v1/conversions/po-u3', await q.token('mentor', 'po-ma', 'org-pa'));
    expect(mentor.body.explanation.candidates.find((c: { eventId: string }) => c.eventId === 'po-c1')).toMatchObject({ outcome: 'EARLIER_TOUCH', linkId: null, mentorId: null, mentorName: null });
  });
  it('lists at most the newest 100 touches in the window, the winner and the nearest 20 outside on each side of a device with many, and counts the rest', async () => {
    const bot = 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)';
    const visitor = (userAgent: string | null = null) => ({ ip: null, userAgent, deviceId: 'po-d4', platform: 'IOS' as const, referrer: null, locale: null });
    const DAY = 24 * HOUR;
    const registeredAt = now - 40 * DAY;
    const click = (eventId: string, occurredAt: number, userAgent: string | null = null) => ({ eventId, linkId: 'po-la2', occurredAt, visitor: visitor(userAgent) });
    await producer.send('inviteClicks', [
      // The touch that wins, 20 days before the registration, then 130 bots' clicks after it, 30 clicks after the registration, 25 before the window.
      { ...click('po-w', registeredAt - 20 * DAY), linkId: 'po-la' },
      ...Array.from({ length: 130 }, (_, i) => click(`po-bot-${String(i).padStart(3, '0')}`, registeredAt - 10 * DAY + i * 60_000, bot)),
      ...Array.from({ length: 30 }, (_, i) => click(`po-late-${String(i).padStart(2, '0')}`, registeredAt + HOUR + i * 60_000)),
      ...Array.from({ length: 25 }, (_, i) => click(`po-early-${String(i).padStart(2, '0')}`, registeredAt - 31 * DAY - i * 60_000)),
    ]);
    await producer.send('userRegistered', [{ eventId: 'po-r4', userId: 'po-u4', orgId: 'org-pa', linkId: null, deviceId: 'po-d4', displayName: 'Siri', occurredAt: registeredAt }]);
    await pipeline.settled();
    const { status, body } = await get('/v1/conversions/po-u4', await q.token('org_admin', 'admin-a', 'org-pa'));
    expect(status).toBe(200);
    expect(body).toMatchObject({ mentorId: 'po-ma', attributedBy: 'DEVICE', explanation: { rule: 'DEVICE', winner: { eventId: 'po-w' }, candidatesOmitted: 45 } });
    const outcomes: Record<string, number> = {};
    for (const c of body.explanation.candidates as { outcome: string }[]) outcomes[c.outcome] = (outcomes[c.outcome] ?? 0) + 1;
    expect(outcomes).toEqual({ OUTSIDE_WINDOW: 40, NOT_COUNTED: 100, WON: 1 });
    const ids = (body.explanation.candidates as { eventId: string }[]).map((c) => c.eventId);
    // The nearest outside: the first 20 after the registration, the last 20 before the window; the newest 100 bots.
    expect(ids.filter((id) => id.startsWith('po-late-'))).toEqual(Array.from({ length: 20 }, (_, i) => `po-late-${String(19 - i).padStart(2, '0')}`));
    expect(ids.filter((id) => id.startsWith('po-early-'))).toEqual(Array.from({ length: 20 }, (_, i) => `po-early-${String(i).padStart(2, '0')}`));
    expect(ids.filter((id) => id.startsWith('po-bot-'))).toEqual(Array.from({ length: 100 }, (_, i) => `po-bot-${String(129 - i).padStart(3, '0')}`));
  });
});
