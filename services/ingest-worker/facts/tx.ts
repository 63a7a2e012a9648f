import type { Queryable } from '../../../libs/db/queryable.js';

/** A client inside the batch transaction (its statements prepared: see apply-batch). */
export type Tx = Queryable;

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
