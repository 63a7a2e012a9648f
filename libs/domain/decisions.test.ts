import { describe, expect, it } from 'vitest';
import { decideClicks, type ClickFact } from './clicks.js';
import { DAY_MS, decideDeviceInstalls, decideUser, earliestRegistration, type InstallFact, type KnownLink, type RegistrationFact, type Touch } from './attribution.js';
import { firstLoginAtOrAfter } from './activation.js';
import { newestScopes, supersedes } from './scopes.js';
import { clickedEvent, reconcile, registeredEvent } from './funnel-decisions.js';
import { funnelEventId, retractionEventId } from './event-ids.js';
import { erasedDevicePseudonym, visitorHash } from './visitor.js';

const T = Date.UTC(2026, 3, 10, 12);
const HOUR = 3600_000;

describe('decideClicks', () => {
  const click = (eventId: string, at: number, extra: Partial<ClickFact> = {}): ClickFact => ({ eventId, linkId: 'l1', occurredAt: at, visitorHash: 'v1', isBot: false, ...extra });
  const links = new Map([['l1', { expiresAt: null, revokedAt: T + 2 * HOUR }]]);

  it('makes the earliest counted click of a visitor-day the unique one, whatever the input order', () => {
    const clicks = [click('c3', T + HOUR), click('c1', T - HOUR), click('c2', T - HOUR)];
    for (const order of [clicks, [...clicks].reverse()]) {
      const d = decideClicks(order, links);
      expect([...d].filter(([, x]) => x.unique).map(([id]) => id)).toEqual(['c1']);
    }
  });

  it('does not let a rejected, pending or bot click take the unique flag', () => {
    const d = decideClicks([click('late', T + 3 * HOUR), click('bot', T - HOUR, { isBot: true }), click('ok', T + HOUR), click('unknown', T, { linkId: 'l9' })], links);
    expect(d.get('late')).toEqual({ status: 'rejected', reason: 'revoked', unique: false });
    expect(d.get('bot')).toEqual({ status: 'bot', unique: false });
    expect(d.get('unknown')).toEqual({ status: 'pending', unique: false });
    expect(d.get('ok')).toEqual({ status: 'counted', unique: true });
  });

  it('cuts visitor-days in UTC', () => {
    const d = decideClicks([click('a', Date.UTC(2026, 3, 10, 23, 59)), click('b', Date.UTC(2026, 3, 11, 0, 1))], new Map([['l1', { expiresAt: null, revokedAt: null }]]));
    expect([d.get('a')?.unique, d.get('b')?.unique]).toEqual([true, true]);
  });
});

describe('decideDeviceInstalls', () => {
  const touch = (linkId: string, at: number, kind: Touch['kind'] = 'click'): Touch => ({ kind, linkId, orgId: 'o1', occurredAt: at, eventId: `${kind}-${linkId}-${at}` });
  const one = (install: InstallFact, known: Set<string>, touches: Touch[]) => decideDeviceInstalls([install], known, touches, 30).get(install.eventId);

  it('goes to the link it names once that link is known', () => {
    const install = { eventId: 'i1', deviceId: 'd1', linkId: 'l1', occurredAt: T };
    expect(one(install, new Set(['l1']), [])).toEqual({ status: 'counted', linkId: 'l1' });
    expect(one(install, new Set(), [])).toEqual({ status: 'pending' });
  });

  it('without a link, goes to the last click from its device within the window, and not to an install', () => {
    const install = { eventId: 'i1', deviceId: 'd1', linkId: null, occurredAt: T };
    expect(one(install, new Set(), [touch('old', T - 3 * HOUR), touch('new', T - HOUR), touch('inst', T - 10, 'install'), touch('after', T + 1)])).toEqual({ status: 'counted', linkId: 'new' });
    expect(one(install, new Set(), [touch('old', T - 31 * DAY_MS)])).toEqual({ status: 'unattributed' });
  });

  it("counts a device's earliest install only; later ones are reinstalls that keep their link as a touch, in any order", () => {
    const installs: InstallFact[] = [
      { eventId: 'i3', deviceId: 'd1', linkId: null, occurredAt: T + 2 * HOUR },
      { eventId: 'i2', deviceId: 'd1', linkId: 'l2', occurredAt: T + HOUR },
      { eventId: 'i1', deviceId: 'd1', linkId: 'l1', occurredAt: T },
      { eventId: 'i0', deviceId: 'd1', linkId: 'l9', occurredAt: T + HOUR },
    ];
    for (const order of [installs, [...installs].reverse()]) {
      const d = decideDeviceInstalls(order, new Set(['l1', 'l2']), [touch('c', T + 90 * 60_000)], 30);
      expect(Object.fromEntries(d)).toEqual({
        i1: { status: 'counted', linkId: 'l1' },
        i2: { status: 'reinstall', linkId: 'l2' },
        i0: { status: 'reinstall', linkId: null }, // its link is not known (yet)
        i3: { status: 'reinstall', linkId: 'c' },
      });
    }
  });

  it('keeps an unattributed earliest install as the install: a later attributed one is still a reinstall', () => {
    const d = decideDeviceInstalls([{ eventId: 'b', deviceId: 'd1', linkId: 'l1', occurredAt: T }, { eventId: 'a', deviceId: 'd1', linkId: null, occurredAt: T }], new Set(['l1']), [], 30);
    expect(Object.fromEntries(d)).toEqual({ a: { status: 'unattributed' }, b: { status: 'reinstall', linkId: 'l1' } });
  });
});

describe('decideUser', () => {
  const links = new Map<string, KnownLink>([
    ['l1', { linkId: 'l1', orgId: 'o1', mentorId: 'm1', campaignId: null }],
    ['l2', { linkId: 'l2', orgId: 'o1', mentorId: 'm2', campaignId: 'c' }],
  ]);
  const reg = (eventId: string, at: number, extra: Partial<RegistrationFact> = {}): RegistrationFact => ({ eventId, userId: 'u1', orgId: 'o1', linkId: null, deviceId: null, occurredAt: at, ...extra });

  it('attributes by the earliest registration and supersedes the rest, in any order', () => {
    const regs = [reg('r2', T + HOUR, { linkId: 'l2' }), reg('r1', T, { linkId: 'l1' })];
    for (const order of [regs, [...regs].reverse()]) {
      const d = decideUser({ registrations: order, links, deviceTouches: [], logins: [] }, 30);
      expect(d.referral?.link.mentorId).toBe('m1');
      expect(Object.fromEntries(d.statuses)).toEqual({ r1: 'attributed', r2: 'superseded' });
    }
  });

  it('by device: the last touch of the same org; stage times on the attributed link; activation by the first login at or after', () => {
    const touches: Touch[] = [
      { kind: 'click', linkId: 'l1', orgId: 'o1', occurredAt: T - 5 * HOUR, eventId: 'c1' },
      { kind: 'click', linkId: 'l2', orgId: 'o1', occurredAt: T - 3 * HOUR, eventId: 'c2' },
      { kind: 'install', linkId: 'l2', orgId: 'o1', occurredAt: T - 2 * HOUR, eventId: 'i1' },
      { kind: 'click', linkId: 'l9', orgId: 'o2', occurredAt: T - HOUR, eventId: 'c9' },
    ];
    const logins = [{ eventId: 'g3', occurredAt: T + 5 * HOUR }, { eventId: 'g1', occurredAt: T - HOUR }, { eventId: 'g2', occurredAt: T + HOUR }];
    const d = decideUser({ registrations: [reg('r1', T, { deviceId: 'd1' })], links, deviceTouches: touches, logins }, 30);
    expect(d.referral).toMatchObject({ by: 'DEVICE', link: { linkId: 'l2' }, clickedAt: T - 3 * HOUR, installedAt: T - 2 * HOUR, activation: { eventId: 'g2' } });
  });

  it('waits for an unknown link, and never counts a mentor registering through their own link', () => {
    expect(decideUser({ registrations: [reg('r1', T, { linkId: 'l7' })], links, deviceTouches: [], logins: [] }, 30)).toMatchObject({ referral: null, statuses: new Map([['r1', 'pending']]) });
    expect(decideUser({ registrations: [reg('r1', T, { linkId: 'l1', userId: 'm1' })], links, deviceTouches: [], logins: [] }, 30)).toMatchObject({ referral: null, statuses: new Map([['r1', 'self_referral']]) });
  });

  it('ignores a link of another organization, as if absent: the device decides, within the organization', () => {
    const other = new Map<string, KnownLink>([...links, ['lb', { linkId: 'lb', orgId: 'o2', mentorId: 'm9', campaignId: null }]]);
    const touches: Touch[] = [
      { kind: 'click', linkId: 'lb', orgId: 'o2', occurredAt: T - HOUR, eventId: 'cb' },
      { kind: 'click', linkId: 'l2', orgId: 'o1', occurredAt: T - 2 * HOUR, eventId: 'c2' },
    ];
    expect(decideUser({ registrations: [reg('r1', T, { linkId: 'lb', deviceId: 'd1' })], links: other, deviceTouches: touches, logins: [] }, 30).referral)
      .toMatchObject({ by: 'DEVICE', link: { linkId: 'l2', orgId: 'o1' } });
    expect(decideUser({ registrations: [reg('r1', T, { linkId: 'lb' })], links: other, deviceTouches: [], logins: [] }, 30))
      .toMatchObject({ referral: null, statuses: new Map([['r1', 'unattributed']]) });
  });

  it('decides one organization at a time', () => {
    expect(() => decideUser({ registrations: [reg('r1', T), reg('r2', T, { orgId: 'o2' })], links, deviceTouches: [], logins: [] }, 30)).toThrow(/one organization/);
  });

  it('breaks ties on time by event id', () => {
    expect(earliestRegistration([reg('b', T), reg('a', T)])?.eventId).toBe('a');
    expect(firstLoginAtOrAfter([{ eventId: 'y', occurredAt: T }, { eventId: 'x', occurredAt: T }], T)?.eventId).toBe('x');
    expect(firstLoginAtOrAfter([{ eventId: 'x', occurredAt: T - 1 }], T)).toBeUndefined();
  });
});

describe('coordinator scopes', () => {
  const scope = (updatedAt: number, mentorIds: string[]) => ({ orgId: 'o1', coordinatorId: 'k1', mentorIds, updatedAt });
  it('the newest wins; on a tie the content decides, never the arrival order', () => {
    expect(supersedes(scope(2, ['a']), scope(1, ['b']))).toBe(true);
    const tie = [scope(1, ['a']), scope(1, ['b'])];
    expect(newestScopes(tie)).toEqual(newestScopes([...tie].reverse()));
  });
});

describe('reconcile', () => {
  const link = { linkId: 'l1', orgId: 'o1', mentorId: 'm1', campaignId: null };
  const key = { stage: 'CLICKED' as const, subject: 'c1' };
  const content = clickedEvent({ eventId: 'c1', occurredAt: T }, link, true);

  it('publishes the first decision under revision 0, with the id a re-publish would have', () => {
    const r = reconcile(key, content, undefined);
    expect(r.records).toEqual([{ ...content, eventId: funnelEventId('CLICKED', 'c1'), retractsEventId: null }]);
    expect(r.stored).toEqual({ revision: 0, liveEventId: funnelEventId('CLICKED', 'c1'), liveOccurredAt: T });
  });

  it('publishes nothing when the decision did not change', () => {
    expect(reconcile(key, content, { revision: 0, live: { ...content, eventId: 'x', retractsEventId: null } })).toEqual({ records: [], stored: null });
    expect(reconcile(key, null, undefined)).toEqual({ records: [], stored: null });
  });

  it('retracts with the same body and issues the correction under the next revision; back and forth never reuses an id', () => {
    const live = { ...content, eventId: funnelEventId('CLICKED', 'c1'), retractsEventId: null };
    const moved = { ...content, mentorId: 'm2' };
    const r1 = reconcile(key, moved, { revision: 0, live });
    expect(r1.records).toEqual([
      { ...live, eventId: retractionEventId(live.eventId), retractsEventId: live.eventId },
      { ...moved, eventId: funnelEventId('CLICKED', 'c1', 1), retractsEventId: null },
    ]);
    const r2 = reconcile(key, null, { revision: 1, live: r1.records[1]! });
    expect(r2.stored).toEqual({ revision: 1, liveEventId: null, liveOccurredAt: null });
    const r3 = reconcile(key, content, { revision: 1, live: null });
    expect(r3.records.map((r) => r.eventId)).toEqual([funnelEventId('CLICKED', 'c1', 2)]);
    const ids = [...r1.records, ...r2.records, ...r3.records].map((r) => r.eventId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('registration events carry the referral and user', () => {
    expect(registeredEvent('rfl_1', { eventId: 'r1', userId: 'u1', occurredAt: T }, link)).toMatchObject({ stage: 'REGISTERED', referralId: 'rfl_1', userId: 'u1', sourceEventId: 'r1' });
  });
});

describe('erased device pseudonym', () => {
  it('matches the same device, differs from its visitor hash, and does not contain the device id', () => {
    const key = 'k'.repeat(32);
    expect(erasedDevicePseudonym('dev-1', key)).toBe(erasedDevicePseudonym('dev-1', key));
    expect(erasedDevicePseudonym('dev-1', key)).not.toBe(erasedDevicePseudonym('dev-2', key));
    expect(erasedDevicePseudonym('dev-1', key)).not.toContain(visitorHash({ deviceId: 'dev-1' }, key, ''));
    expect(erasedDevicePseudonym('dev-1', key)).not.toContain('dev-1');
  });
});
