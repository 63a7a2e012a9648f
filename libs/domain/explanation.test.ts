import { describe, expect, it } from 'vitest';
import { explainAttribution, type DeviceFact } from './explanation.js';
import type { KnownLink, RegistrationFact } from './attribution.js';
import type { LinkValidity } from './link-activity.js';

const T = Date.UTC(2026, 3, 10, 12);
const HOUR = 3600_000;
const DAY = 24 * HOUR;
const link = (linkId: string, orgId: string, mentorId: string, extra: Partial<LinkValidity> = {}): [string, KnownLink & LinkValidity] =>
  [linkId, { linkId, orgId, mentorId, campaignId: null, expiresAt: null, revokedAt: null, ...extra }];
const links = new Map([
  link('kari', 'o1', 'm-kari'), link('ola', 'o1', 'm-ola'), link('self', 'o1', 'u1'), link('other', 'o2', 'm-x'),
  link('gone', 'o1', 'm-ola', { revokedAt: T - 10 * HOUR }),
]);
const reg = (extra: Partial<RegistrationFact> = {}): RegistrationFact => ({ eventId: 'r1', userId: 'u1', orgId: 'o1', linkId: null, deviceId: 'd1', occurredAt: T, ...extra });
const click = (eventId: string, linkId: string, at: number, extra: Partial<DeviceFact> = {}): DeviceFact => ({ eventId, kind: 'click', linkId, occurredAt: at, isBot: false, touch: true, ...extra });

describe('explainAttribution', () => {
  it('by link: the registration itself wins', () => {
    const e = explainAttribution(reg({ linkId: 'kari' }), links, [click('c1', 'ola', T - HOUR)], 30);
    expect(e).toMatchObject({ rule: 'LINK', winner: { eventId: 'r1', kind: 'REGISTRATION', linkId: 'kari' }, candidates: [{ eventId: 'r1', outcome: 'WON', mentorId: 'm-kari' }] });
    expect(e?.windowTo).toBe(T);
    expect(e?.windowFrom).toBe(T - 30 * DAY);
  });

  it("by device: the last touch wins, and every other touch says why it lost", () => {
    const facts: DeviceFact[] = [
      click('earlier', 'ola', T - 5 * HOUR),
      click('winner', 'kari', T - 2 * HOUR),
      { eventId: 'inst', kind: 'install', linkId: 'kari', occurredAt: T - 3 * HOUR, isBot: false, touch: true },
      click('after', 'ola', T + HOUR),
      click('old', 'ola', T - 40 * DAY),
      click('elsewhere', 'other', T - HOUR),
      click('bot', 'ola', T - HOUR, { isBot: true, touch: false }),
      click('revoked', 'gone', T - 4 * HOUR, { touch: false }),
      click('unknown', 'nowhere', T - 4 * HOUR, { touch: false }),
      { eventId: 'bare', kind: 'install', linkId: null, occurredAt: T - 6 * HOUR, isBot: false, touch: false },
      click('own', 'self', T - 7 * HOUR),
    ];
    const e = explainAttribution(reg({ linkId: 'other' }), links, facts, 30)!;
    expect(e.rule).toBe('DEVICE');
    expect(e.winner).toEqual({ eventId: 'winner', kind: 'CLICK', linkId: 'kari', occurredAt: T - 2 * HOUR });
    expect(Object.fromEntries(e.candidates.map((c) => [`${c.kind} ${c.eventId}`, [c.outcome, c.reason]]))).toEqual({
      'REGISTRATION r1': ['OTHER_ORG', null],
      'CLICK earlier': ['EARLIER_TOUCH', null],
      'CLICK winner': ['WON', null],
      'INSTALL inst': ['EARLIER_TOUCH', null],
      'CLICK after': ['OUTSIDE_WINDOW', null],
      'CLICK old': ['OUTSIDE_WINDOW', null],
      'CLICK elsewhere': ['OTHER_ORG', null],
      'CLICK bot': ['NOT_COUNTED', 'bot'],
      'CLICK revoked': ['NOT_COUNTED', 'revoked'],
      'CLICK unknown': ['NOT_COUNTED', 'unknown_link'],
      'INSTALL bare': ['NOT_COUNTED', 'no_link'],
      'CLICK own': ['SELF_REFERRAL', null],
    });
    expect(e.candidates.map((c) => c.occurredAt)).toEqual([...e.candidates.map((c) => c.occurredAt)].sort((a, b) => b - a));
  });

  it('is null when the registration is not attributed', () => {
    expect(explainAttribution(reg(), links, [], 30)).toBeNull();
    expect(explainAttribution(reg({ linkId: 'self' }), links, [], 30)).toBeNull();
  });
});
