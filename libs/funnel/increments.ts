import type { FunnelStage } from '../events/types.generated.js';
import { slotStart } from './periods.js';

/**
 * The catalogue of funnel counts: each count's name in the API, its column in the funnel
 * tables, and the events it counts. The aggregator's increments, its upsert, the rebuild and
 * the read sums are all generated from this list, so a new count is one line here (and a
 * migration adding its column).
 */
export const FUNNEL_COUNT_CATALOGUE = [
  { name: 'clicks', column: 'clicks', stage: 'CLICKED', uniqueOnly: false },
  { name: 'uniqueClicks', column: 'unique_clicks', stage: 'CLICKED', uniqueOnly: true },
  { name: 'installs', column: 'installs', stage: 'INSTALLED', uniqueOnly: false },
  { name: 'registrations', column: 'registrations', stage: 'REGISTERED', uniqueOnly: false },
  { name: 'activations', column: 'activations', stage: 'ACTIVATED', uniqueOnly: false },
] as const satisfies readonly { name: string; column: string; stage: FunnelStage; uniqueOnly: boolean }[];

/** The five numbers of SPEC §5 FunnelTotals, in storage order. */
export const FUNNEL_COUNTS = FUNNEL_COUNT_CATALOGUE.map((c) => c.name);
export type FunnelCount = (typeof FUNNEL_COUNT_CATALOGUE)[number]['name'];
export type FunnelTotals = Record<FunnelCount, number>;

/** The count columns, comma-separated, in catalogue order. */
export const COUNT_COLUMNS = FUNNEL_COUNT_CATALOGUE.map((c) => c.column).join(', ');

/**
 * SQL that sums a relation of funnel events (columns stage, unique_visitor, retracts_event_id)
 * into the count columns, in catalogue order: an event adds one, a retraction takes one away.
 */
export const COUNT_EVENTS_SQL = FUNNEL_COUNT_CATALOGUE.map(
  (c) => `coalesce(sum(case when retracts_event_id is null then 1 else -1 end) filter (where stage = '${c.stage}'${c.uniqueOnly ? ' and unique_visitor' : ''}), 0)`,
).join(', ');

export interface FunnelEvent {
  orgId: string;
  mentorId: string;
  campaignId?: string | null;
  stage: FunnelStage;
  uniqueVisitor: boolean;
  occurredAt: number;
  /** Set on a retraction: the event subtracts what the retracted one added. */
  retractsEventId?: string | null;
}

export interface Increment extends FunnelTotals {
  orgId: string;
  mentorId: string;
  campaignId: string | null;
  /** Start of the 15-minute UTC slot (periods.ts slotStart), epoch milliseconds. */
  slot: number;
}

/**
 * Zeros of every count. Written out (a count added to the catalogue fails to compile here until
 * it is added): every series point of a read builds one, and an object built from entries is a
 * slow dictionary to V8.
 */
export const zeroTotals = (): FunnelTotals => ({ clicks: 0, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 });

/** Adds one event's contribution to a set of totals (subtracts it for a retraction). */
export function addEvent(totals: FunnelTotals, event: Pick<FunnelEvent, 'stage' | 'uniqueVisitor' | 'retractsEventId'>): void {
  const sign = event.retractsEventId ? -1 : 1;
  for (const c of FUNNEL_COUNT_CATALOGUE) if (c.stage === event.stage && (!c.uniqueOnly || event.uniqueVisitor)) totals[c.name] += sign;
}

/**
 * Sums a batch of funnel events per org, mentor, campaign and slot, so a burst for one mentor
 * becomes one increment per slot rather than one row update per event. The output is sorted
 * by key, so the same events always give the same list.
 */
export function sumIncrements(events: Iterable<FunnelEvent>): Increment[] {
  const byKey = new Map<string, Increment>();
  for (const event of events) {
    const slot = slotStart(event.occurredAt);
    const campaignId = event.campaignId ?? null;
    const key = JSON.stringify([event.mentorId, slot, campaignId, event.orgId]);
    let inc = byKey.get(key);
    if (!inc) {
      inc = { orgId: event.orgId, mentorId: event.mentorId, campaignId, slot, ...zeroTotals() };
      byKey.set(key, inc);
    }
    addEvent(inc, event);
  }
  return [...byKey.values()].sort(compareIncrements);
}

function compareIncrements(a: Increment, b: Increment): number {
  return cmp(a.mentorId, b.mentorId) || a.slot - b.slot || cmp(a.campaignId ?? '', b.campaignId ?? '') || cmp(a.orgId, b.orgId);
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
