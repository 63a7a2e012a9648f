import { describe, expect, it } from 'vitest';
import {
  membersOf, planDeviceInstalls, planNewClicks, planPublication, planStoredClicks, planUsers, retractions,
  type IncomingClick, type PlacedLink, type StoredClick, type StoredInstall, type StoredUser,
} from './plans.js';
import { funnelEventId, memberSubject, retractionEventId } from './event-ids.js';
import { decisionKey, type FunnelRecord, type PublishedDecision } from './funnel-decisions.js';

const T = Date.UTC(2026, 3, 10, 12);
const MINUTE = 60_000;
const link = (linkId: string, orgId = 'o1', mentorId = 'm1'): PlacedLink => ({ linkId, orgId, mentorId, campaignId: null, expiresAt: null, revokedAt: null });
const links = new Map([['l1', link('l1')], ['l2', link('l2', 'o2', 'm2')]]);
const incoming = (eventId: string, at: number, extra: Partial<IncomingClick> = {}): IncomingClick => ({ eventId, linkId: 'l1', occurredAt: at, visitorHash: 'v1', isBot: false, deviceId: 'd1', ...extra });

/** What the store holds of a click after a plan stored it: its decision and what it published (the plan's own records). */
function storedAs(click: IncomingClick, decision: { status: StoredClick['status']; unique: boolean }, records: FunnelRecord[]): StoredClick {
  const live = records.filter((r) => r.sourceEventId === click.eventId && r.retractsEventId === null).at(-1) ?? null;
  return { ...click, ...decision, published: live ? { revision: 0, live } : undefined };
}

describe('planNewClicks and planStoredClicks', () => {
  it('stores a new click with its first event, and a bot with none', () => {
    const plan = planNewClicks([], [incoming('c1', T), incoming('b1', T, { isBot: true })], links);
    expect(plan.rows.map((r) => [r.click.eventId, r.decision, r.published])).toEqual([
      ['c1', { status: 'counted', unique: true }, { revision: 0, liveEventId: funnelEventId('CLICKED', 'c1'), liveOccurredAt: T }],
      ['b1', { status: 'bot', unique: false }, null],
    ]);
    const done = planStoredClicks(plan, new Set(['c1', 'b1']));
    expect(done.records).toEqual([
      { eventId: funnelEventId('CLICKED', 'c1'), retractsEventId: null, stage: 'CLICKED', orgId: 'o1', mentorId: 'm1', linkId: 'l1', campaignId: null, referralId: null, userId: null, uniqueVisitor: true, occurredAt: T, sourceEventId: 'c1' },
    ]);
    expect(done.changed).toEqual([]);
    expect([...done.touchedDevices]).toEqual(['d1']);
  });

  it('takes a redelivery of a stored click, or a second delivery in the batch, for the same click', () => {
    const first = planNewClicks([], [incoming('c1', T)], links);
    const stored = storedAs(incoming('c1', T), { status: 'counted', unique: true }, planStoredClicks(first, new Set(['c1'])).records);
    const again = planNewClicks([stored], [incoming('c1', T), incoming('c1', T)], links);
    expect(again.rows).toEqual([]);
    const done = planStoredClicks(again, new Set());
    expect([done.records, done.changed]).toEqual([[], []]);
  });

  it('moves the unique click of a visitor-day to an earlier click that arrives late: a retraction and a corrected event', () => {
    const first = planNewClicks([], [incoming('late', T)], links);
    const stored = storedAs(incoming('late', T), { status: 'counted', unique: true }, planStoredClicks(first, new Set(['late'])).records);
    const plan = planNewClicks([stored], [incoming('early', T - MINUTE)], links);
    const done = planStoredClicks(plan, new Set(['early']));
    expect(done.records.map((r) => [r.eventId, r.uniqueVisitor, r.retractsEventId])).toEqual([
      [funnelEventId('CLICKED', 'early'), true, null],
      [retractionEventId(funnelEventId('CLICKED', 'late')), true, funnelEventId('CLICKED', 'late')],
      [funnelEventId('CLICKED', 'late', 1), false, null],
    ]);
    expect(done.changed).toEqual([
      { eventId: 'late', decision: { status: 'counted', unique: false }, published: { revision: 1, liveEventId: funnelEventId('CLICKED', 'late', 1), liveOccurredAt: T } },
    ]);
    expect(retractions(done.records)).toBe(1);
  });

  it('decides the visitor-day again without a click whose eventId the store had under another link', () => {
    const first = planNewClicks([], [incoming('late', T)], links);
    const stored = storedAs(incoming('late', T), { status: 'counted', unique: true }, planStoredClicks(first, new Set(['late'])).records);
    const plan = planNewClicks([stored], [incoming('taken', T - MINUTE)], links);
    const done = planStoredClicks(plan, new Set());
    expect([done.records, done.changed]).toEqual([[], []]);
  });

  it('counts a click on an unknown link as pending and a click after revocation as rejected', () => {
    const revoked = new Map([...links, ['l3', { ...link('l3'), revokedAt: T - MINUTE }]]);
    const plan = planNewClicks([], [incoming('p', T, { linkId: 'l9' }), incoming('r', T, { linkId: 'l3' })], revoked);
    const done = planStoredClicks(plan, new Set(['p', 'r']));
    expect(done.records).toEqual([]);
    expect(done.notes).toEqual({ pending_link: 1, rejected_revoked: 1 });
    expect([...done.touchedDevices]).toEqual([]);
  });
});

describe('planDeviceInstalls', () => {
  const install = (eventId: string, at: number, extra: Partial<StoredInstall> = {}): StoredInstall => ({
    eventId, deviceId: 'd1', linkId: 'l1', occurredAt: at, status: 'pending', attributedLinkId: null, published: undefined, ...extra,
  });

  it('counts the earliest install of a device and keeps a later one as a reinstall touch', () => {
    const plan = planDeviceInstalls(new Map([['d1', [install('i2', T + MINUTE), install('i1', T)]]]), new Map(), links, 30);
    expect(plan.records.map((r) => [r.eventId, r.stage, r.linkId])).toEqual([[funnelEventId('INSTALLED', 'i1'), 'INSTALLED', 'l1']]);
    expect(plan.changed.map((c) => [c.eventId, c.decision])).toEqual([
      ['i2', { status: 'reinstall', linkId: 'l1' }],
      ['i1', { status: 'counted', linkId: 'l1' }],
    ]);
    expect(plan.notes).toEqual({ reinstall: 1 });
  });

  it('retracts the install of a device when an earlier one arrives, and changes nothing on a second plan', () => {
    const counted = planDeviceInstalls(new Map([['d1', [install('i2', T)]]]), new Map(), links, 30);
    const live = counted.records[0]!;
    const stored = install('i2', T, { status: 'counted', attributedLinkId: 'l1', published: { revision: 0, live } });
    const plan = planDeviceInstalls(new Map([['d1', [stored, install('i1', T - MINUTE, { linkId: 'l2' })]]]), new Map(), links, 30);
    expect(plan.records.map((r) => [r.eventId, r.retractsEventId, r.orgId])).toEqual([
      [retractionEventId(live.eventId), live.eventId, 'o1'],
      [funnelEventId('INSTALLED', 'i1'), null, 'o2'],
    ]);
    const i1 = plan.records[1]!;
    const settled = [
      { ...stored, status: 'reinstall' as const, published: { revision: 0, live: null } },
      install('i1', T - MINUTE, { linkId: 'l2', status: 'counted', attributedLinkId: 'l2', published: { revision: 0, live: i1 } }),
    ];
    const again = planDeviceInstalls(new Map([['d1', settled]]), new Map(), links, 30);
    expect([again.records, again.changed]).toEqual([[], []]);
  });

  it('attributes an install that names no link to its device\'s last counted click within the window', () => {
    const touches = new Map([['d1', [{ kind: 'click' as const, linkId: 'l2', orgId: 'o2', occurredAt: T - MINUTE, eventId: 'c1' }]]]);
    const plan = planDeviceInstalls(new Map([['d1', [install('i1', T, { linkId: null })]]]), touches, links, 30);
    expect(plan.changed.map((c) => c.decision)).toEqual([{ status: 'counted', linkId: 'l2' }]);
  });
});

describe('planUsers and planPublication', () => {
  const user = (registrations: StoredUser['registrations'], logins: StoredUser['logins'] = []): StoredUser => ({ registrations, logins, erased: false });
  const registration = (eventId: string, orgId: string, linkId: string | null, at: number) => ({ eventId, userId: 'u1', orgId, linkId, deviceId: 'd1', occurredAt: at, displayName: null, status: 'pending' as const });

  it('decides a user in each organization from that organization\'s registrations alone', () => {
    const members = membersOf(new Map([['u1', user([registration('r1', 'o1', 'l1', T), registration('r2', 'o2', 'l2', T + MINUTE), registration('r3', 'o1', null, T + 2 * MINUTE)], [{ eventId: 'g1', occurredAt: T + 3 * MINUTE }])]]));
    const plan = planUsers(members, new Map(), links, 30);
    expect(plan.referrals.map((r) => [r.referral.link.orgId, r.referral.registration.eventId, r.referral.activation?.eventId])).toEqual([
      ['o1', 'r1', 'g1'],
      ['o2', 'r2', 'g1'],
    ]);
    expect(plan.statuses).toEqual([
      { eventId: 'r1', status: 'attributed' },
      { eventId: 'r3', status: 'superseded' },
      { eventId: 'r2', status: 'attributed' },
    ]);
    expect(plan.desired.map((d) => [d.key.stage, d.key.subject, d.content?.orgId])).toEqual([
      ['REGISTERED', memberSubject('u1', 'o1'), 'o1'],
      ['ACTIVATED', memberSubject('u1', 'o1'), 'o1'],
      ['REGISTERED', memberSubject('u1', 'o2'), 'o2'],
      ['ACTIVATED', memberSubject('u1', 'o2'), 'o2'],
    ]);
    const first = planPublication(plan.desired, new Map());
    expect(first.records.map((r) => r.eventId)).toEqual([
      funnelEventId('REGISTERED', memberSubject('u1', 'o1')), funnelEventId('ACTIVATED', memberSubject('u1', 'o1')),
      funnelEventId('REGISTERED', memberSubject('u1', 'o2')), funnelEventId('ACTIVATED', memberSubject('u1', 'o2')),
    ]);
    // Once published, the same decisions publish nothing and store nothing.
    const published = new Map<string, PublishedDecision>(plan.desired.map((d, i) => [decisionKey(d.key), { revision: 0, live: first.records[i]! }]));
    expect(planPublication(plan.desired, published)).toEqual({ records: [], stored: [] });
  });

  it('leaves a user whose link is unknown unattributed and waiting, with nothing to publish', () => {
    const plan = planUsers(membersOf(new Map([['u1', user([registration('r1', 'o1', 'l9', T)])]])), new Map(), links, 30);
    expect([plan.referrals, plan.unattributed, plan.notes]).toEqual([[], [{ userId: 'u1', orgId: 'o1' }], { pending_link: 1 }]);
    expect(planPublication(plan.desired, new Map())).toEqual({ records: [], stored: [] });
  });
});
