import { createHash } from 'node:crypto';
import type { FunnelStage } from '../events/types.generated.js';

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

/**
 * Deterministic eventId of a ReferralEventRecorded: the same funnel fact always gets the same
 * id, so a re-publish after a crash is recognisable downstream. Clicks and installs are counted
 * per source event; registration and activation once per user.
 */
export function funnelEventId(stage: FunnelStage, subject: string): string {
  return `rfe_${digest(`${stage}\0${subject}`)}`;
}

/** The referral of a user (one per attributed user). */
export function referralId(userId: string): string {
  return `rfl_${digest(`referral\0${userId}`).slice(0, 24)}`;
}
