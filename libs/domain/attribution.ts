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
  | { status: 'pending' } // it names a link not seen yet
  | { status: 'unattributed' }; // no click from its device within the window (yet)

/**
 * Attribution of an install (SPEC §4): to the link it names once that link is known; without
 * one, to the last counted click from its device within the window before it, in any org.
 */
export function decideInstall(install: InstallFact, knownLinks: ReadonlySet<string>, deviceClicks: readonly Touch[], windowDays: number): InstallDecision {
  if (install.linkId !== null) return knownLinks.has(install.linkId) ? { status: 'counted', linkId: install.linkId } : { status: 'pending' };
  const touch = lastTouch(deviceClicks.filter((t) => t.kind === 'click'), install.occurredAt, windowDays);
  return touch ? { status: 'counted', linkId: touch.linkId } : { status: 'unattributed' };
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
 * Attribution of a user's earliest registration (SPEC §4): by its linkId when it has one
 * (waiting while that link is unknown), else by last touch from its device on a link of the
 * same org within the window. A mentor registering through their own link is not counted.
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
  if (registration.linkId) {
    link = links.get(registration.linkId);
    if (!link) return { kind: 'pending' };
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
  for (const r of registrations) if (!first || r.occurredAt < first.occurredAt || (r.occurredAt === first.occurredAt && r.eventId < first.eventId)) first = r;
  return first;
}

export type RegistrationStatus = 'attributed' | 'pending' | 'unattributed' | 'self_referral' | 'superseded';

/** Everything stored that a user's attribution and activation depend on. */
export interface UserFacts<R extends RegistrationFact = RegistrationFact> {
  registrations: readonly R[];
  /** Links that registrations name or touches lie on. */
  links: ReadonlyMap<string, KnownLink>;
  /** Counted clicks and installs from the device of the earliest registration. */
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
 * A user's whole decision (SPEC §4): attributed at most once, by their earliest registration;
 * activated by the first login at or after it. A pure function of the facts, so any arrival
 * order of those facts gives the same answer.
 */
export function decideUser<R extends RegistrationFact>(facts: UserFacts<R>, windowDays: number): UserDecision<R> {
  const statuses = new Map<string, RegistrationStatus>();
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
