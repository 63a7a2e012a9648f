import type { InviteClicked } from '../../../libs/events/types.generated.js';
import { erasedDevicePseudonym, isBotUserAgent, visitorHash } from '../../../libs/domain/visitor.js';
import { visitorDayKey, type ClickDecision, type ClickFact, type ClickStatus } from '../../../libs/domain/clicks.js';
import type { FactsContext, Tx } from './tx.js';

/** A stored non-bot click with what was last decided for it. */
export interface StoredClick extends ClickFact {
  deviceId: string | null;
  status: ClickStatus;
  unique: boolean;
}

export interface InsertedClicks {
  /** New clicks that are not bots (bots are final when stored). */
  eventIds: string[];
  linkIds: string[];
  deviceIds: string[];
  /** The visitor-days of the new clicks (see visitorDayKey). */
  visitorDays: string[];
}

/**
 * Stores new clicks (a redelivered eventId meets the primary key and is dropped). Bots and
 * link-preview fetchers are stored as 'bot' for good; every other click starts 'pending' and
 * is decided by decideClicks. A click from an erased device stores the device's pseudonym in
 * place of its device id and visitor hash.
 */
export async function insertClicks(ctx: FactsContext, clicks: InviteClicked[]): Promise<InsertedClicks> {
  if (clicks.length === 0) return { eventIds: [], linkIds: [], deviceIds: [], visitorDays: [] };
  const device = (c: InviteClicked) => c.visitor.deviceId ?? null;
  const { rows } = await ctx.tx.query<{ event_id: string; link_id: string; device_id: string | null; is_bot: boolean; visitor_hash: string; occurred_at: Date }>(
    `insert into clicks (event_id, link_id, occurred_at, visitor_hash, device_id, platform, is_bot, status)
     select t.e, t.l, t.o, case when ed.pseudonym is null then t.v else t.x end, case when ed.pseudonym is null then t.d else t.x end,
            t.p, t.b, case when t.b then 'bot' else 'pending' end
       from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::text[]) as t(e, l, o, v, d, p, b, x)
       left join erased_devices ed on ed.pseudonym = t.x
     on conflict (event_id) do nothing
     returning event_id, link_id, device_id, is_bot, visitor_hash, occurred_at`,
    [
      clicks.map((c) => c.eventId), clicks.map((c) => c.linkId), clicks.map((c) => new Date(c.occurredAt)),
      clicks.map((c) => visitorHash(c.visitor, ctx.visitorHashKey, c.eventId)), clicks.map(device),
      clicks.map((c) => c.visitor.platform ?? null), clicks.map((c) => isBotUserAgent(c.visitor.userAgent)),
      clicks.map((c) => (device(c) ? erasedDevicePseudonym(device(c) as string, ctx.visitorHashKey) : null)),
    ],
  );
  ctx.effects.note('duplicate', clicks.length - rows.length);
  ctx.effects.note('bot', rows.filter((r) => r.is_bot).length);
  const people = rows.filter((r) => !r.is_bot);
  return {
    eventIds: people.map((r) => r.event_id),
    linkIds: [...new Set(people.map((r) => r.link_id))],
    deviceIds: [...new Set(people.flatMap((r) => (r.device_id ? [r.device_id] : [])))],
    visitorDays: [...new Set(people.map((r) => visitorDayKey({ linkId: r.link_id, visitorHash: r.visitor_hash, occurredAt: r.occurred_at.getTime() })))],
  };
}

/**
 * Every non-bot click a decision about the given clicks or links depends on: all clicks of the
 * visitor-days of `eventIds` (one of them is the unique click) and all clicks on `linkIds`.
 */
export async function loadClicksToDecide(tx: Tx, eventIds: string[], linkIds: string[]): Promise<StoredClick[]> {
  if (eventIds.length === 0 && linkIds.length === 0) return [];
  const { rows } = await tx.query<{ event_id: string; link_id: string; occurred_at: Date; visitor_hash: string; device_id: string | null; status: ClickStatus; unique_visitor: boolean }>(
    `with days as (
       select distinct link_id, visitor_hash, (occurred_at at time zone 'UTC')::date as day from clicks where event_id = any($1::text[]) and not is_bot
     )
     select c.event_id, c.link_id, c.occurred_at, c.visitor_hash, c.device_id, c.status, c.unique_visitor
       from days d join clicks c
         on c.link_id = d.link_id and c.visitor_hash = d.visitor_hash and (c.occurred_at at time zone 'UTC')::date = d.day and not c.is_bot
     union
     select event_id, link_id, occurred_at, visitor_hash, device_id, status, unique_visitor from clicks where link_id = any($2::text[]) and not is_bot`,
    [eventIds, linkIds],
  );
  return rows.map((r) => ({
    eventId: r.event_id, linkId: r.link_id, occurredAt: r.occurred_at.getTime(), visitorHash: r.visitor_hash, isBot: false,
    deviceId: r.device_id, status: r.status, unique: r.unique_visitor,
  }));
}

/** Stores the decisions that differ from what is stored. */
export async function writeClickDecisions(tx: Tx, changed: { eventId: string; decision: ClickDecision }[]): Promise<void> {
  if (changed.length === 0) return;
  await tx.query(
    `update clicks c set status = t.s, unique_visitor = t.u from unnest($1::text[], $2::text[], $3::bool[]) as t(e, s, u) where c.event_id = t.e`,
    [changed.map((c) => c.eventId), changed.map((c) => c.decision.status), changed.map((c) => c.decision.unique)],
  );
}
