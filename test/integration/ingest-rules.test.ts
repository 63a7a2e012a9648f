import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startIngestWorker, waitForCatchUp } from '../support/workers.js';
import { readTopic } from '../support/kafka.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import { INPUT_TOPICS } from '../../libs/events/topics.js';
import type { InviteClicked, InviteLink, UserRegistered } from '../../libs/events/types.generated.js';
import { FIXTURES } from '../../libs/events/fixtures.js';
import { visitorHash } from '../../libs/domain/visitor.js';

const DAY = 24 * 3600 * 1000;
const T0 = Date.UTC(2026, 3, 10, 12);
const HUMAN = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36';

let env: TestEnv;
let producer: EventProducer;
let ingest: Awaited<ReturnType<typeof startIngestWorker>>;
let seq = 0;

beforeAll(async () => {
  env = await createTestEnv('ingest_rules');
  producer = createEventProducer(env);
  await producer.connect();
  ingest = await startIngestWorker(env);
});

afterAll(async () => {
  await ingest?.stop();
  await producer?.disconnect();
  await env?.close();
});

const settle = () => waitForCatchUp(env.kafka, env.group('ingest'), INPUT_TOPICS.map((t) => env.topics[t]));
const link = (id: string, extra: Partial<InviteLink> = {}): InviteLink => ({
  linkId: id, orgId: 'org_a', mentorId: `mentor_${id}`, campaignId: 'cmp_1', createdAt: T0 - 30 * DAY, expiresAt: null, revokedAt: null, ...extra,
});
const click = (linkId: string, at: number, visitor: InviteClicked['visitor'] = {}, eventId = `clk_${++seq}`): InviteClicked => ({
  eventId, linkId, occurredAt: at, visitor: { userAgent: HUMAN, ip: '198.51.100.23', ...visitor },
});
const reg = (userId: string, at: number, extra: Partial<UserRegistered> = {}): UserRegistered => ({
  eventId: `reg_${++seq}`, userId, orgId: 'org_a', linkId: null, deviceId: null, displayName: `Name ${userId}`, occurredAt: at, ...extra,
});
const rows = async (sql: string, params: unknown[] = []) => (await env.db.raw<{ rows: Record<string, unknown>[] }>(sql, params as never)).rows;
/** Net funnel events per stage on a link (a retraction cancels its event). */
const stages = async (linkId: string) =>
  Object.fromEntries(
    (await rows('select stage, sum(case when retracts_event_id is null then 1 else -1 end)::int n from referral_trackings where link_id = ? group by 1 having sum(case when retracts_event_id is null then 1 else -1 end) <> 0', [linkId])).map((r) => [r.stage, r.n]),
  );
const uniques = async (linkId: string) =>
  (await rows("select coalesce(sum(case when retracts_event_id is null then 1 else -1 end), 0)::int n from referral_trackings where link_id = ? and stage = 'CLICKED' and unique_visitor", [linkId]))[0]?.n;

describe('ingest worker rules, through the real broker', () => {
  it('a click delivered three times with the same eventId is counted once', async () => {
    await producer.send('inviteLinks', [link('dup')]);
    const c = click('dup', T0);
    await producer.send('inviteClicks', [c, c]);
    await producer.send('inviteClicks', [c]);
    await settle();
    expect(await stages('dup')).toEqual({ CLICKED: 1 });
    expect(await rows("select count(*)::int n from clicks where link_id = 'dup'")).toEqual([{ n: 1 }]);
  });

  it('bots and link-preview fetchers are kept with a bot flag and never counted', async () => {
    await producer.send('inviteLinks', [link('bots')]);
    await producer.send('inviteClicks', [
      click('bots', T0, { userAgent: 'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)' }),
      click('bots', T0, { userAgent: 'WhatsApp/2.23.20.0 A' }),
      click('bots', T0, { userAgent: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' }),
      click('bots', T0, { userAgent: 'Googlebot/2.1 (+http://www.google.com/bot.html)' }),
      click('bots', T0, { userAgent: HUMAN }),
    ]);
    await settle();
    expect(await rows("select status, count(*)::int n from clicks where link_id = 'bots' group by 1 order by 1")).toEqual([
      { status: 'bot', n: 4 },
      { status: 'counted', n: 1 },
    ]);
    expect(await stages('bots')).toEqual({ CLICKED: 1 });
  });

  it('the same visitor twice in a day is one unique click; on the next UTC day, another', async () => {
    await producer.send('inviteLinks', [link('uniq')]);
    await producer.send('inviteClicks', [
      click('uniq', T0), click('uniq', T0 + 3600_000), // same ip + user agent, same day
      click('uniq', T0 + DAY), // next day
      click('uniq', T0, { deviceId: 'dev_u1' }), click('uniq', T0 + 60_000, { deviceId: 'dev_u1', ip: '192.0.2.9' }), // device wins over network
    ]);
    await settle();
    expect(await stages('uniq')).toEqual({ CLICKED: 5 });
    expect(await uniques('uniq')).toBe(3);
  });

  it('no raw IP address is written to Postgres', async () => {
    await settle();
    const dump = JSON.stringify(await rows('select * from clicks'));
    expect(dump).not.toContain('198.51.100.23');
    expect(dump).not.toContain('192.0.2.9');
  });

  it('clicks on revoked and expired links are rejected; clicks before revocation still count', async () => {
    await producer.send('inviteLinks', [link('revoked', { revokedAt: T0 }), link('expired', { expiresAt: T0 })]);
    await producer.send('inviteClicks', [
      click('revoked', T0 - DAY), click('revoked', T0 + 1000),
      click('expired', T0 - 1000), click('expired', T0 + DAY),
    ]);
    await settle();
    expect(await rows("select link_id, status, count(*)::int n from clicks where link_id in ('revoked','expired') group by 1, 2 order by 1, 2")).toEqual([
      { link_id: 'expired', status: 'counted', n: 1 },
      { link_id: 'expired', status: 'rejected', n: 1 },
      { link_id: 'revoked', status: 'counted', n: 1 },
      { link_id: 'revoked', status: 'rejected', n: 1 },
    ]);
  });

  it('a click and a registration whose link arrives later are counted when it arrives', async () => {
    await producer.send('inviteClicks', [click('late', T0)]);
    await producer.send('userRegistered', [reg('u_late', T0 + 600_000, { linkId: 'late' })]);
    await settle();
    expect(await stages('late')).toEqual({});
    expect(await rows("select status from registrations where user_id = 'u_late'")).toEqual([{ status: 'pending' }]);

    await producer.send('inviteLinks', [link('late')]);
    await settle();
    expect(await stages('late')).toEqual({ CLICKED: 1, REGISTERED: 1 });
    expect(await rows("select mentor_id, attributed_by from referrals where user_id = 'u_late'")).toEqual([{ mentor_id: 'mentor_late', attributed_by: 'LINK' }]);
  });

  it('a registration without a link goes to the last click from its device within the window, same org', async () => {
    await producer.send('inviteLinks', [link('dev_old'), link('dev_new'), link('dev_other_org', { orgId: 'org_b' })]);
    await producer.send('inviteClicks', [
      click('dev_old', T0 - 10 * DAY, { deviceId: 'dev_in' }),
      click('dev_new', T0 - 2 * DAY, { deviceId: 'dev_in' }),
      click('dev_other_org', T0 - DAY, { deviceId: 'dev_in' }),
      click('dev_old', T0 - 31 * DAY, { deviceId: 'dev_out' }),
    ]);
    await settle();
    await producer.send('userRegistered', [reg('u_dev_in', T0, { deviceId: 'dev_in' }), reg('u_dev_out', T0, { deviceId: 'dev_out' })]);
    await settle();
    expect(await rows("select user_id, link_id, attributed_by from referrals where user_id in ('u_dev_in', 'u_dev_out')")).toEqual([
      { user_id: 'u_dev_in', link_id: 'dev_new', attributed_by: 'DEVICE' },
    ]);
    expect(await rows("select status from registrations where user_id = 'u_dev_out'")).toEqual([{ status: 'unattributed' }]);
  });

  it('an install without a link goes to the last click from its device', async () => {
    await producer.send('inviteLinks', [link('inst')]);
    await producer.send('inviteClicks', [click('inst', T0 - 3600_000, { deviceId: 'dev_inst' })]);
    await settle();
    await producer.send('appInstalls', [{ eventId: `ins_${++seq}`, deviceId: 'dev_inst', linkId: null, platform: 'ANDROID', occurredAt: T0 }]);
    await settle();
    expect(await stages('inst')).toEqual({ CLICKED: 1, INSTALLED: 1 });
  });

  it("a reinstall is kept and is still a touch, but never counted as an install again, whichever install arrives first", async () => {
    await producer.send('inviteLinks', [link('re_first'), link('re_again')]);
    const earliest = { eventId: `ins_${++seq}`, deviceId: 'dev_re', linkId: 're_first', platform: 'ANDROID' as const, occurredAt: T0 };
    const again = { eventId: `ins_${++seq}`, deviceId: 'dev_re', linkId: 're_again', platform: 'ANDROID' as const, occurredAt: T0 + 5 * DAY };
    await producer.send('appInstalls', [again]);
    await settle();
    expect(await stages('re_again')).toEqual({ INSTALLED: 1 }); // the only install known so far
    await producer.send('appInstalls', [earliest]);
    await producer.send('userRegistered', [reg('u_re', T0 + 6 * DAY, { deviceId: 'dev_re' })]);
    await settle();
    expect(await stages('re_first')).toEqual({ INSTALLED: 1 });
    // The reinstall's INSTALLED is retracted, but it is the last touch of the device before the registration.
    expect(await stages('re_again')).toEqual({ REGISTERED: 1 });
    expect(await rows("select event_id, status, attributed_link_id from installs where device_id = 'dev_re' order by occurred_at")).toEqual([
      { event_id: earliest.eventId, status: 'counted', attributed_link_id: 're_first' },
      { event_id: again.eventId, status: 'reinstall', attributed_link_id: 're_again' },
    ]);
    expect(await rows("select link_id, attributed_by, installed_at from referrals where user_id = 'u_re'")).toEqual([
      { link_id: 're_again', attributed_by: 'DEVICE', installed_at: new Date(again.occurredAt) },
    ]);
    const metrics = await ingest.worker.metrics.registry.getSingleMetricAsString('ingest_reinstalls_total');
    expect(metrics).toMatch(/^ingest_reinstalls_total 1$/m);
  });

  it("org A's producer can no longer move or delete org B's recruit: attribution is per organization", async () => {
    await producer.send('inviteLinks', [link('pa_a'), link('pa_b', { orgId: 'org_b' })]);
    await producer.send('inviteClicks', [click('pa_a', T0 - 80 * 3600_000, { deviceId: 'dev_pa' })]);
    await producer.send('userRegistered', [reg('u_pa', T0, { orgId: 'org_b', linkId: 'pa_b', deviceId: 'dev_pa' })]);
    await settle();
    const recruitOfB = await rows("select org_id, mentor_id, link_id, attributed_by, registered_at from referrals where user_id = 'u_pa'");
    expect(recruitOfB).toEqual([{ org_id: 'org_b', mentor_id: 'mentor_pa_b', link_id: 'pa_b', attributed_by: 'LINK', registered_at: new Date(T0) }]);
    // Org A's producer writes about the same person, 70 hours earlier: once naming B's link, once naming its own, once naming none.
    await producer.send('userRegistered', [
      reg('u_pa', T0 - 70 * 3600_000, { orgId: 'org_a', linkId: 'pa_b', deviceId: 'dev_pa' }),
      reg('u_pa', T0 - 69 * 3600_000, { orgId: 'org_a', linkId: 'pa_a' }),
      reg('u_pa', T0 - 68 * 3600_000, { orgId: 'org_a', deviceId: 'dev_pa' }),
    ]);
    await settle();
    // B's recruit and numbers are untouched: no retraction was ever published for B's link.
    expect(await rows("select org_id, mentor_id, link_id, attributed_by, registered_at from referrals where user_id = 'u_pa' and org_id = 'org_b'")).toEqual(recruitOfB);
    expect(await stages('pa_b')).toEqual({ REGISTERED: 1 });
    expect(await rows("select count(*)::int n from referral_trackings where link_id = 'pa_b' and retracts_event_id is not null")).toEqual([{ n: 0 }]);
    // In A, its earliest registration decides: B's link is ignored as if absent, so A's own device touch wins.
    expect(await rows("select org_id, mentor_id, link_id, attributed_by from referrals where user_id = 'u_pa' and org_id = 'org_a'")).toEqual([
      { org_id: 'org_a', mentor_id: 'mentor_pa_a', link_id: 'pa_a', attributed_by: 'DEVICE' },
    ]);
    expect(await rows("select org_id, link_id, status from registrations where user_id = 'u_pa' order by occurred_at")).toEqual([
      { org_id: 'org_a', link_id: 'pa_b', status: 'attributed' },
      { org_id: 'org_a', link_id: 'pa_a', status: 'superseded' },
      { org_id: 'org_a', link_id: null, status: 'superseded' },
      { org_id: 'org_b', link_id: 'pa_b', status: 'attributed' },
    ]);
  });

  it('a mentor registering through their own link is not counted', async () => {
    await producer.send('inviteLinks', [link('self')]);
    await producer.send('userRegistered', [reg('mentor_self', T0, { linkId: 'self' })]);
    await settle();
    expect(await stages('self')).toEqual({});
    expect(await rows("select status from registrations where user_id = 'mentor_self'")).toEqual([{ status: 'self_referral' }]);
  });

  it('a user is attributed once, by their earliest registration', async () => {
    await producer.send('inviteLinks', [link('first'), link('second')]);
    await producer.send('userRegistered', [reg('u_twice', T0 + 1000, { linkId: 'second' }), reg('u_twice', T0, { linkId: 'first' })]);
    await settle();
    expect(await rows("select link_id from referrals where user_id = 'u_twice'")).toEqual([{ link_id: 'first' }]);
  });

  it('the first login at or after registration marks activation, whichever arrives first', async () => {
    await producer.send('inviteLinks', [link('act')]);
    await producer.send('userLogins', [
      { eventId: `login_${++seq}`, userId: 'u_act_a', occurredAt: T0 - 1000 }, // before registration: not activation
      { eventId: `login_${++seq}`, userId: 'u_act_b', occurredAt: T0 + 5000 }, // arrives before the registration
    ]);
    await settle();
    await producer.send('userRegistered', [reg('u_act_a', T0, { linkId: 'act' }), reg('u_act_b', T0, { linkId: 'act' })]);
    await settle();
    expect(await rows("select user_id, activated_at from referrals where link_id = 'act' order by 1")).toEqual([
      { user_id: 'u_act_a', activated_at: null },
      { user_id: 'u_act_b', activated_at: new Date(T0 + 5000) },
    ]);
    await producer.send('userLogins', [{ eventId: `login_${++seq}`, userId: 'u_act_a', occurredAt: T0 + 7000 }, { eventId: `login_${++seq}`, userId: 'u_act_a', occurredAt: T0 + 9000 }]);
    await settle();
    expect(await rows("select user_id, activated_at from referrals where user_id = 'u_act_a'")).toEqual([{ user_id: 'u_act_a', activated_at: new Date(T0 + 7000) }]);
    expect(await stages('act')).toEqual({ REGISTERED: 2, ACTIVATED: 2 });
  });

  it('erasure removes display name and device ids, counts stay', async () => {
    await producer.send('inviteLinks', [link('erase')]);
    await producer.send('inviteClicks', [click('erase', T0 - 1000, { deviceId: 'dev_erase' })]);
    await settle();
    await producer.send('userRegistered', [reg('u_erase', T0, { deviceId: 'dev_erase' })]);
    await settle();
    await producer.send('userErasures', [{ eventId: `er_${++seq}`, userId: 'u_erase', orgId: 'org_a', occurredAt: T0 + DAY }]);
    await settle();
    expect(await rows("select display_name, device_id from referrals where user_id = 'u_erase'")).toEqual([{ display_name: null, device_id: null }]);
    // Neither the device id nor the visitor hash that tied it to clicks is stored anywhere.
    const hash = visitorHash({ deviceId: 'dev_erase' }, env.config.visitorHashKey, '');
    for (const table of ['clicks', 'installs', 'registrations', 'referrals']) {
      const dump = JSON.stringify(await rows(`select * from ${table}`));
      expect(dump).not.toContain('dev_erase');
      expect(dump).not.toContain(hash);
    }
    expect(await rows("select count(*)::int n from clicks where link_id = 'erase' and visitor_hash like 'erased:%'")).toEqual([{ n: 1 }]);
    expect(await stages('erase')).toEqual({ CLICKED: 1, REGISTERED: 1 });
  });

  it('a poison message goes to the dead-letter topic with its reason, and the records behind it are processed', async () => {
    await producer.send('inviteLinks', [link('poison')]);
    await producer.sendRaw('inviteClicks', [
      { key: 'poison', value: Buffer.from('definitely not avro') },
      { key: 'poison', value: await env.codec.encode('inviteClicks', click('poison', T0, {}, 'clk_poison_good')) },
      { key: 'poison', value: await env.codec.encode('inviteClicks', click('poison', T0, {}, ' ')) },
      // Postgres cannot store NUL: a record holding one must not fail its batch forever.
      { key: 'poison', value: await env.codec.encode('inviteClicks', click('poison', T0, { deviceId: 'dev\u0000ice' }, 'clk_poison_nul')) },
      { key: 'poison', value: await env.codec.encode('inviteClicks', click('poison', T0 + 1000, {}, 'clk_poison_after')) },
    ]);
    await settle();
    expect(await stages('poison')).toEqual({ CLICKED: 2 });
    const dead = await readTopic(env.kafka, env.topics.deadLetters, 3);
    const headers = dead.map((m) => Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v?.toString()])));
    expect(headers.map((h) => [h['dlq.source.topic'], h['dlq.error.class']])).toEqual([
      [env.topics.inviteClicks, 'PoisonRecordError'],
      [env.topics.inviteClicks, 'InvalidEventError'],
      [env.topics.inviteClicks, 'InvalidEventError'],
    ]);
    expect(headers[1]?.['dlq.error.message']).toBe('eventId is empty');
    expect(headers[2]?.['dlq.error.message']).toBe('visitor.deviceId contains a NUL character');
    expect(dead[0]?.value?.toString()).toBe('definitely not avro');
    expect(headers.every((h) => h['dlq.source.partition'] !== undefined && h['dlq.source.offset'] !== undefined)).toBe(true);
  });

  it("a link's state published under another key (another partition, where nothing orders it) is refused, and the link stays as it was", async () => {
    await producer.send('inviteLinks', [link('keyed')]);
    await producer.send('inviteClicks', [click('keyed', T0, {}, 'clk_keyed')]);
    await settle();
    const taken = await env.codec.encode('inviteLinks', link('keyed', { orgId: 'org_b', mentorId: 'mentor_b' }));
    // (A compacted topic refuses a record without a key at the broker.)
    await producer.sendRaw('inviteLinks', [{ key: 'other-key', value: taken }]);
    await settle();
    expect(await rows("select org_id, mentor_id from invite_links where link_id = 'keyed'")).toEqual([{ org_id: 'org_a', mentor_id: 'mentor_keyed' }]);
    expect(await stages('keyed')).toEqual({ CLICKED: 1 });
    // The dead-letter topic's partitions are read in no set order: this test's letter is the one from the links topic.
    const dead = (await readTopic(env.kafka, env.topics.deadLetters, 4)).filter((m) => m.headers?.['dlq.source.topic']?.toString() === env.topics.inviteLinks);
    expect(dead.map((m) => [m.headers?.['dlq.source.topic']?.toString(), m.headers?.['dlq.error.class']?.toString(), m.headers?.['dlq.error.message']?.toString()])).toEqual([
      [env.topics.inviteLinks, 'InvalidEventError', 'key "other-key" is not the record\'s linkId ("keyed"): a state must be published under its own key'],
    ]);
  });

  it('publishes one ReferralEventRecorded per counted funnel event, with deterministic ids', async () => {
    await settle();
    const expected = (await rows('select count(*)::int n from referral_trackings'))[0]?.n as number;
    const messages = await readTopic(env.kafka, env.topics.referralEvents, expected);
    const decoded = await Promise.all(messages.map((m) => env.codec.decode('referralEvents', m.value ?? null)));
    expect(new Set(decoded.map((d) => d.eventId)).size).toBe(expected);
    // Acknowledged outbox rows go with the next batch's transaction, or on their own within a second when none comes.
    await eventually(async () => ((await rows('select count(*)::int n from ingest_outbox'))[0]?.n === 0 ? true : undefined), 10_000, 'outbox drained');
    expect(decoded.every((d) => d.eventId.startsWith('rfe_'))).toBe(true);
  });

  it('coordinator scopes: the newest updatedAt wins whatever the arrival order', async () => {
    const s = FIXTURES.coordinatorScopes;
    await producer.send('coordinatorScopes', [{ ...s, mentorIds: ['new'], updatedAt: s.updatedAt + 1000 }, { ...s, mentorIds: ['old'] }]);
    await settle();
    expect(await rows('select mentor_ids from coordinator_scopes where coordinator_id = ?', [s.coordinatorId])).toEqual([{ mentor_ids: ['new'] }]);
  });

  it("coordinator scopes: another organization's scope of the same coordinator id is its own, however new", async () => {
    const s = FIXTURES.coordinatorScopes;
    // Another organization's producer names this organization's coordinator, its scope a day ahead.
    await producer.send('coordinatorScopes', [{ ...s, orgId: 'org-other', mentorIds: [], updatedAt: s.updatedAt + 86_400_000 }]);
    await settle();
    expect(await rows('select org_id, mentor_ids from coordinator_scopes where coordinator_id = ? order by org_id', [s.coordinatorId])).toEqual([
      { org_id: 'org-other', mentor_ids: [] },
      { org_id: s.orgId, mentor_ids: ['new'] },
    ]);
  });
});
