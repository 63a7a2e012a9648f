import type { Queryable } from '../../../libs/db/queryable.js';
import type { PlanNote } from '../../../libs/domain/plans.js';
import type { LinkPageSize } from './link-pages.js';

/** A client inside the batch transaction (its statements prepared: see apply-batch). */
export type Tx = Queryable;

/** A batch's counters: what the store found (duplicates, bots) and what the plans report (libs/domain/plans.ts). */
export type Counter = 'duplicate' | 'bot' | PlanNote;

/** Counters a batch reports for metrics. */
export interface BatchEffects {
  note(counter: Counter, n?: number): void;
}

export interface FactsContext {
  tx: Tx;
  effects: BatchEffects;
  attributionWindowDays: number;
  visitorHashKey: string;
  /** How much of its links' clicks a transaction reads (LINK_PAGE unless set: tests page small). */
  linkPage?: LinkPageSize;
}
