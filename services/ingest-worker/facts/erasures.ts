import type { UserErased } from '../../../libs/events/types.generated.js';
import { erasedDevicePseudonym } from '../../../libs/domain/visitor.js';
import type { FactsContext, Tx } from './tx.js';
import { restartLinkPages } from './link-pages.js';

/**
 * Replaces the device ids (and the visitor hashes of their clicks) by the device's pseudonym
 * in every table, and remembers the pseudonym so that later events from the device are stored
 * under it too. Equal devices stay equal, so every decision (unique clicks, last touch) and
 * every count stays what it would be without the erasure.
 */
export async function eraseDevices(tx: Tx, hashKey: string, deviceIds: string[]): Promise<void> {
  if (deviceIds.length === 0) return;
  const pseudonyms = deviceIds.map((d) => erasedDevicePseudonym(d, hashKey));
  await tx.query('insert into erased_devices (pseudonym) select unnest($1::text[]) on conflict do nothing', [pseudonyms]);
  const pairs = [deviceIds, pseudonyms];
  await tx.query('update clicks c set device_id = t.p, visitor_hash = t.p from unnest($1::text[], $2::text[]) as t(d, p) where c.device_id = t.d', pairs);
  await tx.query('update installs i set device_id = t.p from unnest($1::text[], $2::text[]) as t(d, p) where i.device_id = t.d', pairs);
  await tx.query('update registrations g set device_id = t.p from unnest($1::text[], $2::text[]) as t(d, p) where g.device_id = t.d', pairs);
  await tx.query('update referrals f set device_id = t.p from unnest($1::text[], $2::text[]) as t(d, p) where f.device_id = t.d', pairs);
  await restartLinkPages(tx);
}

/**
 * GDPR erasure: the person's display name and device ids leave every table, and the visitor
 * hashes that tied their device to clicks are replaced by a pseudonym. Counts (referral rows,
 * funnel records, funnel tables) stay, and stay right when the person's events arrive later.
 */
export async function eraseUsers(ctx: FactsContext, erasures: UserErased[]): Promise<void> {
  if (erasures.length === 0) return;
  const { tx } = ctx;
  const userIds = [...new Set(erasures.map((e) => e.userId))];
  await tx.query(
    `insert into erased_users (user_id, org_id, erased_at)
     select * from unnest($1::text[], $2::text[], $3::timestamptz[]) on conflict (user_id) do nothing`,
    [erasures.map((e) => e.userId), erasures.map((e) => e.orgId), erasures.map((e) => new Date(e.occurredAt))],
  );
  const { rows } = await tx.query<{ device_id: string }>(
    `select distinct device_id from registrations g
      where user_id = any($1::text[]) and device_id is not null
        and not exists (select 1 from erased_devices e where e.pseudonym = g.device_id)`,
    [userIds],
  );
  await eraseDevices(tx, ctx.visitorHashKey, rows.map((r) => r.device_id));
  await tx.query('update registrations set display_name = null where user_id = any($1::text[])', [userIds]);
  await tx.query('update referrals set display_name = null, device_id = null where user_id = any($1::text[])', [userIds]);
}
