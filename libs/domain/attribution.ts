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
