import type { PoolClient } from 'pg';
import type { FunnelStage } from '../../../libs/events/types.generated.js';

/** A client inside the batch transaction. */
export type Tx = PoolClient;

/** One row of the referral stage log, which is also the outbox of ReferralEventRecorded. */
export interface Tracking {
  eventId: string;
  orgId: string;
  mentorId: string;
  linkId: string;
  campaignId: string | null;
  referralId: string | null;
  userId: string | null;
  stage: FunnelStage;
  uniqueVisitor: boolean;
  occurredAt: Date;
  sourceEventId: string;
}

/** What a batch produced, beyond its facts: funnel events to publish and counters for metrics. */
export interface BatchEffects {
  trackings: Tracking[];
  note(counter: 'duplicate' | 'bot' | 'rejected_expired' | 'rejected_revoked' | 'pending_link', n?: number): void;
}

export interface FactsContext {
  tx: Tx;
  effects: BatchEffects;
  attributionWindowDays: number;
  visitorHashKey: string;
}
