import { attributeRegistration, DAY_MS, type KnownLink, type RegistrationFact, type Touch } from './attribution.js';
import { linkStateAt, type LinkValidity } from './link-activity.js';

/** A touch as an explanation shows it: what happened, on which link, when. */
export interface ExplainedTouch {
  eventId: string;
  kind: 'CLICK' | 'INSTALL' | 'REGISTRATION';
  linkId: string | null;
  occurredAt: number;
}

export type CandidateOutcome = 'WON' | 'EARLIER_TOUCH' | 'OUTSIDE_WINDOW' | 'OTHER_ORG' | 'NOT_COUNTED' | 'SELF_REFERRAL';

/** Why a touch did not count at all. */
export type NotCountedReason = 'bot' | 'revoked' | 'expired' | 'unknown_link' | 'no_link';

export interface Candidate extends ExplainedTouch {
  /** The mentor behind the touch's link, null when the link is not known. */
  mentorId: string | null;
  outcome: CandidateOutcome;
  /** For NOT_COUNTED: why. */
  reason: NotCountedReason | null;
}

export interface Explanation {
  rule: 'LINK' | 'DEVICE';
  windowFrom: number;
  windowTo: number;
  winner: ExplainedTouch;
  candidates: Candidate[];
}

/** A stored click or install of the registration's device, whatever was decided for it. */
export interface DeviceFact {
  eventId: string;
  kind: 'click' | 'install';
  /** The click's link; an install's attributed link, else the link it names (null: none). */
  linkId: string | null;
  occurredAt: number;
  isBot: boolean;
  /** Whether the ingest worker counts it as a touch (a counted click, an install or reinstall with a link). */
  touch: boolean;
}

/**
 * Why a user's registration in an organization went to the link it went to (SPEC §5
 * `explanation`), computed with the rule that decides it (attributeRegistration over the
 * device's touches), so it cannot disagree with the numbers: the rule and its window, the
 * winning touch, and every touch of the person's device (and the link the registration named)
 * with why it lost. Null when the registration is not attributed.
 */
export function explainAttribution(
  registration: RegistrationFact,
  links: ReadonlyMap<string, KnownLink & LinkValidity>,
  deviceFacts: readonly DeviceFact[],
  windowDays: number,
): Explanation | null {
  const touches: Touch[] = deviceFacts.flatMap((f) => {
    const link = f.touch && f.linkId !== null ? links.get(f.linkId) : undefined;
    return link ? [{ kind: f.kind, linkId: link.linkId, orgId: link.orgId, occurredAt: f.occurredAt, eventId: f.eventId }] : [];
  });
  const decision = attributeRegistration(registration, links, touches, windowDays);
  if (decision.kind !== 'attributed') return null;
  const windowFrom = registration.occurredAt - windowDays * DAY_MS;
  const windowTo = registration.occurredAt;
  const asRegistration: ExplainedTouch = { eventId: registration.eventId, kind: 'REGISTRATION', linkId: registration.linkId, occurredAt: registration.occurredAt };
  const mentorOf = (linkId: string | null) => (linkId === null ? null : (links.get(linkId)?.mentorId ?? null));
  if (decision.by === 'LINK') {
    return { rule: 'LINK', windowFrom, windowTo, winner: asRegistration, candidates: [{ ...asRegistration, mentorId: decision.link.mentorId, outcome: 'WON', reason: null }] };
  }
  const won = decision.touch as Touch;
  const winner: ExplainedTouch = { eventId: won.eventId, kind: won.kind === 'click' ? 'CLICK' : 'INSTALL', linkId: won.linkId, occurredAt: won.occurredAt };
  const candidates: Candidate[] = [];
  // A link of another organization that the registration named was set aside, as if absent.
  if (registration.linkId !== null) candidates.push({ ...asRegistration, mentorId: mentorOf(registration.linkId), outcome: 'OTHER_ORG', reason: null });
  for (const f of deviceFacts) {
    const link = f.linkId === null ? undefined : links.get(f.linkId);
    const touch: ExplainedTouch = { eventId: f.eventId, kind: f.kind === 'click' ? 'CLICK' : 'INSTALL', linkId: f.linkId, occurredAt: f.occurredAt };
    const candidate = (outcome: CandidateOutcome, reason: NotCountedReason | null = null): Candidate => ({ ...touch, mentorId: link?.mentorId ?? null, outcome, reason });
    if (f.eventId === won.eventId && f.kind === won.kind) candidates.push(candidate('WON'));
    else if (!f.touch || !link) candidates.push(candidate('NOT_COUNTED', notCountedReason(f, link)));
    else if (link.orgId !== registration.orgId) candidates.push(candidate('OTHER_ORG'));
    else if (f.occurredAt > windowTo || f.occurredAt < windowFrom) candidates.push(candidate('OUTSIDE_WINDOW'));
    else if (link.mentorId === registration.userId) candidates.push(candidate('SELF_REFERRAL'));
    else candidates.push(candidate('EARLIER_TOUCH'));
  }
  candidates.sort((a, b) => b.occurredAt - a.occurredAt || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  return { rule: 'DEVICE', windowFrom, windowTo, winner, candidates };
}

function notCountedReason(f: DeviceFact, link: (KnownLink & LinkValidity) | undefined): NotCountedReason {
  if (f.kind === 'click' && f.isBot) return 'bot';
  if (f.linkId === null) return 'no_link';
  if (!link) return 'unknown_link';
  const state = linkStateAt(link, f.occurredAt);
  return state === 'active' ? 'unknown_link' : state;
}
