import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { erasedDevicePseudonym, isBotUserAgent, utcDay, visitorHash } from './visitor.js';
import { funnelEventId, memberSubject, referralId } from './event-ids.js';
import { linkStateAt } from './link-activity.js';
import { attributeRegistration, DAY_MS, lastTouch, type KnownLink, type Touch } from './attribution.js';

const KEY = 'k'.repeat(32);
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

describe('visitor identity', () => {
  it('is the device when known, whatever the network', () => {
    expect(visitorHash({ deviceId: 'd1', ip: '10.0.0.1' }, KEY, 'e1')).toBe(visitorHash({ deviceId: 'd1', ip: '10.0.0.2' }, KEY, 'e2'));
  });
  it('is a keyed hash of ip and user agent otherwise, never containing the ip', () => {
    const h = visitorHash({ ip: '203.0.113.7', userAgent: IPHONE }, KEY, 'e1');
    expect(h).toBe(visitorHash({ ip: '203.0.113.7', userAgent: IPHONE }, KEY, 'e2'));
    expect(h).not.toBe(visitorHash({ ip: '203.0.113.8', userAgent: IPHONE }, KEY, 'e1'));
    expect(h).not.toBe(visitorHash({ ip: '203.0.113.7', userAgent: IPHONE }, 'other-key-'.repeat(4), 'e1'));
    expect(h).not.toContain('203.0.113.7');
  });
  it('is HMAC-SHA256 of the identity under the key as text, whichever key came before (non-ASCII keys too)', () => {
    for (const key of [KEY, 'other-key-'.repeat(4), 'clé-ünicode-🔑-'.repeat(3), KEY]) {
      expect(visitorHash({ deviceId: 'd1' }, key, 'e1')).toBe(createHmac('sha256', key).update('device\0d1').digest('base64url'));
      expect(visitorHash({ ip: '203.0.113.7', userAgent: IPHONE }, key, 'e1')).toBe(createHmac('sha256', key).update(`ipua\u0000203.0.113.7\u0000${IPHONE}`).digest('base64url'));
      expect(erasedDevicePseudonym('d1', key)).toBe(`erased:${createHmac('sha256', key).update('erased-device\0d1').digest('base64url')}`);
    }
  });
  it('makes an anonymous click its own visitor', () => {
    expect(visitorHash({}, KEY, 'e1')).not.toBe(visitorHash({}, KEY, 'e2'));
  });
  it('cuts unique-click days in UTC', () => {
    expect(utcDay(Date.UTC(2026, 2, 29, 23, 59, 59))).toBe('2026-03-29');
    expect(utcDay(Date.UTC(2026, 2, 30, 0, 0, 0))).toBe('2026-03-30');
  });
  it('gives every instant of the calendar the day its ISO form names, from its cache of day texts too', () => {
    const max = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    fc.assert(
      fc.property(fc.integer({ min: 0, max }), fc.integer({ min: -3, max: 3 }), (ms, near) => {
        // The instant, the last millisecond before its day and the first of it, and a few days around: each asked twice.
        const start = Math.floor(ms / 86_400_000) * 86_400_000;
        for (const t of [ms, start, start - 1, start + near * 86_400_000, ms, start].filter((x) => x >= 0 && x <= max)) {
          expect(utcDay(t)).toBe(new Date(t).toISOString().slice(0, 10));
        }
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('bot and link-preview detection', () => {
  it.each([
    'facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)',
    'WhatsApp/2.23.20.0 A',
    'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)',
    'TelegramBot (like TwitterBot)',
    'Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)',
    'Googlebot/2.1 (+http://www.google.com/bot.html)',
  ])('flags %s', (ua) => expect(isBotUserAgent(ua)).toBe(true));
  it('lets people through', () => {
    expect(isBotUserAgent(IPHONE)).toBe(false);
    expect(isBotUserAgent(null)).toBe(false);
  });
  it('judges a user agent of any length the same, asked once or again (only real lengths are remembered)', () => {
    const padded = (ua: string) => `${ua} ${'x'.repeat(200_000)}`;
    for (let i = 0; i < 2; i++) expect([isBotUserAgent(padded(IPHONE)), isBotUserAgent(`${'x'.repeat(200_000)} Googlebot/2.1`)]).toEqual([false, true]);
  });
  it('gives the same verdicts asked again, and past the bound of remembered user agents', () => {
    const agents = Array.from({ length: 10_050 }, (_, i) => (i % 2 ? `Googlebot/2.${i}` : `${IPHONE} ${i}`));
    const first = agents.map((ua) => isBotUserAgent(ua));
    expect(first.filter(Boolean)).toHaveLength(5_025);
    expect(agents.map((ua) => isBotUserAgent(ua))).toEqual(first);
  });
});

describe('funnel event ids', () => {
  it('are deterministic per stage and subject', () => {
    expect(funnelEventId('CLICKED', 'e1')).toBe(funnelEventId('CLICKED', 'e1'));
    expect(funnelEventId('CLICKED', 'e1')).not.toBe(funnelEventId('INSTALLED', 'e1'));
    expect(referralId('u1', 'o1')).toBe(referralId('u1', 'o1'));
    expect(referralId('u1', 'o1')).not.toBe(referralId('u1', 'o2'));
  });

  it('give a user one subject per organization, and no two pairs of ids the same subject', () => {
    expect(memberSubject('u1', 'o1')).not.toBe(memberSubject('u1', 'o2'));
    expect(memberSubject('b:c', 'a')).not.toBe(memberSubject('c', 'a:b'));
    expect(memberSubject('u1', 'o1')).not.toContain('\u0000');
  });
});

describe('link activity', () => {
  const t = Date.UTC(2026, 0, 10);
  it('keeps clicks before revocation or expiry and rejects those after', () => {
    expect(linkStateAt({ expiresAt: null, revokedAt: null }, t)).toBe('active');
    expect(linkStateAt({ expiresAt: null, revokedAt: t + 1 }, t)).toBe('active');
    expect(linkStateAt({ expiresAt: null, revokedAt: t }, t)).toBe('revoked');
    expect(linkStateAt({ expiresAt: t - 1, revokedAt: null }, t)).toBe('expired');
  });
});

describe('attribution', () => {
  const at = Date.UTC(2026, 4, 1, 12);
  const touch = (linkId: string, orgId: string, daysBefore: number, eventId = `${linkId}-${daysBefore}`): Touch => ({
    kind: 'click', linkId, orgId, occurredAt: at - daysBefore * DAY_MS, eventId,
  });
  const links = new Map<string, KnownLink>([
    ['l1', { linkId: 'l1', orgId: 'o1', mentorId: 'm1', campaignId: 'c1' }],
    ['l2', { linkId: 'l2', orgId: 'o1', mentorId: 'm2', campaignId: null }],
    ['l3', { linkId: 'l3', orgId: 'o2', mentorId: 'm3', campaignId: null }],
  ]);
  const reg = { eventId: 'r1', userId: 'u1', orgId: 'o1', linkId: null, deviceId: 'd1', occurredAt: at };

  it('picks the last touch within the window, same org', () => {
    const d = attributeRegistration(reg, links, [touch('l1', 'o1', 10), touch('l2', 'o1', 3), touch('l3', 'o2', 1)], 30);
    expect(d).toMatchObject({ kind: 'attributed', by: 'DEVICE', link: { linkId: 'l2' } });
  });
  it('ignores touches outside the window or after the registration', () => {
    expect(attributeRegistration(reg, links, [touch('l1', 'o1', 31)], 30)).toEqual({ kind: 'unattributed' });
    expect(attributeRegistration(reg, links, [touch('l1', 'o1', -1)], 30)).toEqual({ kind: 'unattributed' });
    expect(lastTouch([touch('l1', 'o1', 30)], at, 30)?.linkId).toBe('l1');
  });
  it('uses the link when the registration names one, and waits for an unknown link', () => {
    expect(attributeRegistration({ ...reg, linkId: 'l1' }, links, [touch('l2', 'o1', 1)], 30)).toMatchObject({ kind: 'attributed', by: 'LINK', link: { linkId: 'l1' } });
    expect(attributeRegistration({ ...reg, linkId: 'nope' }, links, [], 30)).toEqual({ kind: 'pending' });
  });
  it('does not count a mentor registering through their own link', () => {
    expect(attributeRegistration({ ...reg, userId: 'm1', linkId: 'l1' }, links, [], 30).kind).toBe('self_referral');
  });
});
