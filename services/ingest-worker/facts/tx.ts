import type { Queryable } from '../../../libs/db/queryable.js';
import type { FunnelRecord } from '../../../libs/domain/funnel-decisions.js';

/** A client inside the batch transaction (its statements prepared: see apply-batch). */
export type Tx = Queryable;

/** One row of the referral stage log, which is also the outbox of ReferralEventRecorded. */
export type Tracking = FunnelRecord;

export type Counter = 'duplicate' | 'bot' | 'rejected_expired' | 'rejected_revoked' | 'pending_link' | 'retraction' | 'reinstall';

/** Counters a batch reports for metrics. */
export interface BatchEffects {
  note(counter: Counter, n?: number): void;
}

export interface FactsContext {
  tx: Tx;
  effects: BatchEffects;
  attributionWindowDays: number;
  visitorHashKey: string;
}
