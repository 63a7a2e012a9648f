import type { FunnelStage } from '../events/types.generated.js';
import type { KnownLink } from './attribution.js';
import { funnelEventId, retractionEventId } from './event-ids.js';

/** What a counted funnel decision says: the body of its ReferralEventRecorded. */
export interface FunnelEventContent {
  stage: FunnelStage;
  orgId: string;
  mentorId: string;
  linkId: string;
  campaignId: string | null;
  referralId: string | null;
  userId: string | null;
  uniqueVisitor: boolean;
  occurredAt: number;
  /** The input event the decision rests on (the click, install, registration or login). */
  sourceEventId: string;
}

/**
 * A funnel record: one funnel event decided for a subject (a counted decision, or the
 * retraction of one), published as a ReferralEventRecorded. The ingest worker keeps each as a
 * row of `referral_trackings` (a table named before the type), which its outbox points into and
 * the rebuild counts from.
 */
export interface FunnelRecord extends FunnelEventContent {
  eventId: string;
  retractsEventId: string | null;
}

/**
 * A subject's decision as last published: `revision` numbers the events issued for it so far
 * (0 for the first), `live` is the event that currently counts, or null when none does.
 */
export interface PublishedDecision {
  revision: number;
  live: FunnelRecord | null;
}

/**
 * The subject of a decision: the click or install event for CLICKED and INSTALLED, the user
 * for REGISTERED and ACTIVATED.
 */
export interface DecisionKey {
  stage: FunnelStage;
  subject: string;
}

export const decisionKey = (k: DecisionKey): string => `${k.stage}\0${k.subject}`;

export interface Reconciled {
  /** Events to publish, in order: the retraction of the old event, then the new one. */
  records: FunnelRecord[];
  /** The decision to store, or null when nothing changed: the live event's id and time (the key of its funnel record), or nulls. */
  stored: { revision: number; liveEventId: string | null; liveOccurredAt: number | null } | null;
}

const sameContent = (a: FunnelEventContent, b: FunnelEventContent): boolean =>
  a.stage === b.stage && a.orgId === b.orgId && a.mentorId === b.mentorId && a.linkId === b.linkId && a.campaignId === b.campaignId &&
  a.referralId === b.referralId && a.userId === b.userId && a.uniqueVisitor === b.uniqueVisitor && a.occurredAt === b.occurredAt &&
  a.sourceEventId === b.sourceEventId;

/**
 * Turns a decision into the events that bring downstream counts from what was published to
 * what is decided now: nothing when they agree; otherwise a retraction of the live event (same
 * body, negative) and a new event under the next revision. Every id is deterministic and none
 * is ever reused for a different body, so consumers can count each id once.
 */
export function reconcile(key: DecisionKey, desired: FunnelEventContent | null, published: PublishedDecision | undefined): Reconciled {
  const live = published?.live ?? null;
  if (live === null && desired === null) return { records: [], stored: null };
  if (live !== null && desired !== null && sameContent(live, desired)) return { records: [], stored: null };
  const records: FunnelRecord[] = [];
  if (live !== null) records.push({ ...live, eventId: retractionEventId(live.eventId), retractsEventId: live.eventId });
  if (desired === null) return { records, stored: { revision: published?.revision ?? 0, liveEventId: null, liveOccurredAt: null } };
  const revision = published === undefined ? 0 : published.revision + 1;
  const eventId = funnelEventId(key.stage, key.subject, revision);
  records.push({ ...desired, eventId, retractsEventId: null });
  return { records, stored: { revision, liveEventId: eventId, liveOccurredAt: desired.occurredAt } };
}

const onLink = (link: KnownLink) => ({ orgId: link.orgId, mentorId: link.mentorId, linkId: link.linkId, campaignId: link.campaignId });

/** CLICKED for a counted click. */
export const clickedEvent = (click: { eventId: string; occurredAt: number }, link: KnownLink, unique: boolean): FunnelEventContent => ({
  stage: 'CLICKED', ...onLink(link), referralId: null, userId: null, uniqueVisitor: unique, occurredAt: click.occurredAt, sourceEventId: click.eventId,
});

/** INSTALLED for a counted install. */
export const installedEvent = (install: { eventId: string; occurredAt: number }, link: KnownLink): FunnelEventContent => ({
  stage: 'INSTALLED', ...onLink(link), referralId: null, userId: null, uniqueVisitor: false, occurredAt: install.occurredAt, sourceEventId: install.eventId,
});

/** REGISTERED for an attributed user, at their earliest registration. */
export const registeredEvent = (referral: string, registration: { eventId: string; userId: string; occurredAt: number }, link: KnownLink): FunnelEventContent => ({
  stage: 'REGISTERED', ...onLink(link), referralId: referral, userId: registration.userId, uniqueVisitor: false,
  occurredAt: registration.occurredAt, sourceEventId: registration.eventId,
});

/** ACTIVATED for an attributed user, at their first login at or after registration. */
export const activatedEvent = (referral: string, userId: string, login: { eventId: string; occurredAt: number }, link: KnownLink): FunnelEventContent => ({
  stage: 'ACTIVATED', ...onLink(link), referralId: referral, userId, uniqueVisitor: false, occurredAt: login.occurredAt, sourceEventId: login.eventId,
});
