import type { FunnelStage } from '../events/types.generated.js';

/** The five numbers of SPEC §5 FunnelTotals, in storage order. */
export const FUNNEL_COUNTS = ['clicks', 'uniqueClicks', 'installs', 'registrations', 'activations'] as const;
export type FunnelCount = (typeof FUNNEL_COUNTS)[number];
export type FunnelTotals = Record<FunnelCount, number>;

/**
 * Width of the time slots increments are summed into. Every timezone offset in use today is a
 * multiple of 15 minutes, so all instants of a 15-minute UTC slot fall on the same local day in
 * every zone: the slot start decides both the UTC hour and the org's local day exactly.
 */
export const SLOT_MS = 15 * 60 * 1000;

export interface FunnelEvent {
  orgId: string;
  mentorId: string;
  campaignId?: string | null;
  stage: FunnelStage;
  uniqueVisitor: boolean;
  occurredAt: number;
}

export interface Increment extends FunnelTotals {
  orgId: string;
  mentorId: string;
  campaignId: string | null;
  /** Start of the 15-minute UTC slot, epoch milliseconds. */
  slot: number;
}

export const zeroTotals = (): FunnelTotals => ({ clicks: 0, uniqueClicks: 0, installs: 0, registrations: 0, activations: 0 });

/** Adds one event's contribution to a set of totals. */
export function addEvent(totals: FunnelTotals, event: Pick<FunnelEvent, 'stage' | 'uniqueVisitor'>): void {
  switch (event.stage) {
    case 'CLICKED':
      totals.clicks += 1;
      if (event.uniqueVisitor) totals.uniqueClicks += 1;
      break;
    case 'INSTALLED':
      totals.installs += 1;
      break;
    case 'REGISTERED':
      totals.registrations += 1;
      break;
    case 'ACTIVATED':
      totals.activations += 1;
      break;
  }
}

/**
 * Sums a batch of funnel events per org, mentor, campaign and slot, so a burst for one mentor
 * becomes one increment per slot rather than one row update per event. The output is sorted
 * by key, so the same events always give the same list.
 */
export function sumIncrements(events: Iterable<FunnelEvent>): Increment[] {
  const byKey = new Map<string, Increment>();
  for (const event of events) {
    const slot = Math.floor(event.occurredAt / SLOT_MS) * SLOT_MS;
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
