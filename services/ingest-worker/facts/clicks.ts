import type { InviteClicked } from '../../../libs/events/types.generated.js';
import { erasedDevicePseudonym, isBotUserAgent, utcDay, visitorHash } from '../../../libs/domain/visitor.js';
import type { ClickDecision, ClickFact, ClickStatus } from '../../../libs/domain/clicks.js';
import type { IncomingClick, PublishedOnFact, StoredClick } from '../../../libs/domain/plans.js';
import { LIVE_RECORD_COLUMNS, publishedOnFact, type LiveRecordRow } from './funnel-records.js';
import { ALREADY_STORED, storedNow, type FactsContext, type Tx } from './tx.js';
import { visitorDayKey, type VisitorDay } from './link-pages.js';

/** A click of this batch, ready to be decided and stored (not stored yet). */
export interface NewClick extends IncomingClick {
  platform: string | null;
  /** What stands in for the device id and visitor hash if the device is erased (see withErasedDevices). */
  pseudonym: string | null;
}

/**
 * Turns click records into the facts to store: the keyed visitor hash (never the raw ip), the
 * bot verdict and the device's pseudonym. Nothing is read or written: clicks are stored with
 * their first decision (see insertClicks), so a batch writes each click once.
 */
export function prepareClicks(ctx: Pick<FactsContext, 'visitorHashKey'>, clicks: InviteClicked[]): NewClick[] {
  return clicks.map((c) => {
    const deviceId = c.visitor.deviceId ?? null;
    return {
      eventId: c.eventId, linkId: c.linkId, occurredAt: c.occurredAt, visitorHash: visitorHash(c.visitor, ctx.visitorHashKey, c.eventId),
      isBot: isBotUserAgent(c.visitor.userAgent), deviceId, platform: c.visitor.platform ?? null,
      pseudonym: deviceId ? erasedDevicePseudonym(deviceId, ctx.visitorHashKey) : null,
    };
  });
}

/**
 * A click from an erased device keeps the device's pseudonym in place of its device id and
 * visitor hash. Asked when the click is about to be stored, after every other fact of the
 * transaction (an erasure, or a late registration of an erased user, stored alongside).
 */
export async function withErasedDevices(tx: Tx, clicks: NewClick[]): Promise<NewClick[]> {
  const pseudonyms = [...new Set(clicks.flatMap((c) => (c.pseudonym ? [c.pseudonym] : [])))];
  if (pseudonyms.length === 0) return clicks;
  const { rows } = await tx.query<{ pseudonym: string }>('select pseudonym from erased_devices where pseudonym = any($1::text[])', [pseudonyms]);
  if (rows.length === 0) return clicks;
  const erased = new Set(rows.map((r) => r.pseudonym));
  return clicks.map((c) => (c.pseudonym && erased.has(c.pseudonym) ? { ...c, deviceId: c.pseudonym, visitorHash: c.pseudonym } : c));
}

/**
 * Stores new clicks with their decisions and what is published for them; a click whose eventId
 * is already stored is not stored again. Returns the eventIds stored now. The statement answers
 * with the eventIds that were stored before (see ALREADY_STORED), usually none, not a row per
 * click stored.
 */
export async function insertClicks(tx: Tx, clicks: { click: NewClick; decision: ClickDecision; published: PublishedOnFact }[]): Promise<Set<string>> {
  if (clicks.length === 0) return new Set();
  const { rows } = await tx.query<{ event_id: string }>(
    `with inserted as (
       insert into clicks (event_id, link_id, occurred_at, visitor_hash, device_id, platform, is_bot, status, unique_visitor, revision, live_event_id)
       select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::text[], $9::bool[], $10::int[], $11::text[])
       on conflict (event_id) do nothing
       returning event_id)
     ${ALREADY_STORED}`,
    [
      clicks.map((c) => c.click.eventId), clicks.map((c) => c.click.linkId), clicks.map((c) => new Date(c.click.occurredAt)),
      clicks.map((c) => c.click.visitorHash), clicks.map((c) => c.click.deviceId), clicks.map((c) => c.click.platform),
      clicks.map((c) => c.click.isBot), clicks.map((c) => c.decision.status), clicks.map((c) => c.decision.unique),
      clicks.map((c) => c.published?.revision ?? null), clicks.map((c) => c.published?.liveEventId ?? null),
    ],
  );
  return new Set(storedNow(clicks, (c) => c.click.eventId, rows).map((c) => c.click.eventId));
}

/** The visitor-day of each click. */
export function visitorDaysOf(clicks: readonly ClickFact[]): VisitorDay[] {
  return clicks.map((c) => ({ linkId: c.linkId, visitorHash: c.visitorHash, day: utcDay(c.occurredAt) }));
}

/**
 * The stored non-bot clicks decisions depend on, each with what was published for it (its live
 * funnel record is at the click's own time):
 * - `whole`: every click of these visitor-days (a link's state changed: each click's status may);
 * - `uniqueOf`: the unique click of these visitor-days, the visitor-days of new clicks. A new
 *   click's decision, and the only stored one it can change, need no more: stored statuses stand
 *   (their link did not change, or its pages decide them again), and the unique click is the
 *   earliest counted one, which a new click displaces or not. A redelivered click is not read:
 *   its row stands as it was, and the store does not take it again (see planStoredClicks).
 * One probe of clicks_visitor_day per visitor-day (the unique click is its first key past the
 * day and visitor, migration 0034), so a visitor-day a producer filled with clicks costs a new
 * click no more than any other.
 */
export async function loadClicksToDecide(tx: Tx, days: { whole: readonly VisitorDay[]; uniqueOf: readonly VisitorDay[] }): Promise<StoredClick[]> {
  const whole = new Map(days.whole.map((d) => [visitorDayKey(d), d]));
  const uniqueOf = new Map(days.uniqueOf.flatMap((d) => (whole.has(visitorDayKey(d)) ? [] : [[visitorDayKey(d), d] as const])));
  const all = [...[...whole.values()].map((d) => ({ ...d, whole: true })), ...[...uniqueOf.values()].map((d) => ({ ...d, whole: false }))];
  if (all.length === 0) return [];
  const { rows } = await tx.query<{ event_id: string; link_id: string; occurred_at: Date; visitor_hash: string; device_id: string | null; status: ClickStatus; unique_visitor: boolean } & LiveRecordRow>(
    // The lateral subqueries (kept apart by `offset 0`) stop the planner from misjudging the join
    // and sorting the whole table, which cost 120 ms per batch at 130k clicks and grows with the
    // table; each runs only for its kind of visitor-day (a one-time filter on d.whole).
    `with d as (select * from unnest($1::text[], $2::text[], $3::date[], $4::bool[]) as d(link_id, visitor_hash, day, whole)),
     k as (
       select c.event_id, c.link_id, c.occurred_at, c.visitor_hash, c.device_id, c.status, c.unique_visitor, c.revision, c.live_event_id
         from d cross join lateral (
           select * from clicks c
            where d.whole and c.link_id = d.link_id and (c.occurred_at at time zone 'UTC')::date = d.day and c.visitor_hash = d.visitor_hash and not c.is_bot
           offset 0) c
       union all
       select c.event_id, c.link_id, c.occurred_at, c.visitor_hash, c.device_id, c.status, c.unique_visitor, c.revision, c.live_event_id
         from d cross join lateral (
           select * from clicks c
            where not d.whole and c.link_id = d.link_id and (c.occurred_at at time zone 'UTC')::date = d.day and c.visitor_hash = d.visitor_hash and c.unique_visitor and not c.is_bot
           offset 0) c)
     select k.event_id, k.link_id, k.occurred_at, k.visitor_hash, k.device_id, k.status, k.unique_visitor, k.revision, ${LIVE_RECORD_COLUMNS}
       from k left join referral_trackings t on t.occurred_at = k.occurred_at and t.event_id = k.live_event_id`,
    [all.map((d) => d.linkId), all.map((d) => d.visitorHash), all.map((d) => d.day), all.map((d) => d.whole)],
  );
  return rows.map((r) => ({
    eventId: r.event_id, linkId: r.link_id, occurredAt: r.occurred_at.getTime(), visitorHash: r.visitor_hash, isBot: false,
    deviceId: r.device_id, status: r.status, unique: r.unique_visitor,
    published: publishedOnFact(r),
  }));
}

/** Stores the decisions, and what is published for them, of clicks where either changed. */
export async function writeClickDecisions(tx: Tx, changed: { eventId: string; decision: ClickDecision; published: PublishedOnFact }[]): Promise<void> {
  if (changed.length === 0) return;
  await tx.query(
    `update clicks c set status = t.s, unique_visitor = t.u, revision = t.r, live_event_id = t.l
       from unnest($1::text[], $2::text[], $3::bool[], $4::int[], $5::text[]) as t(e, s, u, r, l) where c.event_id = t.e`,
    [
      changed.map((c) => c.eventId), changed.map((c) => c.decision.status), changed.map((c) => c.decision.unique),
      changed.map((c) => c.published?.revision ?? null), changed.map((c) => c.published?.liveEventId ?? null),
    ],
  );
}
