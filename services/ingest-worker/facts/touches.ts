import type { Touch } from '../../../libs/domain/attribution.js';
import type { Tx } from './tx.js';

/**
 * The touches of the given devices (SPEC §4): counted clicks, and installs and reinstalls
 * attributed to a link, grouped by device, with their link's org.
 */
export async function loadDeviceTouches(tx: Tx, deviceIds: Iterable<string>): Promise<Map<string, Touch[]>> {
  const ids = [...new Set(deviceIds)];
  const byDevice = new Map<string, Touch[]>();
  if (ids.length === 0) return byDevice;
  const { rows } = await tx.query<{ kind: 'click' | 'install'; device_id: string; link_id: string; org_id: string; occurred_at: Date; event_id: string }>(
    `select t.kind, t.device_id, t.link_id, l.org_id, t.occurred_at, t.event_id
       from (select 'click' as kind, device_id, link_id, occurred_at, event_id from clicks
              where status = 'counted' and device_id = any($1::text[])
             union all
             select 'install', device_id, attributed_link_id, occurred_at, event_id from installs
              where status in ('counted', 'reinstall') and attributed_link_id is not null and device_id = any($1::text[])) t
       join invite_links l on l.link_id = t.link_id`,
    [ids],
  );
  for (const r of rows) {
    const list = byDevice.get(r.device_id) ?? [];
    list.push({ kind: r.kind, linkId: r.link_id, orgId: r.org_id, occurredAt: r.occurred_at.getTime(), eventId: r.event_id });
    byDevice.set(r.device_id, list);
  }
  return byDevice;
}
