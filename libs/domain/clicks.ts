import { linkStateAt, type LinkValidity } from './link-activity.js';
import { utcDay } from './visitor.js';

/** What a click decision needs to know of the click. */
export interface ClickFact {
  eventId: string;
  linkId: string;
  occurredAt: number;
  /** The visitor identity (keyed hash); every stored click has one. */
  visitorHash: string;
  isBot: boolean;
}

export type ClickStatus = 'counted' | 'bot' | 'rejected' | 'pending';

export interface ClickDecision {
  status: ClickStatus;
  /** Why a rejected click was rejected. */
  reason?: 'expired' | 'revoked';
  /** The unique click of its visitor, link and UTC day. */
  unique: boolean;
}

/** The visitor-day a click belongs to: the group in which one click is the unique one. */
export const visitorDayKey = (c: Pick<ClickFact, 'linkId' | 'visitorHash' | 'occurredAt'>): string => JSON.stringify([c.linkId, c.visitorHash, utcDay(c.occurredAt)]);

/**
 * Decides clicks (SPEC §4): a bot or link-preview fetch is never counted; a click on a link
 * never seen waits (pending); otherwise it counts when its link was active at its occurredAt.
 * Among the counted clicks of a visitor on a link in a UTC day, the earliest (ties: smallest
 * eventId) is the unique click. `clicks` must hold every click of each visitor-day it touches,
 * or at least its earliest counted one (the ingest worker gives new clicks only the stored
 * unique click of their visitor-day: the others' decisions stand, see loadClicksToDecide).
 */
export function decideClicks(clicks: readonly ClickFact[], links: ReadonlyMap<string, LinkValidity>): Map<string, ClickDecision> {
  const decisions = new Map<string, ClickDecision>();
  const firstOfDay = new Map<string, ClickFact>();
  for (const c of clicks) {
    const link = links.get(c.linkId);
    let decision: ClickDecision;
    if (c.isBot) decision = { status: 'bot', unique: false };
    else if (!link) decision = { status: 'pending', unique: false };
    else {
      const state = linkStateAt(link, c.occurredAt);
      decision = state === 'active' ? { status: 'counted', unique: false } : { status: 'rejected', reason: state, unique: false };
    }
    decisions.set(c.eventId, decision);
    if (decision.status !== 'counted') continue;
    const key = visitorDayKey(c);
    const first = firstOfDay.get(key);
    if (!first || c.occurredAt < first.occurredAt || (c.occurredAt === first.occurredAt && c.eventId < first.eventId)) firstOfDay.set(key, c);
  }
  for (const c of firstOfDay.values()) (decisions.get(c.eventId) as ClickDecision).unique = true;
  return decisions;
}
