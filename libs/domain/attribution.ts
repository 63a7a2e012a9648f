import { firstLoginAtOrAfter, type LoginFact } from './activation.js';

export const DAY_MS = 24 * 3600 * 1000;

/** A counted click or install on a link, from one device. */
export interface Touch {
  kind: 'click' | 'install';
  linkId: string;
  orgId: string;
  occurredAt: number;
  eventId: string;
}

/**
 * Last touch: the latest touch at or before `at` and within `windowDays` of it, optionally
 * restricted to one organization. Ties on time go to the greater event id, so the answer does
 * not depend on the order rows were read in.
 */
export function lastTouch(touches: readonly Touch[], at: number, windowDays: number, orgId?: string): Touch | undefined {
  const from = at - windowDays * DAY_MS;
  let best: Touch | undefined;
  for (const t of touches) {
    if (t.occurredAt > at || t.occurredAt < from) continue;
    if (orgId !== undefined && t.orgId !== orgId) continue;
    if (!best || t.occurredAt > best.occurredAt || (t.occurredAt === best.occurredAt && t.eventId > best.eventId)) best = t;
  }
  return best;
}

export interface InstallFact {
  eventId: string;
  deviceId: string | null;
  linkId: string | null;
  occurredAt: number;
}

export type InstallDecision =
  | { status: 'counted'; linkId: string }
  | { status: 'reinstall'; linkId: string | null } // a later install of a device: a touch, never an install again
  | { status: 'pending' } // it names a link not seen yet
  | { status: 'unattributed' }; // no click from its device within the window (yet)

/**
 * The link an install is attributed to (SPEC §4): the link it names once that link is known;
 * without one, the last counted click from its device within the window before it, in any org.
 */
export function installLink(install: InstallFact, knownLinks: ReadonlySet<string>, deviceClicks: readonly Touch[], windowDays: number): { linkId: string } | 'pending' | 'unattributed' {
  if (install.linkId !== null) return knownLinks.has(install.linkId) ? { linkId: install.linkId } : 'pending';
  const touch = lastTouch(deviceClicks.filter((t) => t.kind === 'click'), install.occurredAt, windowDays);
  return touch ? { linkId: touch.linkId } : 'unattributed';
}

/** Is `a` earlier than `b` (by time, then by the smaller event id)? */
const earlierFact = (a: { occurredAt: number; eventId: string }, b: { occurredAt: number; eventId: string }): boolean =>
  a.occurredAt < b.occurredAt || (a.occurredAt === b.occurredAt && a.eventId < b.eventId);

/**
 * Decides every install of one device together (SPEC §4): the device's earliest install (ties:
 * smallest eventId) is its install, counted when attributed to a link; every later one is a
 * reinstall, kept with the link it would go to (a touch for last-touch attribution) and never
 * counted as an install. `installs` must hold every install of the device.
 */
export function decideDeviceInstalls(installs: readonly InstallFact[], knownLinks: ReadonlySet<string>, deviceClicks: readonly Touch[], windowDays: number): Map<string, InstallDecision> {
  let first: InstallFact | undefined;
  for (const i of installs) if (!first || earlierFact(i, first)) first = i;
  const decisions = new Map<string, InstallDecision>();
  for (const install of installs) {
    const link = installLink(install, knownLinks, deviceClicks, windowDays);
    if (install !== first) decisions.set(install.eventId, { status: 'reinstall', linkId: typeof link === 'string' ? null : link.linkId });
    else decisions.set(install.eventId, typeof link === 'string' ? { status: link } : { status: 'counted', linkId: link.linkId });
  }
  return decisions;
}

export interface RegistrationFact {
  eventId: string;
  userId: string;
  orgId: string;
  linkId: string | null;
  deviceId: string | null;
  occurredAt: number;
}

export interface KnownLink {
  linkId: string;
  orgId: string;
  mentorId: string;
  campaignId: string | null;
}

export type AttributionDecision =
  | { kind: 'attributed'; by: 'LINK' | 'DEVICE'; link: KnownLink; touch?: Touch }
  | { kind: 'pending' } // its link has not arrived yet
  | { kind: 'unattributed' } // nothing to attribute to (yet: a late touch may still come)
  | { kind: 'self_referral'; link: KnownLink };

/**
 * Attribution of a user's earliest registration in an organization (SPEC §4): by its linkId
 * when that names a link of the same organization (waiting while the link is unknown; a link of
 * another organization is ignored, as if absent), else by last touch from its device on a link
 * of the same organization within the window. A mentor registering through their own link is
 * not counted.
 */
export function attributeRegistration(
  registration: RegistrationFact,
  links: ReadonlyMap<string, KnownLink>,
  deviceTouches: readonly Touch[],
  windowDays: number,
): AttributionDecision {
  let link: KnownLink | undefined;
  let by: 'LINK' | 'DEVICE';
  let touch: Touch | undefined;
  const named = registration.linkId ? links.get(registration.linkId) : undefined;
  if (registration.linkId && !named) return { kind: 'pending' };
  if (named && named.orgId === registration.orgId) {
    link = named;
    by = 'LINK';
  } else {
    touch = lastTouch(deviceTouches, registration.occurredAt, windowDays, registration.orgId);
    link = touch && links.get(touch.linkId);
    if (!link) return { kind: 'unattributed' };
    by = 'DEVICE';
  }
  if (link.mentorId === registration.userId) return { kind: 'self_referral', link };
  return touch ? { kind: 'attributed', by, link, touch } : { kind: 'attributed', by, link };
}

/** The registration that decides a user's attribution: the earliest (ties: smallest eventId). */
export function earliestRegistration<R extends Pick<RegistrationFact, 'eventId' | 'occurredAt'>>(registrations: readonly R[]): R | undefined {
  let first: R | undefined;
  for (const r of registrations) if (!first || earlierFact(r, first)) first = r;
  return first;
}

/** A user's registrations by organization: each organization decides its recruits from its own alone. */
export function registrationsByOrg<R extends Pick<RegistrationFact, 'orgId'>>(registrations: readonly R[]): Map<string, R[]> {
  const byOrg = new Map<string, R[]>();
  for (const r of registrations) {
    const list = byOrg.get(r.orgId);
    if (list) list.push(r);
    else byOrg.set(r.orgId, [r]);
  }
  return byOrg;
}

export type RegistrationStatus = 'attributed' | 'pending' | 'unattributed' | 'self_referral' | 'superseded';

/** Everything stored that a user's attribution and activation in one organization depend on. */
export interface UserFacts<R extends RegistrationFact = RegistrationFact> {
  /** The user's registrations in one organization. */
  registrations: readonly R[];
  /** Links that registrations name or touches lie on. */
  links: ReadonlyMap<string, KnownLink>;
  /** Counted clicks, installs and reinstalls from the device of the earliest registration. */
  deviceTouches: readonly Touch[];
  logins: readonly LoginFact[];
}

/** A user's referral: who recruited them, through what, and when each stage happened. */
export interface ReferralDecision<R extends RegistrationFact = RegistrationFact> {
  registration: R;
  link: KnownLink;
  by: 'LINK' | 'DEVICE';
  /** The device's last counted click / install on the link at or before registration, within the window. */
  clickedAt: number | null;
  installedAt: number | null;
  activation: LoginFact | undefined;
}

export interface UserDecision<R extends RegistrationFact = RegistrationFact> {
  statuses: Map<string, RegistrationStatus>;
  referral: ReferralDecision<R> | null;
}

/**
 * A user's whole decision in one organization (SPEC §4): attributed at most once, by their
 * earliest registration in it; activated by the first login at or after that. A pure function
 * of the facts, so any arrival order of those facts gives the same answer.
 */
export function decideUser<R extends RegistrationFact>(facts: UserFacts<R>, windowDays: number): UserDecision<R> {
  const statuses = new Map<string, RegistrationStatus>();
  const orgs = new Set(facts.registrations.map((r) => r.orgId));
  if (orgs.size > 1) throw new Error(`decideUser decides one organization at a time, got ${[...orgs].join(', ')}`);
  const first = earliestRegistration(facts.registrations);
  if (!first) return { statuses, referral: null };
  for (const r of facts.registrations) statuses.set(r.eventId, 'superseded');
  const d = attributeRegistration(first, facts.links, facts.deviceTouches, windowDays);
  statuses.set(first.eventId, d.kind);
  if (d.kind !== 'attributed') return { statuses, referral: null };
  const stageTime = (kind: Touch['kind']) =>
    lastTouch(facts.deviceTouches.filter((t) => t.kind === kind && t.linkId === d.link.linkId), first.occurredAt, windowDays)?.occurredAt ?? null;
  return {
    statuses,
    referral: {
      registration: first, link: d.link, by: d.by, clickedAt: stageTime('click'), installedAt: stageTime('install'),
      activation: firstLoginAtOrAfter(facts.logins, first.occurredAt),
    },
  };
}
