/**
 * The traffic of part 3 (dashboards at scale), and the facts the ingest worker derives from
 * it, computed in bulk with the ingest worker's own pure rules (libs/domain): click decisions
 * and unique visitors (decideClicks), install attribution (decideDeviceInstalls), user attribution and
 * activation (decideUser), funnel event ids (reconcile, funnelEventId, referralId) and visitor
 * hashes (visitorHash, isBotUserAgent).
 *
 * The traffic is made of people: each clicks a link of a mentor (mentors' reach is Zipf-like),
 * some click again earlier the same day, some follow another mentor's link of the same org, some
 * install (by deep link or by device), register (by link or by device) and log in. A person's
 * clicks, install, registration and logins share no visitor, device or user with anyone else,
 * so every decision rests on that person's own facts and can be made per person. All links are
 * active for the whole period. What bulk generation writes is what an ingest worker writes
 * after consuming these events in time order (no revised decisions, so no retractions); the
 * bench checks that on a small sample by running the real ingest worker over the same events.
 */
import { decideClicks, type ClickFact } from '../../libs/domain/clicks.js';
import { decideDeviceInstalls, decideUser, type KnownLink, type Touch } from '../../libs/domain/attribution.js';
import { activatedEvent, clickedEvent, installedEvent, reconcile, registeredEvent, type FunnelEventContent, type FunnelRecord } from '../../libs/domain/funnel-decisions.js';
import { memberSubject, referralId } from '../../libs/domain/event-ids.js';
import { isBotUserAgent, visitorHash } from '../../libs/domain/visitor.js';
import { prng } from '../../libs/sample/sample-traffic.js';
import type { AppInstalled, CoordinatorScope, InviteClicked, InviteLink, UserLoggedIn, UserRegistered } from '../../libs/events/types.generated.js';

/** Bump when the traffic or the rows change: cached databases are keyed by it. */
export const GENERATOR_VERSION = 5;

export interface Shape {
  clicks: number;
  orgs: number;
  mentorsPerOrg: number;
  coordinatorsPerOrg: number;
  /** The traffic covers [end - days, end). */
  end: number;
  days: number;
}

const DAY = 86_400_000;
const WINDOW_DAYS = 30;
const BROWSERS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
];
const PREVIEWS = ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'WhatsApp/2.23.20.0 A', 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)'];

export const mentorId = (o: number, m: number) => `o${o}m${m}`;
export const orgId = (o: number) => `o${o}`;
export const coordinatorId = (o: number, k: number) => `o${o}c${k}`;

export function linksAndScopes(shape: Shape): { links: InviteLink[]; scopes: CoordinatorScope[] } {
  const start = shape.end - shape.days * DAY;
  const links: InviteLink[] = [];
  const scopes: CoordinatorScope[] = [];
  for (let o = 0; o < shape.orgs; o++) {
    for (let m = 0; m < shape.mentorsPerOrg; m++) {
      for (let c = 0; c < 2; c++) {
        links.push({ linkId: `${mentorId(o, m)}l${c}`, orgId: orgId(o), mentorId: mentorId(o, m), campaignId: c === 0 ? `o${o}cmp` : null, createdAt: start - DAY, expiresAt: null, revokedAt: null });
      }
    }
    const per = Math.ceil(shape.mentorsPerOrg / shape.coordinatorsPerOrg);
    for (let k = 0; k < shape.coordinatorsPerOrg; k++) {
      const mentorIds = Array.from({ length: per }, (_, i) => k * per + i).filter((m) => m < shape.mentorsPerOrg).map((m) => mentorId(o, m));
      scopes.push({ orgId: orgId(o), coordinatorId: coordinatorId(o, k), mentorIds, updatedAt: start });
    }
  }
  return { links, scopes };
}

/** The input events of one person, or of a range of people. */
export interface PersonEvents {
  clicks: InviteClicked[];
  installs: AppInstalled[];
  registrations: UserRegistered[];
  logins: UserLoggedIn[];
}

/** Rows of the fact tables, column arrays in insert order (see dashboard-data.ts). */
export interface FactRows {
  /** w: the click's or install's live event (revision 0), kept on its row (migrations 0029, 0030); null when none counts. */
  clicks: { e: string[]; l: string[]; o: number[]; v: string[]; d: (string | null)[]; p: (string | null)[]; b: boolean[]; s: string[]; u: boolean[]; w: (string | null)[] };
  installs: { e: string[]; d: string[]; l: (string | null)[]; p: string[]; o: number[]; a: (string | null)[]; s: string[]; w: (string | null)[] };
  registrations: { e: string[]; u: string[]; o: string[]; l: (string | null)[]; d: (string | null)[]; n: (string | null)[]; t: number[]; s: string[] };
  logins: { e: string[]; u: string[]; t: number[] };
  referrals: { r: string[]; u: string[]; o: string[]; m: string[]; l: string[]; c: (string | null)[]; by: string[]; n: (string | null)[]; d: (string | null)[]; ca: (number | null)[]; ia: (number | null)[]; ra: number[]; aa: (number | null)[]; re: string[] };
  funnelRecords: FunnelRecord[];
}

export const emptyRows = (): FactRows => ({
  clicks: { e: [], l: [], o: [], v: [], d: [], p: [], b: [], s: [], u: [], w: [] },
  installs: { e: [], d: [], l: [], p: [], o: [], a: [], s: [], w: [] },
  registrations: { e: [], u: [], o: [], l: [], d: [], n: [], t: [], s: [] },
  logins: { e: [], u: [], t: [] },
  referrals: { r: [], u: [], o: [], m: [], l: [], c: [], by: [], n: [], d: [], ca: [], ia: [], ra: [], aa: [], re: [] },
  funnelRecords: [],
});

/** The traffic and its facts, person by person. */
export function createGenerator(shape: Shape, visitorHashKey: string) {
  const { links } = linksAndScopes(shape);
  const linkById = new Map(links.map((l) => [l.linkId, { linkId: l.linkId, orgId: l.orgId, mentorId: l.mentorId, campaignId: l.campaignId ?? null, expiresAt: null, revokedAt: null }]));
  const known = new Set(linkById.keys());
  const start = shape.end - shape.days * DAY;
  const span = shape.days * DAY;
  // Zipf-like reach of the mentors of an org.
  const cumulative: number[] = [];
  let total = 0;
  for (let m = 0; m < shape.mentorsPerOrg; m++) cumulative.push((total += 1 / (m + 1) ** 1.2));
  const pickMentor = (r: number): number => {
    const x = r * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  // isbot runs a large regular expression; the traffic has six user agents.
  const bots = new Map<string, boolean>();
  const isBot = (ua: string | null | undefined) => {
    const key = ua ?? '';
    let b = bots.get(key);
    if (b === undefined) bots.set(key, (b = isBotUserAgent(ua)));
    return b;
  };

  /** The events of person p. */
  function events(p: number): PersonEvents {
    const rnd = prng(p * 2654435761 + 97);
    const out: PersonEvents = { clicks: [], installs: [], registrations: [], logins: [] };
    const o = Math.floor(rnd() * shape.orgs);
    const m = pickMentor(rnd());
    const linkId = `${mentorId(o, m)}l${rnd() < 0.6 ? 0 : 1}`;
    const at = start + Math.floor(rnd() * span);
    const ip = `10.${(p >>> 16) & 255}.${(p >>> 8) & 255}.${p & 255}`;
    if (rnd() < 0.08) {
      out.clicks.push({ eventId: `c${p}`, linkId, occurredAt: at, visitor: { ip, userAgent: PREVIEWS[p % 3] as string, deviceId: null, platform: 'WEB', referrer: null, locale: 'nb-NO' } });
      return out;
    }
    const deviceId = rnd() < 0.5 ? `d${p}` : null;
    const visitor = { ip, userAgent: BROWSERS[p % 3] as string, deviceId, platform: deviceId ? (rnd() < 0.5 ? ('IOS' as const) : ('ANDROID' as const)) : ('WEB' as const), referrer: null, locale: 'nb-NO' };
    out.clicks.push({ eventId: `c${p}`, linkId, occurredAt: at, visitor });
    if (rnd() < 0.1) out.clicks.push({ eventId: `c${p}a`, linkId, occurredAt: Math.max(start, at - Math.floor(rnd() * 3 * 3_600_000)), visitor });
    if (deviceId && rnd() < 0.1) {
      const other = (m + 1 + Math.floor(rnd() * (shape.mentorsPerOrg - 1))) % shape.mentorsPerOrg;
      out.clicks.push({ eventId: `c${p}o`, linkId: `${mentorId(o, other)}l0`, occurredAt: at + Math.floor(rnd() * 1_800_000), visitor });
    }
    if (rnd() >= 0.3) return out;
    const device = deviceId ?? `x${p}`;
    const installedAt = at + Math.floor(rnd() * 3_600_000);
    out.installs.push({ eventId: `i${p}`, deviceId: device, linkId: rnd() < 0.5 || !deviceId ? linkId : null, platform: 'ANDROID', occurredAt: installedAt });
    if (rnd() >= 0.4) return out;
    const userId = `u${p}`;
    const registeredAt = installedAt + Math.floor(rnd() * 7_200_000);
    out.registrations.push({ eventId: `r${p}`, userId, orgId: orgId(o), linkId: deviceId && rnd() < 0.4 ? null : linkId, deviceId: device, displayName: `Recruit ${p}`, occurredAt: registeredAt });
    const n = Math.floor(rnd() * 3);
    for (let k = 0; k < n; k++) out.logins.push({ eventId: `g${p}_${k}`, userId, occurredAt: registeredAt + (k + 1) * Math.floor(rnd() * DAY) });
    return out;
  }

  /** Appends person p's facts, as the ingest worker decides them, to rows; returns the clicks it had. */
  function facts(p: number, rows: FactRows, ev: PersonEvents = events(p)): number {
    const emit = (stage: FunnelRecord['stage'], subject: string, content: FunnelEventContent): string => {
      const [record] = reconcile({ stage, subject }, content, undefined).records as [FunnelRecord];
      rows.funnelRecords.push(record);
      return record.eventId;
    };
    const stored: (ClickFact & { deviceId: string | null })[] = [];
    for (const c of ev.clicks) {
      stored.push({ eventId: c.eventId, linkId: c.linkId, occurredAt: c.occurredAt, visitorHash: visitorHash(c.visitor, visitorHashKey, c.eventId), isBot: isBot(c.visitor.userAgent), deviceId: c.visitor.deviceId ?? null });
    }
    const decisions = decideClicks(stored.filter((c) => !c.isBot), linkById);
    const touches: Touch[] = [];
    ev.clicks.forEach((c, i) => {
      const s = stored[i] as (typeof stored)[number];
      const d = s.isBot ? { status: 'bot', unique: false } : decisions.get(c.eventId)!;
      const r = rows.clicks;
      r.e.push(c.eventId); r.l.push(c.linkId); r.o.push(c.occurredAt); r.v.push(s.visitorHash); r.d.push(s.deviceId);
      r.p.push(c.visitor.platform ?? null); r.b.push(s.isBot); r.s.push(d.status); r.u.push(d.unique);
      const link = linkById.get(c.linkId) as KnownLink;
      r.w.push(d.status === 'counted' ? emit('CLICKED', c.eventId, clickedEvent(c, link, d.unique)) : null);
      if (d.status === 'counted') {
        if (s.deviceId) touches.push({ kind: 'click', linkId: c.linkId, orgId: link.orgId, occurredAt: c.occurredAt, eventId: c.eventId });
      }
    });
    for (const i of ev.installs) {
      // A person installs once: their install is their device's only one, never a reinstall.
      const d = decideDeviceInstalls([{ eventId: i.eventId, deviceId: i.deviceId, linkId: i.linkId ?? null, occurredAt: i.occurredAt }], known, touches, WINDOW_DAYS).get(i.eventId)!;
      const linkId = d.status === 'counted' ? d.linkId : null;
      const r = rows.installs;
      r.e.push(i.eventId); r.d.push(i.deviceId); r.l.push(i.linkId ?? null); r.p.push(i.platform ?? 'ANDROID'); r.o.push(i.occurredAt); r.a.push(linkId); r.s.push(d.status);
      r.w.push(linkId ? emit('INSTALLED', i.eventId, installedEvent(i, linkById.get(linkId) as KnownLink)) : null);
      if (linkId) {
        const link = linkById.get(linkId) as KnownLink;
        touches.push({ kind: 'install', linkId, orgId: link.orgId, occurredAt: i.occurredAt, eventId: i.eventId });
      }
    }
    for (const l of ev.logins) {
      rows.logins.e.push(l.eventId); rows.logins.u.push(l.userId); rows.logins.t.push(l.occurredAt);
    }
    for (const g of ev.registrations) {
      const reg = { eventId: g.eventId, userId: g.userId, orgId: g.orgId, linkId: g.linkId ?? null, deviceId: g.deviceId ?? null, occurredAt: g.occurredAt, displayName: g.displayName ?? null };
      const decision = decideUser({ registrations: [reg], links: linkById, deviceTouches: touches, logins: ev.logins.map((l) => ({ eventId: l.eventId, occurredAt: l.occurredAt })) }, WINDOW_DAYS);
      const r = rows.registrations;
      r.e.push(g.eventId); r.u.push(g.userId); r.o.push(g.orgId); r.l.push(reg.linkId); r.d.push(reg.deviceId); r.n.push(g.displayName ?? null); r.t.push(g.occurredAt);
      r.s.push(decision.statuses.get(g.eventId) as string);
      const ref = decision.referral;
      if (!ref) continue;
      const rid = referralId(g.userId, g.orgId);
      const f = rows.referrals;
      const ts = (v: number | null | undefined) => v ?? null;
      f.r.push(rid); f.u.push(g.userId); f.o.push(ref.link.orgId); f.m.push(ref.link.mentorId); f.l.push(ref.link.linkId); f.c.push(ref.link.campaignId);
      f.by.push(ref.by); f.n.push(reg.displayName); f.d.push(reg.deviceId); f.ca.push(ts(ref.clickedAt)); f.ia.push(ts(ref.installedAt)); f.ra.push(reg.occurredAt);
      f.aa.push(ts(ref.activation?.occurredAt)); f.re.push(g.eventId);
      emit('REGISTERED', memberSubject(g.userId, g.orgId), registeredEvent(rid, ref.registration, ref.link));
      if (ref.activation) emit('ACTIVATED', memberSubject(g.userId, g.orgId), activatedEvent(rid, g.userId, ref.activation, ref.link));
    }
    return ev.clicks.length;
  }

  return { events, facts };
}
