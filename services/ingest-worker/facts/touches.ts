import type { Touch } from '../../../libs/domain/attribution.js';
import type { Tx } from './tx.js';

const DAY_MS = 86_400_000;

/** A moment a device's touches are asked about: an install without a link, a member's earliest registration. */
export interface TouchProbe {
  deviceId: string;
  at: number;
}

/**
 * The touches of devices (SPEC §4: counted clicks, and installs and reinstalls attributed to a
 * link), grouped by device, with their link's org: of each probe, within the attribution window
 * before it, the last touch of each kind on each link (every touch tied at that time). That is
 * all last-touch attribution reads: the last touch, the last in an organization, the last of a
 * kind on the winning link (libs/domain/attribution.ts, lastTouch). A device's every touch was
 * read before, each time one of its facts was decided: a device with thousands of clicks made
 * each new click or install of it cost their number, in time and in the worker's heap.
 */
export async function loadDeviceTouches(tx: Tx, probes: readonly TouchProbe[], windowDays: number): Promise<Map<string, Touch[]>> {
  const distinct = [...new Map(probes.map((p) => [`${p.deviceId}\u0000${p.at}`, p])).values()];
  const byDevice = new Map<string, Touch[]>();
  if (distinct.length === 0) return byDevice;
  const { rows } = await tx.query<{ kind: 'click' | 'install'; device_id: string; link_id: string; org_id: string; occurred_at: Date; event_id: string }>(
    `select t.kind, t.device_id, t.link_id, l.org_id, t.occurred_at, t.event_id
       from unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) as p(device_id, since, at)
       cross join lateral (
         select kind, device_id, link_id, occurred_at, event_id from (
           select u.*, rank() over (partition by u.kind, u.link_id order by u.occurred_at desc) as r from (
             select 'click' as kind, device_id, link_id, occurred_at, event_id from clicks
              where device_id = p.device_id and occurred_at between p.since and p.at and status = 'counted'
             union all
             select 'install', device_id, attributed_link_id, occurred_at, event_id from installs
              where device_id = p.device_id and occurred_at between p.since and p.at
                and status in ('counted', 'reinstall') and attributed_link_id is not null) u) ranked
          where r = 1) t
       join invite_links l on l.link_id = t.link_id`,
    [distinct.map((p) => p.deviceId), distinct.map((p) => new Date(p.at - windowDays * DAY_MS)), distinct.map((p) => new Date(p.at))],
  );
  const seen = new Set<string>();
  for (const r of rows) {
    const key = `${r.kind}\u0000${r.event_id}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const list = byDevice.get(r.device_id) ?? [];
    list.push({ kind: r.kind, linkId: r.link_id, orgId: r.org_id, occurredAt: r.occurred_at.getTime(), eventId: r.event_id });
    byDevice.set(r.device_id, list);
  }
  return byDevice;
}
