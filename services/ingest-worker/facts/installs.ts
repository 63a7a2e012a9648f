import type { AppInstalled } from '../../../libs/events/types.generated.js';
import type { InstallDecision } from '../../../libs/domain/attribution.js';
import { erasedDevicePseudonym } from '../../../libs/domain/visitor.js';
import { attributedLink, type PublishedOnFact, type StoredInstall } from '../../../libs/domain/plans.js';
import { LIVE_RECORD_COLUMNS, publishedOnFact, type LiveRecordRow } from './funnel-records.js';
import type { FactsContext, Tx } from './tx.js';

export interface InsertedInstalls {
  eventIds: string[];
  linkIds: string[];
  deviceIds: string[];
}

/**
 * Stores new installs, 'pending' when they name a link and 'unattributed' otherwise until
 * decideDeviceInstalls says more. An install from an erased device stores the device's pseudonym.
 */
export async function insertInstalls(ctx: FactsContext, installs: AppInstalled[]): Promise<InsertedInstalls> {
  if (installs.length === 0) return { eventIds: [], linkIds: [], deviceIds: [] };
  const { rows } = await ctx.tx.query<{ event_id: string; link_id: string | null; device_id: string | null }>(
    `insert into installs (event_id, device_id, link_id, platform, occurred_at, status)
     select t.e, case when ed.pseudonym is null then t.d else t.x end, t.l, t.p, t.o, case when t.l is null then 'unattributed' else 'pending' end
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) as t(e, d, l, p, o, x)
       left join erased_devices ed on ed.pseudonym = t.x
     on conflict (event_id) do nothing
     returning event_id, link_id, device_id`,
    [
      installs.map((i) => i.eventId), installs.map((i) => i.deviceId), installs.map((i) => i.linkId ?? null),
      installs.map((i) => i.platform ?? null), installs.map((i) => new Date(i.occurredAt)),
      installs.map((i) => erasedDevicePseudonym(i.deviceId, ctx.visitorHashKey)),
    ],
  );
  ctx.effects.note('duplicate', installs.length - rows.length);
  return {
    eventIds: rows.map((r) => r.event_id),
    linkIds: [...new Set(rows.flatMap((r) => (r.link_id ? [r.link_id] : [])))],
    deviceIds: [...new Set(rows.flatMap((r) => (r.device_id ? [r.device_id] : [])))],
  };
}

/** The devices of the installs, and of installs that name one of the links. */
export async function installDevices(tx: Tx, where: { eventIds: string[]; linkIds: string[] }): Promise<string[]> {
  if (where.eventIds.length + where.linkIds.length === 0) return [];
  const { rows } = await tx.query<{ device_id: string }>(
    `select device_id from installs where event_id = any($1::text[]) and device_id is not null
     union select device_id from installs where link_id = any($2::text[]) and device_id is not null`,
    [where.eventIds, where.linkIds],
  );
  return rows.map((r) => r.device_id);
}

/**
 * Every install of the devices, grouped by device (a device's installs are decided together),
 * each with what was published for it: its live funnel record is at the install's own time.
 */
export async function loadDeviceInstalls(tx: Tx, deviceIds: string[]): Promise<Map<string, StoredInstall[]>> {
  const byDevice = new Map<string, StoredInstall[]>();
  if (deviceIds.length === 0) return byDevice;
  const { rows } = await tx.query<{ event_id: string; device_id: string; link_id: string | null; occurred_at: Date; status: InstallDecision['status']; attributed_link_id: string | null } & LiveRecordRow>(
    `select i.event_id, i.device_id, i.link_id, i.occurred_at, i.status, i.attributed_link_id, i.revision, ${LIVE_RECORD_COLUMNS}
       from installs i left join referral_trackings t on t.occurred_at = i.occurred_at and t.event_id = i.live_event_id
      where i.device_id = any($1::text[])`,
    [deviceIds],
  );
  for (const r of rows) {
    const install = {
      eventId: r.event_id, deviceId: r.device_id, linkId: r.link_id, occurredAt: r.occurred_at.getTime(), status: r.status, attributedLinkId: r.attributed_link_id,
      published: publishedOnFact(r),
    };
    const list = byDevice.get(r.device_id);
    if (list) list.push(install);
    else byDevice.set(r.device_id, [install]);
  }
  return byDevice;
}

/** Stores the decisions, and what is published for them, of installs where either changed. */
export async function writeInstallDecisions(tx: Tx, changed: { eventId: string; decision: InstallDecision; published: PublishedOnFact }[]): Promise<void> {
  if (changed.length === 0) return;
  await tx.query(
    `update installs i set status = t.s, attributed_link_id = t.l, revision = t.r, live_event_id = t.v
       from unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[]) as t(e, s, l, r, v) where i.event_id = t.e`,
    [
      changed.map((c) => c.eventId), changed.map((c) => c.decision.status), changed.map((c) => attributedLink(c.decision)),
      changed.map((c) => c.published?.revision ?? null), changed.map((c) => c.published?.liveEventId ?? null),
    ],
  );
}
