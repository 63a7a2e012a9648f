import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startPipeline } from '../support/workers.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';

/**
 * Mentors by name (SPEC §5 `mentorName`) through the real pipeline: events on Kafka, the ingest
 * worker and the aggregator, read back through the API. A mentor is a member; their name is the
 * display name of their own earliest registration in the organization, whatever order the
 * events arrive in:
 *
 *   n-early  registers in org-na ("Kari Early") before their link is published
 *   n-late   has links and a recruit first; registers later ("Late Second", 12:00), and later
 *            still an earlier registration of theirs arrives ("Late First", 09:00): it wins
 *   n-gone   registered ("Gone Person"), then erased: null
 *   n-ef     erased first, registered after ("Never Shown"): null
 *   n-two    a member of two organizations under two names: "Two A" in org-na, "Two B" in org-nb
 *
 * Each mentor has one recruit in org-na (n-two one in each organization); coordinator coord-n
 * oversees n-early, n-late and n-gone; n-two and n-ef are outside the scope.
 */
let env: TestEnv;
let producer: EventProducer;
let pipeline: Awaited<ReturnType<typeof startPipeline>>;
let q: QueryApp;

const at = (day: number, hhmm: string) => Date.parse(`2026-04-${String(day).padStart(2, '0')}T${hhmm}:00Z`);
const range = 'from=2026-04-01&to=2026-04-30';
const link = (linkId: string, orgId: string, mentorId: string) => ({ linkId, orgId, mentorId, campaignId: null, createdAt: at(1, '08:00'), expiresAt: null, revokedAt: null });
const reg = (eventId: string, userId: string, orgId: string, displayName: string, occurredAt: number, linkId: string | null = null) =>
  ({ eventId, userId, orgId, linkId, deviceId: null, displayName, occurredAt });
const erase = (eventId: string, userId: string, occurredAt: number) => ({ eventId, userId, orgId: 'org-na', occurredAt });

async function get(url: string, token: string) {
  const res = await q.app.inject({ url, headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
  return res.json();
}

/** Every answer naming a mentor of org-na, as mentorId → mentorName per route (each must agree). */
async function namesInOrgA(): Promise<Record<string, string | null>> {
  const admin = await q.token('org_admin', 'admin-na', 'org-na');
  const coordinator = await q.token('coordinator', 'coord-n', 'org-na');
  const summary = await get(`/v1/orgs/org-na/recruitment-summary?${range}`, admin);
  const referrals = await get('/v1/orgs/org-na/referrals?limit=200', admin);
  const perf = await get(`/v1/coordinators/coord-n/mentor-performance?${range}`, coordinator);
  const names: Record<string, string | null> = {};
  const note = (where: string, mentorId: string, mentorName: string | null) => {
    if (mentorId in names) expect([where, mentorId, mentorName]).toEqual([where, mentorId, names[mentorId]]);
    names[mentorId] = mentorName;
  };
  for (const m of summary.topMentors) note('topMentors', m.mentorId, m.mentorName);
  for (const r of referrals.items) note('referrals', r.mentorId, r.mentorName);
  for (const m of perf.items) note('mentor-performance', m.mentorId, m.mentorName);
  for (const mentorId of Object.keys(names)) {
    note('referral-stats', mentorId, (await get(`/v1/mentors/${mentorId}/referral-stats?${range}`, admin)).mentorName);
    note('annual-summary', mentorId, (await get(`/v1/mentors/${mentorId}/annual-summary?year=2026`, admin)).mentorName);
    note('conversion', mentorId, (await get(`/v1/conversions/rec-${mentorId}`, admin)).mentorName);
  }
  return names;
}

beforeAll(async () => {
  env = await createTestEnv('mentor_names');
  producer = createEventProducer(env);
  await producer.connect();
  // n-early's registration is on Kafka before any link of theirs.
  await producer.send('userRegistered', [reg('reg-early', 'n-early', 'org-na', 'Kari Early', at(2, '09:00'))]);
  await producer.send('inviteLinks', [
    link('l-early', 'org-na', 'n-early'), link('l-late', 'org-na', 'n-late'), link('l-gone', 'org-na', 'n-gone'), link('l-ef', 'org-na', 'n-ef'),
    link('l-two-a', 'org-na', 'n-two'), link('l-two-b', 'org-nb', 'n-two'),
  ]);
  await producer.send('coordinatorScopes', [{ orgId: 'org-na', coordinatorId: 'coord-n', mentorIds: ['n-early', 'n-late', 'n-gone'], updatedAt: at(1, '08:00') }]);
  await producer.send('userRegistered', [
    ...['n-early', 'n-late', 'n-gone', 'n-ef', 'n-two'].map((m) => reg(`reg-rec-${m}`, `rec-${m}`, 'org-na', `Recruit of ${m}`, at(5, '10:00'), `l-${m.slice(2)}${m === 'n-two' ? '-a' : ''}`)),
    reg('reg-rec-n-two-b', 'rec-n-two-b', 'org-nb', 'Recruit in B', at(5, '10:00'), 'l-two-b'),
    reg('reg-gone', 'n-gone', 'org-na', 'Gone Person', at(2, '09:00')),
    reg('reg-two-a', 'n-two', 'org-na', 'Two A', at(2, '09:00')),
    reg('reg-two-b', 'n-two', 'org-nb', 'Two B', at(3, '09:00')),
  ]);
  await producer.send('userErasures', [erase('erase-ef', 'n-ef', at(6, '08:00'))]);
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

describe('mentor names through the pipeline', () => {
  it('names follow registrations and erasures in any order, the same in every answer', async () => {
    expect(await namesInOrgA()).toEqual({ 'n-early': 'Kari Early', 'n-late': null, 'n-gone': 'Gone Person', 'n-ef': null, 'n-two': 'Two A' });

    // n-late registers after their link and recruit; n-gone is erased; n-ef registers after their erasure.
    await producer.send('userRegistered', [reg('reg-late-2', 'n-late', 'org-na', 'Late Second', at(8, '12:00')), reg('reg-ef', 'n-ef', 'org-na', 'Never Shown', at(8, '12:00'))]);
    await producer.send('userErasures', [erase('erase-gone', 'n-gone', at(8, '12:00'))]);
    await pipeline.settled();
    expect(await namesInOrgA()).toEqual({ 'n-early': 'Kari Early', 'n-late': 'Late Second', 'n-gone': null, 'n-ef': null, 'n-two': 'Two A' });

    // An earlier registration of n-late arrives last: the earliest is their name.
    await producer.send('userRegistered', [reg('reg-late-1', 'n-late', 'org-na', 'Late First', at(8, '09:00'))]);
    await pipeline.settled();
    expect((await namesInOrgA())['n-late']).toBe('Late First');
  });

  it('a mentor of two organizations is named in each by their registration there, and only there', async () => {
    const adminB = await q.token('org_admin', 'admin-nb', 'org-nb');
    const summary = await get(`/v1/orgs/org-nb/recruitment-summary?${range}`, adminB);
    expect(summary.topMentors.map((m: { mentorId: string; mentorName: string | null }) => [m.mentorId, m.mentorName])).toEqual([['n-two', 'Two B']]);
    expect((await get('/v1/orgs/org-nb/referrals', adminB)).items.map((r: { userId: string; mentorName: string | null }) => [r.userId, r.mentorName])).toEqual([['rec-n-two-b', 'Two B']]);
    expect((await get('/v1/mentors/n-two/referral-stats', adminB)).mentorName).toBe('Two B');
    expect((await get('/v1/conversions/rec-n-two-b', adminB)).mentorName).toBe('Two B');
    const adminA = await q.token('org_admin', 'admin-na', 'org-na');
    expect((await get('/v1/mentors/n-two/annual-summary?year=2026', adminA)).mentorName).toBe('Two A');
  });

  it("a coordinator reads the names of their scope's mentors only", async () => {
    const coordinator = await q.token('coordinator', 'coord-n', 'org-na');
    const perf = await get(`/v1/coordinators/coord-n/mentor-performance?${range}`, coordinator);
    expect(perf.items.map((m: { mentorId: string }) => m.mentorId).sort()).toEqual(['n-early', 'n-gone', 'n-late']);
    const scope = await get(`/v1/coordinators/coord-n/recruitment-summary?${range}`, coordinator);
    expect(scope.totals.registrations).toBe(3);
    const outside = await q.app.inject({ url: `/v1/mentors/n-two/referral-stats?${range}`, headers: { authorization: `Bearer ${coordinator}` } });
    expect(outside.statusCode).toBe(404);
    expect(outside.body).not.toContain('Two A');
    expect(JSON.stringify([perf, scope])).not.toMatch(/Two A|Two B/);
  });
});
