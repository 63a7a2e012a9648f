import { hash } from 'node:crypto';
import type { FunnelStage } from '../events/types.generated.js';

// One-shot (no Hash object per id): half the time of createHash().update().digest() for these short texts.
const digest = (text: string): string => hash('sha256', text, 'hex').slice(0, 32);

/**
 * Deterministic eventId of a ReferralEventRecorded: the same funnel decision always gets the
 * same id, so a re-publish after a crash is recognisable downstream. Clicks and installs are
 * decided per source event, registration and activation once per user. A decision that is
 * revised gets a new revision and so a new id: no id ever stands for two different events.
 */
export function funnelEventId(stage: FunnelStage, subject: string, revision = 0): string {
  return `rfe_${digest(revision === 0 ? `${stage}\0${subject}` : `${stage}\0${subject}\0${revision}`)}`;
}

/** The id of the event that retracts `eventId` (each event is retracted at most once). */
export function retractionEventId(eventId: string): string {
  return `rfe_${digest(`RETRACT\0${eventId}`)}`;
}

/**
 * The subject of a user's REGISTERED and ACTIVATED decisions in one organization: attribution
 * is per organization (SPEC §4). The organization's length comes first, so no two pairs of ids
 * give the same text (ids may hold any character but NUL, which Postgres text cannot store).
 */
export function memberSubject(userId: string, orgId: string): string {
  return `${orgId.length}:${orgId}:${userId}`;
}

/** The referral of a user in an organization (one per attributed user and organization). */
export function referralId(userId: string, orgId: string): string {
  return `rfl_${digest(`referral\0${userId}\0${orgId}`).slice(0, 24)}`;
}
