import type { UserErased } from '../../../libs/events/types.generated.js';
import { visitorHash } from '../../../libs/domain/visitor.js';
import type { FactsContext } from './tx.js';

/**
 * GDPR erasure: the person's display name, device ids and the visitor hashes that link their
 * devices to clicks leave every table. Counts (referral rows, stage log, funnel tables) stay.
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
    `select device_id from registrations where user_id = any($1::text[]) and device_id is not null
     union select device_id from referrals where user_id = any($1::text[]) and device_id is not null`,
    [userIds],
  );
  const devices = rows.map((r) => r.device_id);
  const hashes = devices.map((d) => visitorHash({ deviceId: d }, ctx.visitorHashKey, ''));
  await tx.query('update registrations set display_name = null, device_id = null where user_id = any($1::text[])', [userIds]);
  await tx.query('update referrals set display_name = null, device_id = null where user_id = any($1::text[])', [userIds]);
  if (devices.length === 0) return;
  await tx.query('update clicks set device_id = null, visitor_hash = null where device_id = any($1::text[]) or visitor_hash = any($2::text[])', [devices, hashes]);
  await tx.query('update installs set device_id = null where device_id = any($1::text[])', [devices]);
  await tx.query('delete from unique_visits where visitor_hash = any($1::text[])', [hashes]);
}
