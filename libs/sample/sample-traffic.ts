import type { AppInstalled, CoordinatorScope, InviteClicked, InviteLink, UserLoggedIn, UserRegistered } from '../events/types.generated.js';

/** A small, seedable PRNG (mulberry32): the same seed gives the same traffic. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SampleTraffic {
  links: InviteLink[];
  scopes: CoordinatorScope[];
  clicks: InviteClicked[];
  installs: AppInstalled[];
  registrations: UserRegistered[];
  logins: UserLoggedIn[];
}

const BROWSERS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
];
const PREVIEWS = ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'WhatsApp/2.23.20.0 A', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'];

/**
 * Realistic referral traffic: orgs, mentors of very different reach (a few recruit most), link
 * previews and bots, repeat visitors, redelivered events, device-attributed installs and
 * registrations, logins. Every event time lies in [start, start + days).
 */
export function sampleTraffic(options: { seed: number; clicks: number; orgs?: number; mentorsPerOrg?: number; start?: number; days?: number; duplicateRate?: number }): SampleTraffic {
  const rnd = prng(options.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const orgs = options.orgs ?? 3;
  const mentorsPerOrg = options.mentorsPerOrg ?? 8;
  const start = options.start ?? Date.UTC(2026, 2, 20);
  const span = (options.days ?? 14) * 24 * 3600 * 1000;
  const dup = options.duplicateRate ?? 0.05;
  const s = options.seed;

  const links: InviteLink[] = [];
  const scopes: CoordinatorScope[] = [];
  const weights: number[] = [];
  for (let o = 0; o < orgs; o++) {
    const mentors: string[] = [];
    for (let m = 0; m < mentorsPerOrg; m++) {
      const mentorId = `s${s}_org${o}_mentor${m}`;
      mentors.push(mentorId);
      for (let c = 0; c < 2; c++) {
        links.push({ linkId: `s${s}_lnk_${o}_${m}_${c}`, orgId: `s${s}_org${o}`, mentorId, campaignId: c === 0 ? `s${s}_cmp_${o}` : null, createdAt: start - 24 * 3600 * 1000, expiresAt: null, revokedAt: null });
        weights.push(1 / (m + 1) ** 1.2); // Zipf-like reach
      }
    }
    scopes.push({ orgId: `s${s}_org${o}`, coordinatorId: `s${s}_coord${o}`, mentorIds: mentors.slice(0, Math.ceil(mentors.length / 2)), updatedAt: start });
  }
  const totalWeight = weights.reduce((a, b) => a + b, 0);
  const pickLink = (): InviteLink => {
    let r = rnd() * totalWeight;
    for (let i = 0; i < links.length; i++) if ((r -= weights[i] as number) <= 0) return links[i] as InviteLink;
    return links[links.length - 1] as InviteLink;
  };

  const clicks: InviteClicked[] = [];
  const installs: AppInstalled[] = [];
  const registrations: UserRegistered[] = [];
  const logins: UserLoggedIn[] = [];
  for (let i = 0; i < options.clicks; i++) {
    const link = pickLink();
    const at = start + Math.floor(rnd() * span);
    const bot = rnd() < 0.08;
    const deviceId = !bot && rnd() < 0.5 ? `s${s}_dev_${i}` : null;
    const visitor = { ip: `10.${Math.floor(rnd() * 4)}.${Math.floor(rnd() * 20)}.${Math.floor(rnd() * 50)}`, userAgent: bot ? pick(PREVIEWS) : pick(BROWSERS), deviceId, platform: deviceId ? pick(['IOS', 'ANDROID'] as const) : ('WEB' as const), referrer: null, locale: 'nb-NO' };
    const c: InviteClicked = { eventId: `s${s}_clk_${i}`, linkId: link.linkId, occurredAt: at, visitor };
    clicks.push(c);
    if (rnd() < dup) clicks.push(c);
    // Some people open the link again a little earlier the same day (from the chat app, then the browser).
    if (!bot && rnd() < 0.1) clicks.push({ ...c, eventId: `s${s}_clk_${i}_again`, occurredAt: at - Math.floor(rnd() * 3 * 3600_000) });
    // Some devices also follow another mentor's link of the same org shortly after: the newer touch.
    if (deviceId && rnd() < 0.15) {
      const others = links.filter((l) => l.orgId === link.orgId && l.linkId !== link.linkId);
      clicks.push({ eventId: `s${s}_clk_${i}_other`, linkId: pick(others).linkId, occurredAt: at + Math.floor(rnd() * 1800_000), visitor });
    }
    if (bot || rnd() > 0.3) continue;
    const device = deviceId ?? `s${s}_dev_x${i}`;
    const installedAt = at + Math.floor(rnd() * 3600_000);
    const viaDeepLink = rnd() < 0.5;
    installs.push({ eventId: `s${s}_ins_${i}`, deviceId: device, linkId: viaDeepLink || !deviceId ? link.linkId : null, platform: 'ANDROID', occurredAt: installedAt });
    if (rnd() > 0.6) continue;
    const userId = `s${s}_user_${i}`;
    const registeredAt = installedAt + Math.floor(rnd() * 7200_000);
    const byDevice = deviceId !== null && rnd() < 0.4;
    const r: UserRegistered = { eventId: `s${s}_reg_${i}`, userId, orgId: link.orgId, linkId: byDevice ? null : link.linkId, deviceId: device, displayName: `Recruit ${i}`, occurredAt: registeredAt };
    registrations.push(r);
    if (rnd() < dup) registrations.push(r);
    const n = Math.floor(rnd() * 3);
    for (let k = 0; k < n; k++) logins.push({ eventId: `s${s}_login_${i}_${k}`, userId, occurredAt: registeredAt + (k + 1) * Math.floor(rnd() * 86_400_000) });
  }
  return { links, scopes, clicks, installs, registrations, logins };
}
