import type { Counter } from 'prom-client';

/** What a funnel event is counted under: its stage, and whether it adds or retracts. */
interface Counted {
  stage: string;
  retractsEventId?: string | null;
}

/**
 * Adds the funnel events of a batch to `counter`, by stage and kind (`event` or `retraction`):
 * one increment per pair present, not one per event, since prom-client hashes the labels of
 * every increment and a batch holds thousands of events of a few pairs.
 */
export function countFunnelEventsByKind(counter: Counter<'stage' | 'kind'>, events: readonly Counted[]): void {
  const tally = new Map<string, { stage: string; kind: 'event' | 'retraction'; n: number }>();
  for (const e of events) {
    const kind = e.retractsEventId ? 'retraction' : 'event';
    const key = `${kind}:${e.stage}`;
    const entry = tally.get(key);
    if (entry) entry.n += 1;
    else tally.set(key, { stage: e.stage, kind, n: 1 });
  }
  for (const { stage, kind, n } of tally.values()) counter.inc({ stage, kind }, n);
}
