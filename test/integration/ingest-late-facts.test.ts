import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startPipeline } from '../support/workers.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import { conversionRecord } from '../../services/query-service/queries/conversion-record.js';
import type { InviteClicked, InviteLink, UserRegistered } from '../../libs/events/types.generated.js';

/**
 * One test per way a late fact used to leave an earlier decision wrong for good (issue
 * "Numbers that do not depend on arrival order"). Each publishes the facts in the unlucky
 * order, lets both workers settle in between so the early decision is really made and
 * published, and then checks what a user sees: funnel numbers, referrals, conversion records.
 */
const DAY = 24 * 3600 * 1000;
const HOUR = 3600 * 1000;
const T0 = Date.UTC(2026, 3, 10, 12);
const HUMAN = 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36';

let env: TestEnv;
let producer: EventProducer;
let pipeline: Awaited<ReturnType<typeof startPipeline>>;
let seq = 0;

beforeAll(async () => {
  env = await createTestEnv('late_facts');
  producer = createEventProducer(env);
  await producer.connect();
  pipeline = await startPipeline(env);
});

afterAll(async () => {
  await pipeline?.stop();
  await producer?.disconnect();
  await env?.close();
});

const settled = () => pipeline.settled();
const link = (id: string, extra: Partial<InviteLink> = {}): InviteLink => ({
  linkId: id, orgId: 'org_late', mentorId: `mentor_${id}`, campaignId: null, createdAt: T0 - 60 * DAY, expiresAt: null, revokedAt: null, ...extra,
});
const click = (linkId: string, at: number, deviceId: string | null = null): InviteClicked => ({
  eventId: `clk_${++seq}`, linkId, occurredAt: at, visitor: { userAgent: HUMAN, ip: '198.51.100.40', deviceId },
});
const reg = (userId: string, at: number, extra: Partial<UserRegistered> = {}): UserRegistered => ({
  eventId: `reg_${++seq}`, userId, orgId: 'org_late', linkId: null, deviceId: null, displayName: `Person ${userId}`, occurredAt: at, ...extra,
});
const login = (userId: string, at: number) => ({ eventId: `login_${++seq}`, userId, occurredAt: at });

/** A mentor's numbers as the dashboards read them (the aggregator's daily table). */
async function totals(mentorId: string) {
  const { rows } = await env.db.raw<{ rows: Record<string, number>[] }>(
    `select coalesce(sum(clicks), 0)::int clicks, coalesce(sum(unique_clicks), 0)::int "uniqueClicks", coalesce(sum(installs), 0)::int installs,
            coalesce(sum(registrations), 0)::int registrations, coalesce(sum(activations), 0)::int activations
       from funnel_daily where mentor_id = ?`,
    [mentorId],
  );
  return rows[0];
}
const none = { clicks: 0, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 };
const referral = async (userId: string) =>
  (await env.db.raw<{ rows: Record<string, unknown>[] }>('select mentor_id, link_id, attributed_by, registered_at, activated_at, clicked_at from referrals where user_id = ?', [userId])).rows;

describe('a fact that arrives late corrects the decision already published', () => {
  it('1. earliest registration: a later registration processed first gives way to the earlier one', async () => {
    await producer.send('inviteLinks', [link('er_first'), link('er_second')]);
    await producer.send('userRegistered', [reg('u_er', T0 + HOUR, { linkId: 'er_second' })]);
    await settled();
    expect(await totals('mentor_er_second')).toEqual({ ...none, registrations: 1 });

    await producer.send('userRegistered', [reg('u_er', T0, { linkId: 'er_first' })]);
    await settled();
    expect(await totals('mentor_er_second')).toEqual(none);
    expect(await totals('mentor_er_first')).toEqual({ ...none, registrations: 1 });
    expect(await conversionRecord(pipeline.ingest.pool, { kind: 'platform' }, 'u_er', null, 30)).toMatchObject({ mentorId: 'mentor_er_first', linkId: 'er_first', registeredAt: new Date(T0).toISOString() });
  });

  it('2. last touch: a newer click that arrives after the registration (and after its own link) wins it', async () => {
    await producer.send('inviteLinks', [link('lt_old'), link('lt_install')]);
    await producer.send('inviteClicks', [click('lt_old', T0 - 10 * DAY, 'dev_lt')]);
    await settled();
    await producer.send('userRegistered', [reg('u_lt', T0, { deviceId: 'dev_lt' })]);
    await producer.send('appInstalls', [{ eventId: `ins_${++seq}`, deviceId: 'dev_lt', linkId: null, platform: 'ANDROID', occurredAt: T0 - HOUR }]);
    await settled();
    expect(await referral('u_lt')).toMatchObject([{ mentor_id: 'mentor_lt_old', attributed_by: 'DEVICE' }]);
    expect(await totals('mentor_lt_old')).toEqual({ ...none, clicks: 1, uniqueClicks: 1, installs: 1, registrations: 1 });

    // The newer click waits for its link, then the link arrives: install and registration move.
    await producer.send('inviteClicks', [click('lt_new', T0 - DAY, 'dev_lt')]);
    await settled();
    expect(await referral('u_lt')).toMatchObject([{ mentor_id: 'mentor_lt_old' }]);
    await producer.send('inviteLinks', [link('lt_new')]);
    await settled();
    expect(await referral('u_lt')).toMatchObject([{ mentor_id: 'mentor_lt_new', link_id: 'lt_new', attributed_by: 'DEVICE', clicked_at: new Date(T0 - DAY) }]);
    expect(await totals('mentor_lt_old')).toEqual({ ...none, clicks: 1, uniqueClicks: 1 });
    expect(await totals('mentor_lt_new')).toEqual({ ...none, clicks: 1, uniqueClicks: 1, installs: 1, registrations: 1 });
  });

  it('3. link state: a revocation dated before counted clicks, an extended expiry and a new mentor re-decide every click', async () => {
    await producer.send('inviteLinks', [link('ls', { expiresAt: T0 + 2 * DAY })]);
    await producer.send('inviteClicks', [click('ls', T0 - 2 * DAY), click('ls', T0 + DAY), click('ls', T0 + 3 * DAY)]);
    await settled();
    expect(await totals('mentor_ls')).toEqual({ ...none, clicks: 2, uniqueClicks: 2 });

    await producer.send('inviteLinks', [link('ls', { expiresAt: T0 + 2 * DAY, revokedAt: T0 })]); // revoked yesterday: keeps earlier clicks only
    await settled();
    expect(await totals('mentor_ls')).toEqual({ ...none, clicks: 1, uniqueClicks: 1 });

    await producer.send('inviteLinks', [link('ls', { expiresAt: T0 + 5 * DAY })]); // revocation lifted, expiry extended
    await settled();
    expect(await totals('mentor_ls')).toEqual({ ...none, clicks: 3, uniqueClicks: 3 });

    await producer.send('inviteLinks', [link('ls', { expiresAt: T0 + 5 * DAY, mentorId: 'mentor_ls_heir', campaignId: 'cmp_heir' })]);
    await settled();
    expect(await totals('mentor_ls')).toEqual(none);
    expect(await totals('mentor_ls_heir')).toEqual({ ...none, clicks: 3, uniqueClicks: 3 });
    const { rows } = await env.db.raw<{ rows: { campaign_id: string; n: number }[] }>("select campaign_id, sum(clicks)::int n from funnel_daily where mentor_id = 'mentor_ls_heir' group by 1");
    expect(rows).toEqual([{ campaign_id: 'cmp_heir', n: 3 }]);
  });

  it('4. activation: an earlier login that arrives later moves the activation to it', async () => {
    await producer.send('inviteLinks', [link('act')]);
    await producer.send('userRegistered', [reg('u_act', T0, { linkId: 'act' })]);
    await producer.send('userLogins', [login('u_act', T0 + 5 * HOUR), login('u_act', T0 - HOUR)]);
    await settled();
    expect(await referral('u_act')).toMatchObject([{ activated_at: new Date(T0 + 5 * HOUR) }]);

    await producer.send('userLogins', [login('u_act', T0 + HOUR)]);
    await settled();
    expect(await referral('u_act')).toMatchObject([{ activated_at: new Date(T0 + HOUR) }]);
    expect(await totals('mentor_act')).toEqual({ ...none, registrations: 1, activations: 1 });
  });

  it('5. unique click: the earliest click of the visitor-day is the unique one, so the local day of the unique count moves', async () => {
    await producer.send('inviteLinks', [link('uq')]);
    const late = Date.UTC(2026, 3, 10, 22, 30); // 00:30 on 11 April in Oslo
    const early = Date.UTC(2026, 3, 10, 5, 0); // 07:00 on 10 April in Oslo; the same UTC day
    await producer.send('inviteClicks', [click('uq', late, 'dev_uq')]);
    await settled();
    const byDay = async () =>
      (await env.db.raw<{ rows: unknown[] }>("select day::text, clicks::int, unique_clicks::int from funnel_daily where mentor_id = 'mentor_uq' and (clicks <> 0 or unique_clicks <> 0) order by 1")).rows;
    expect(await byDay()).toEqual([{ day: '2026-04-11', clicks: 1, unique_clicks: 1 }]);

    await producer.send('inviteClicks', [click('uq', early, 'dev_uq')]);
    await settled();
    expect(await byDay()).toEqual([
      { day: '2026-04-10', clicks: 1, unique_clicks: 1 },
      { day: '2026-04-11', clicks: 1, unique_clicks: 0 },
    ]);
  });

  it('6. erasure: a registration after it, a late click from the erased device and a pending click all count as without it', async () => {
    await producer.send('inviteLinks', [link('ea')]);
    await producer.send('inviteClicks', [click('ea', T0 - HOUR, 'dev_ea')]);
    await settled();
    // (a) The erasure is processed before the person's device-only registration.
    await producer.send('userErasures', [{ eventId: `er_${++seq}`, userId: 'u_ea', orgId: 'org_late', occurredAt: T0 + DAY }]);
    await settled();
    await producer.send('userRegistered', [reg('u_ea', T0, { deviceId: 'dev_ea' })]);
    await settled();
    expect(await totals('mentor_ea')).toEqual({ ...none, clicks: 1, uniqueClicks: 1, registrations: 1 });
    // (b) A late click from the erased device on the same link and UTC day is not a second unique click.
    await producer.send('inviteClicks', [click('ea', T0 - 2 * HOUR, 'dev_ea')]);
    await settled();
    expect(await totals('mentor_ea')).toEqual({ ...none, clicks: 2, uniqueClicks: 1, registrations: 1 });
    expect(await referral('u_ea')).toMatchObject([{ mentor_id: 'mentor_ea', clicked_at: new Date(T0 - HOUR) }]);

    // (c) Clicks waiting for their link when their device is erased keep their visitor.
    await producer.send('inviteClicks', [click('ep', T0 + HOUR, 'dev_ep'), click('ep', T0 + 2 * HOUR, 'dev_ep')]);
    await producer.send('userRegistered', [reg('u_ep', T0 + 3 * HOUR, { deviceId: 'dev_ep' })]);
    await settled();
    await producer.send('userErasures', [{ eventId: `er_${++seq}`, userId: 'u_ep', orgId: 'org_late', occurredAt: T0 + DAY }]);
    await settled();
    await producer.send('inviteLinks', [link('ep')]);
    await settled();
    expect(await totals('mentor_ep')).toEqual({ ...none, clicks: 2, uniqueClicks: 1, registrations: 1 });

    // Nothing personal came back.
    for (const table of ['clicks', 'installs', 'registrations', 'referrals']) {
      const dump = JSON.stringify((await env.db.raw<{ rows: unknown[] }>(`select * from ${table}`)).rows);
      expect(dump).not.toContain('dev_ea');
      expect(dump).not.toContain('dev_ep');
      expect(dump).not.toContain('Person u_ea');
      expect(dump).not.toContain('Person u_ep');
    }
  });
});
