import type { AppInstalled } from '../../../libs/events/types.generated.js';
import { lastTouch } from '../../../libs/domain/attribution.js';
import { funnelEventId } from '../../../libs/domain/event-ids.js';
import { loadLinks } from './links.js';
import { loadDeviceTouches } from './touches.js';
import { insertTrackings } from './trackings.js';
import { backfillStageTimes } from './referral-stage-times.js';
import type { FactsContext } from './tx.js';

/** Stores new installs: 'pending' when they name a link, 'unattributed' otherwise. */
export async function insertInstalls(ctx: FactsContext, installs: AppInstalled[]): Promise<string[]> {
  if (installs.length === 0) return [];
  const { rows } = await ctx.tx.query<{ event_id: string }>(
    `insert into installs (event_id, device_id, link_id, platform, occurred_at, status)
     select e, d, l, p, o, case when l is null then 'unattributed' else 'pending' end
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[]) as t(e, d, l, p, o)
     on conflict (event_id) do nothing
     returning event_id`,
    [installs.map((i) => i.eventId), installs.map((i) => i.deviceId), installs.map((i) => i.linkId ?? null), installs.map((i) => i.platform ?? null), installs.map((i) => new Date(i.occurredAt))],
  );
  ctx.effects.note('duplicate', installs.length - rows.length);
  return rows.map((r) => r.event_id);
}

/**
 * Attributes waiting installs: one naming a link once that link is known; one without a link
 * to the last counted click from its device within the window (any org). Publishes INSTALLED.
 * Returns the devices of newly counted installs.
 */
export async function resolveInstalls(ctx: FactsContext, where: { eventIds?: string[]; linkIds?: string[]; deviceIds?: string[] }): Promise<string[]> {
  const { tx } = ctx;
  const { rows: waiting } = await tx.query<{ event_id: string; device_id: string | null; link_id: string | null; occurred_at: Date }>(
    `select event_id, device_id, link_id, occurred_at from installs
      where status in ('pending', 'unattributed')
        and (event_id = any($1::text[]) or link_id = any($2::text[]) or (status = 'unattributed' and device_id = any($3::text[])))`,
    [where.eventIds ?? [], where.linkIds ?? [], where.deviceIds ?? []],
  );
  if (waiting.length === 0) return [];
  const touches = await loadDeviceTouches(tx, waiting.filter((i) => !i.link_id && i.device_id).map((i) => i.device_id as string));
  const choice = new Map<string, string>(); // install event id -> link id
  for (const install of waiting) {
    if (install.link_id) choice.set(install.event_id, install.link_id);
    else if (install.device_id) {
      const clicksOnly = (touches.get(install.device_id) ?? []).filter((t) => t.kind === 'click');
      const touch = lastTouch(clicksOnly, install.occurred_at.getTime(), ctx.attributionWindowDays);
      if (touch) choice.set(install.event_id, touch.linkId);
    }
  }
  const links = await loadLinks(tx, choice.values());
  const counted = waiting.filter((i) => links.has(choice.get(i.event_id) ?? ''));
  if (counted.length === 0) return [];
  await tx.query(
    `update installs i set status = 'counted', attributed_link_id = t.l from unnest($1::text[], $2::text[]) as t(e, l) where i.event_id = t.e`,
    [counted.map((i) => i.event_id), counted.map((i) => choice.get(i.event_id))],
  );
  ctx.effects.trackings.push(
    ...(await insertTrackings(
      tx,
      counted.map((i) => {
        const link = links.get(choice.get(i.event_id) as string)!;
        return {
          eventId: funnelEventId('INSTALLED', i.event_id), orgId: link.orgId, mentorId: link.mentorId, linkId: link.linkId,
          campaignId: link.campaignId, referralId: null, userId: null, stage: 'INSTALLED' as const, uniqueVisitor: false,
          occurredAt: i.occurred_at, sourceEventId: i.event_id,
        };
      }),
    )),
  );
  const fromDevices = counted.flatMap((i) => (i.device_id ? [{ deviceId: i.device_id, linkId: choice.get(i.event_id) as string, occurredAt: i.occurred_at }] : []));
  await backfillStageTimes(tx, 'installed_at', fromDevices, ctx.attributionWindowDays);
  return [...new Set(fromDevices.map((i) => i.deviceId))];
}
