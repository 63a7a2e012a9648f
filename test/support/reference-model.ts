/**
 * The numbers of SPEC §4, computed directly from a set of distinct input events: the oracle
 * the property test holds the pipeline to. Written from the specification alone, without
 * libs/domain or any other production module, so that a mistake in the product's rules cannot
 * hide behind the same mistake here. It trades speed for plainness: every rule is a loop over
 * all events.
 */

export const DAY = 24 * 3600 * 1000;

export interface RefLink {
  linkId: string;
  orgId: string;
  mentorId: string;
  campaignId: string | null;
  expiresAt: number | null;
  revokedAt: number | null;
}
export interface RefClick {
  eventId: string;
  linkId: string;
  occurredAt: number;
  deviceId: string | null;
  ip: string | null;
  userAgent: string | null;
  /** The generator knows which user agents are bots and link previews. */
  bot: boolean;
}
export interface RefInstall {
  eventId: string;
  deviceId: string;
  linkId: string | null;
  occurredAt: number;
}
export interface RefRegistration {
  eventId: string;
  userId: string;
  orgId: string;
  linkId: string | null;
  deviceId: string | null;
  displayName: string | null;
  occurredAt: number;
}
export interface RefLogin {
  eventId: string;
  userId: string;
  occurredAt: number;
}

export interface RefWorld {
  /** The final state of each link that was published. */
  links: RefLink[];
  clicks: RefClick[];
  installs: RefInstall[];
  registrations: RefRegistration[];
  logins: RefLogin[];
  erasedUsers: string[];
  windowDays: number;
}

/** One funnel event as the aggregator would count it. */
export interface RefFunnelEvent {
  eventId: string;
  orgId: string;
  mentorId: string;
  campaignId: string | null;
  stage: 'CLICKED' | 'INSTALLED' | 'REGISTERED' | 'ACTIVATED';
  uniqueVisitor: boolean;
  occurredAt: number;
}

export interface RefReferral {
  userId: string;
  orgId: string;
  mentorId: string;
  linkId: string;
  campaignId: string | null;
  attributedBy: 'LINK' | 'DEVICE';
  displayName: string | null;
  /** The device of the deciding registration (before erasure). */
  deviceId: string | null;
  /** The touch that decided: the registration itself (by link), or the device's last touch. */
  winner: { eventId: string; kind: 'CLICK' | 'INSTALL' | 'REGISTRATION' };
  clickedAt: number | null;
  installedAt: number | null;
  registeredAt: number;
  activatedAt: number | null;
}

export interface RefOutcome {
  events: RefFunnelEvent[];
  referrals: RefReferral[];
  /** Click event id -> whether it counts and whether it is its visitor-day's unique click. */
  clicks: Map<string, { counted: boolean; unique: boolean }>;
}

function utcDate(t: number): string {
  const d = new Date(t);
  return `${d.getUTCFullYear()}-${d.getUTCMonth() + 1}-${d.getUTCDate()}`;
}

/** Is `a` earlier than `b` (by time, then by event id)? */
function earlier(a: { occurredAt: number; eventId: string }, b: { occurredAt: number; eventId: string }): boolean {
  return a.occurredAt < b.occurredAt || (a.occurredAt === b.occurredAt && a.eventId < b.eventId);
}

/** Is `a` a later touch than `b` (by time, then by the greater event id)? */
function later(a: { occurredAt: number; eventId: string }, b: { occurredAt: number; eventId: string }): boolean {
  return a.occurredAt > b.occurredAt || (a.occurredAt === b.occurredAt && a.eventId > b.eventId);
}

export function referenceOutcome(world: RefWorld): RefOutcome {
  const window = world.windowDays * DAY;
  const linkById = new Map(world.links.map((l) => [l.linkId, l]));
  const events: RefFunnelEvent[] = [];

  // Clicks: counted when not a bot and the link, known, was neither expired nor revoked then.
  const countedClicks: RefClick[] = [];
  for (const c of world.clicks) {
    const l = linkById.get(c.linkId);
    if (c.bot || !l) continue;
    if (l.revokedAt !== null && c.occurredAt >= l.revokedAt) continue;
    if (l.expiresAt !== null && c.occurredAt >= l.expiresAt) continue;
    countedClicks.push(c);
  }
  const visitorOf = (c: RefClick) => (c.deviceId ? `device ${c.deviceId}` : c.ip || c.userAgent ? `net ${c.ip ?? ''} ${c.userAgent ?? ''}` : `alone ${c.eventId}`);
  const clicks = new Map<string, { counted: boolean; unique: boolean }>();
  for (const c of world.clicks) clicks.set(c.eventId, { counted: false, unique: false });
  for (const c of countedClicks) {
    const rivals = countedClicks.filter((o) => o.linkId === c.linkId && visitorOf(o) === visitorOf(c) && utcDate(o.occurredAt) === utcDate(c.occurredAt));
    const unique = rivals.every((o) => o === c || earlier(c, o));
    clicks.set(c.eventId, { counted: true, unique });
    const l = linkById.get(c.linkId)!;
    events.push({ eventId: `click:${c.eventId}`, orgId: l.orgId, mentorId: l.mentorId, campaignId: l.campaignId, stage: 'CLICKED', uniqueVisitor: unique, occurredAt: c.occurredAt });
  }

  // Installs: each gets the link it names once that link is known; without one, the device's
  // last counted click within the window before it, in any org. A device's earliest install
  // (ties: smaller event id) is its install and counts when it has a link; a later one is a
  // reinstall: never counted, but its link is still a touch of the device.
  const installTouches: { install: RefInstall; link: RefLink }[] = [];
  for (const i of world.installs) {
    let link: RefLink | undefined;
    if (i.linkId !== null) link = linkById.get(i.linkId);
    else {
      let best: RefClick | undefined;
      for (const c of countedClicks) {
        if (c.deviceId !== i.deviceId || c.occurredAt > i.occurredAt || c.occurredAt < i.occurredAt - window) continue;
        if (!best || later(c, best)) best = c;
      }
      link = best && linkById.get(best.linkId);
    }
    if (!link) continue;
    installTouches.push({ install: i, link });
    const reinstall = world.installs.some((o) => o !== i && o.deviceId === i.deviceId && earlier(o, i));
    if (reinstall) continue;
    events.push({ eventId: `install:${i.eventId}`, orgId: link.orgId, mentorId: link.mentorId, campaignId: link.campaignId, stage: 'INSTALLED', uniqueVisitor: false, occurredAt: i.occurredAt });
  }

  // Users: per organization, by the user's earliest registration in that organization only.
  const referrals: RefReferral[] = [];
  const members = [...new Set(world.registrations.map((r) => JSON.stringify([r.userId, r.orgId])))].sort().map((m) => JSON.parse(m) as [string, string]);
  for (const [userId, orgId] of members) {
    let first: RefRegistration | undefined;
    for (const r of world.registrations) if (r.userId === userId && r.orgId === orgId && (!first || earlier(r, first))) first = r;
    const reg = first!;
    let link: RefLink | undefined;
    let by: 'LINK' | 'DEVICE' = 'LINK';
    let winner: RefReferral['winner'] = { eventId: reg.eventId, kind: 'REGISTRATION' };
    // A link not published (yet) keeps the registration waiting; a link of another org is as if absent.
    if (reg.linkId !== null && !linkById.has(reg.linkId)) continue;
    const named = reg.linkId === null ? undefined : linkById.get(reg.linkId);
    if (named && named.orgId === orgId) link = named;
    else if (reg.deviceId !== null) {
      by = 'DEVICE';
      // Touches: counted clicks and installs or reinstalls with a link, from the device, on a link of this org.
      const touches = [
        ...countedClicks.map((c) => ({ kind: 'CLICK' as const, eventId: c.eventId, occurredAt: c.occurredAt, deviceId: c.deviceId, link: linkById.get(c.linkId)! })),
        ...installTouches.map((x) => ({ kind: 'INSTALL' as const, eventId: x.install.eventId, occurredAt: x.install.occurredAt, deviceId: x.install.deviceId as string | null, link: x.link })),
      ];
      let best: (typeof touches)[number] | undefined;
      for (const t of touches) {
        if (t.deviceId !== reg.deviceId || t.link.orgId !== orgId) continue;
        if (t.occurredAt > reg.occurredAt || t.occurredAt < reg.occurredAt - window) continue;
        if (!best || later(t, best)) best = t;
      }
      link = best?.link;
      if (best) winner = { eventId: best.eventId, kind: best.kind };
    }
    if (!link || link.mentorId === userId) continue;
    const lastOnLink = (xs: { occurredAt: number; eventId: string; deviceId: string | null; linkId: string }[]) => {
      let best: { occurredAt: number; eventId: string } | undefined;
      for (const x of xs) {
        if (reg.deviceId === null || x.deviceId !== reg.deviceId || x.linkId !== link.linkId) continue;
        if (x.occurredAt > reg.occurredAt || x.occurredAt < reg.occurredAt - window) continue;
        if (!best || later(x, best)) best = x;
      }
      return best?.occurredAt ?? null;
    };
    let activation: RefLogin | undefined;
    for (const l of world.logins) if (l.userId === userId && l.occurredAt >= reg.occurredAt && (!activation || earlier(l, activation))) activation = l;
    const erased = world.erasedUsers.includes(userId);
    referrals.push({
      userId, orgId: link.orgId, mentorId: link.mentorId, linkId: link.linkId, campaignId: link.campaignId, attributedBy: by,
      displayName: erased ? null : reg.displayName,
      deviceId: reg.deviceId,
      winner,
      clickedAt: lastOnLink(countedClicks),
      installedAt: lastOnLink(installTouches.map((x) => ({ ...x.install, linkId: x.link.linkId }))),
      registeredAt: reg.occurredAt, activatedAt: activation?.occurredAt ?? null,
    });
    events.push({ eventId: `registration:${orgId}:${userId}`, orgId: link.orgId, mentorId: link.mentorId, campaignId: link.campaignId, stage: 'REGISTERED', uniqueVisitor: false, occurredAt: reg.occurredAt });
    if (activation) events.push({ eventId: `activation:${orgId}:${userId}`, orgId: link.orgId, mentorId: link.mentorId, campaignId: link.campaignId, stage: 'ACTIVATED', uniqueVisitor: false, occurredAt: activation.occurredAt });
  }
  return { events, referrals, clicks };
}
