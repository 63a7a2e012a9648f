import type { Tx } from './tx.js';

/**
 * Keeps a referral's clickedAt / installedAt the latest counted click / install from its
 * device on its link at or before registration, within the window, whatever order the
 * events arrived in: registration first and touches later gives the same row as the reverse.
 */
export async function backfillStageTimes(
  tx: Tx,
  column: 'clicked_at' | 'installed_at',
  touches: { deviceId: string; linkId: string; occurredAt: Date }[],
  windowDays: number,
): Promise<void> {
  if (touches.length === 0) return;
  await tx.query(
    `update referrals r set ${column} = greatest(r.${column}, t.o)
       from unnest($1::text[], $2::text[], $3::timestamptz[]) as t(d, l, o)
      where r.device_id = t.d and r.link_id = t.l
        and t.o <= r.registered_at and t.o >= r.registered_at - make_interval(days => $4)
        and (r.${column} is null or r.${column} < t.o)`,
    [touches.map((t) => t.deviceId), touches.map((t) => t.linkId), touches.map((t) => t.occurredAt), windowDays],
  );
}
