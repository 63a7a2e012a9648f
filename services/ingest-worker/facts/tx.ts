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

/**
 * Ends a statement `with inserted as (insert ... on conflict do nothing returning event_id)`
 * whose $1 holds the eventIds it inserts: it answers with those that were stored before, not
 * inserted now. A batch is new facts, nearly always: it reads back nothing instead of a row per
 * fact (1,500 rows a lane of 1,000 events, each parsed into a row object and collected).
 */
export const ALREADY_STORED = 'select e as event_id from unnest($1::text[]) e except select event_id from inserted';

/** The items a statement ending in ALREADY_STORED stored now: all of them unless it answered with some eventIds. */
export function storedNow<T>(items: T[], eventId: (item: T) => string, before: readonly { event_id: string }[]): T[] {
  if (before.length === 0) return items;
  const stored = new Set(before.map((r) => r.event_id));
  return items.filter((item) => !stored.has(eventId(item)));
}
