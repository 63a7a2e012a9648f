import type { InviteClicked } from '../../../libs/events/types.generated.js';
import { isBotUserAgent, utcDay, visitorHash } from '../../../libs/domain/visitor.js';
import { linkStateAt } from '../../../libs/domain/link-activity.js';
import { funnelEventId } from '../../../libs/domain/event-ids.js';
import { loadLinks } from './links.js';
import { insertTrackings } from './trackings.js';
import { backfillStageTimes } from './referral-stage-times.js';
import type { FactsContext } from './tx.js';

/**
 * Stores new clicks (a redelivered eventId meets the primary key and is dropped): bots and
 * link-preview fetchers are kept with status 'bot', everything else waits as 'pending' until
 * resolveClicks finds its link. Returns the event ids that were new.
 */
export async function insertClicks(ctx: FactsContext, clicks: InviteClicked[]): Promise<string[]> {
  if (clicks.length === 0) return [];
  const bots = clicks.map((c) => isBotUserAgent(c.visitor.userAgent));
  const { rows } = await ctx.tx.query<{ event_id: string; is_bot: boolean }>(
    `insert into clicks (event_id, link_id, occurred_at, visitor_hash, device_id, platform, is_bot, status)
     select e, l, o, v, d, p, b, case when b then 'bot' else 'pending' end
       from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bool[]) as t(e, l, o, v, d, p, b)
     on conflict (event_id) do nothing
     returning event_id, is_bot`,
    [
      clicks.map((c) => c.eventId), clicks.map((c) => c.linkId), clicks.map((c) => new Date(c.occurredAt)),
      clicks.map((c) => visitorHash(c.visitor, ctx.visitorHashKey, c.eventId)), clicks.map((c) => c.visitor.deviceId ?? null),
      clicks.map((c) => c.visitor.platform ?? null), bots,
    ],
  );
  ctx.effects.note('duplicate', clicks.length - rows.length);
  ctx.effects.note('bot', rows.filter((r) => r.is_bot).length);
  return rows.filter((r) => !r.is_bot).map((r) => r.event_id);
}

/**
 * Decides pending clicks whose link is known: counted when the link was active at the click's
 * occurredAt, rejected otherwise. The first counted click of a visitor on a link per UTC day
 * (earliest occurredAt) is the unique one. Publishes CLICKED for each counted click.
 * Returns the device ids of newly counted clicks (they may complete a device attribution).
 */
export async function resolveClicks(ctx: FactsContext, where: { eventIds?: string[]; linkIds?: string[] }): Promise<string[]> {
  const { tx } = ctx;
  const { rows: pending } = await tx.query<{ event_id: string; link_id: string; occurred_at: Date; visitor_hash: string | null; device_id: string | null }>(
    `select event_id, link_id, occurred_at, visitor_hash, device_id from clicks
      where status = 'pending' and (event_id = any($1::text[]) or link_id = any($2::text[]))`,
    [where.eventIds ?? [], where.linkIds ?? []],
  );
  if (pending.length === 0) return [];
  const links = await loadLinks(tx, pending.map((c) => c.link_id));

  const decided: { eventId: string; status: 'counted' | 'rejected'; unique: boolean }[] = [];
  const counted: typeof pending = [];
  for (const click of pending) {
    const link = links.get(click.link_id);
    if (!link) {
      ctx.effects.note('pending_link');
      continue;
    }
    const state = linkStateAt(link, click.occurred_at.getTime());
    if (state === 'active') counted.push(click);
    else ctx.effects.note(state === 'expired' ? 'rejected_expired' : 'rejected_revoked');
    decided.push({ eventId: click.event_id, status: state === 'active' ? 'counted' : 'rejected', unique: false });
  }

  const unique = new Set<string>();
  if (counted.length > 0) {
    const withVisitor = counted.filter((c) => c.visitor_hash !== null);
    const { rows } = await tx.query<{ event_id: string }>(
      `insert into unique_visits (link_id, visitor_hash, day, event_id)
       select distinct on (l, v, d) l, v, d, e
         from unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::timestamptz[]) as t(l, v, d, e, o)
        order by l, v, d, o, e
       on conflict do nothing
       returning event_id`,
      [
        withVisitor.map((c) => c.link_id), withVisitor.map((c) => c.visitor_hash), withVisitor.map((c) => utcDay(c.occurred_at.getTime())),
        withVisitor.map((c) => c.event_id), withVisitor.map((c) => c.occurred_at),
      ],
    );
    for (const r of rows) unique.add(r.event_id);
  }
  for (const d of decided) d.unique = unique.has(d.eventId);

  await tx.query(
    `update clicks c set status = t.s, unique_visitor = t.u
       from unnest($1::text[], $2::text[], $3::bool[]) as t(e, s, u)
      where c.event_id = t.e`,
    [decided.map((d) => d.eventId), decided.map((d) => d.status), decided.map((d) => d.unique)],
  );

  ctx.effects.trackings.push(
    ...(await insertTrackings(
      tx,
      counted.map((c) => {
        const link = links.get(c.link_id)!;
        return {
          eventId: funnelEventId('CLICKED', c.event_id),
          orgId: link.orgId,
          mentorId: link.mentorId,
          linkId: link.linkId,
          campaignId: link.campaignId,
          referralId: null,
          userId: null,
          stage: 'CLICKED' as const,
          uniqueVisitor: unique.has(c.event_id),
          occurredAt: c.occurred_at,
          sourceEventId: c.event_id,
        };
      }),
    )),
  );
  const fromDevices = counted.flatMap((c) => (c.device_id ? [{ deviceId: c.device_id, linkId: c.link_id, occurredAt: c.occurred_at }] : []));
  await backfillStageTimes(tx, 'clicked_at', fromDevices, ctx.attributionWindowDays);
  return [...new Set(fromDevices.map((c) => c.deviceId))];
}
