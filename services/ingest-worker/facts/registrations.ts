import type { UserRegistered } from '../../../libs/events/types.generated.js';
import type { RegistrationStatus, ReferralDecision } from '../../../libs/domain/attribution.js';
import type { StoredRegistration, StoredUser } from '../../../libs/domain/plans.js';
import { erasedDevicePseudonym } from '../../../libs/domain/visitor.js';
import { referralId } from '../../../libs/domain/event-ids.js';
import { eraseDevices } from './erasures.js';
import type { FactsContext, Tx } from './tx.js';

/** A batch must run alone (it changes device ids in every table); it is retried exclusively. */
export class NeedsExclusiveBatchError extends Error {
  override name = 'NeedsExclusiveBatchError';
}

export interface InsertedRegistrations {
  userIds: string[];
  linkIds: string[];
  deviceIds: string[];
}

/**
 * Stores new registration deliveries, 'pending' until decideUser says more. The personal
 * fields of a user already erased are never stored: no display name, and the pseudonym of the
 * device, whose other events are then pseudonymized too (which needs an exclusive batch).
 */
export async function insertRegistrations(ctx: FactsContext, regs: UserRegistered[], exclusive: boolean): Promise<InsertedRegistrations> {
  if (regs.length === 0) return { userIds: [], linkIds: [], deviceIds: [] };
  const { tx, visitorHashKey } = ctx;
  const { rows: erased } = await tx.query<{ user_id: string }>('select user_id from erased_users where user_id = any($1::text[])', [[...new Set(regs.map((r) => r.userId))]]);
  const erasedUsers = new Set(erased.map((r) => r.user_id));
  // Devices of erased users not pseudonymized yet (usually none: then no further query).
  const ofErased = new Map(regs.flatMap((r) => (erasedUsers.has(r.userId) && r.deviceId ? [[erasedDevicePseudonym(r.deviceId, visitorHashKey), r.deviceId] as const] : [])));
  const { rows: known } = ofErased.size > 0
    ? await tx.query<{ pseudonym: string }>('select pseudonym from erased_devices where pseudonym = any($1::text[])', [[...ofErased.keys()]])
    : { rows: [] };
  for (const r of known) ofErased.delete(r.pseudonym);
  const erasedDevices = [...ofErased.values()];
  if (erasedDevices.length > 0) {
    if (!exclusive) throw new NeedsExclusiveBatchError('registrations of erased users need an exclusive batch');
    await eraseDevices(tx, visitorHashKey, erasedDevices);
  }
  const { rows } = await tx.query<{ user_id: string; link_id: string | null; device_id: string | null }>(
    `insert into registrations (event_id, user_id, org_id, link_id, device_id, display_name, occurred_at, status)
     select t.e, t.u, t.o, t.l, case when ed.pseudonym is null then t.d else t.x end, case when t.erased then null else t.n end, t.t, 'pending'
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::bool[])
         as t(e, u, o, l, d, n, t, x, erased)
       left join erased_devices ed on ed.pseudonym = t.x
     on conflict (event_id) do nothing
     returning user_id, link_id, device_id`,
    [
      regs.map((r) => r.eventId), regs.map((r) => r.userId), regs.map((r) => r.orgId), regs.map((r) => r.linkId ?? null),
      regs.map((r) => r.deviceId ?? null), regs.map((r) => r.displayName ?? null), regs.map((r) => new Date(r.occurredAt)),
      regs.map((r) => (r.deviceId ? erasedDevicePseudonym(r.deviceId, visitorHashKey) : null)), regs.map((r) => erasedUsers.has(r.userId)),
    ],
  );
  ctx.effects.note('duplicate', regs.length - rows.length);
  return {
    userIds: [...new Set(rows.map((r) => r.user_id))],
    linkIds: [...new Set(rows.flatMap((r) => (r.link_id ? [r.link_id] : [])))],
    deviceIds: [...new Set(rows.flatMap((r) => (r.device_id ? [r.device_id] : [])))],
  };
}

/** Users with a registration naming one of the links or made from one of the devices. */
export async function usersOf(tx: Tx, where: { linkIds: string[]; deviceIds: string[] }): Promise<string[]> {
  if (where.linkIds.length + where.deviceIds.length === 0) return [];
  const { rows } = await tx.query<{ user_id: string }>(
    `select user_id from registrations where link_id = any($1::text[])
     union select user_id from registrations where device_id = any($2::text[])`,
    [where.linkIds, where.deviceIds],
  );
  return rows.map((r) => r.user_id);
}

/**
 * What decides the users: their registrations that can be the earliest in an organization, the
 * logins that can activate them, and whether each was erased. A producer's thousands of
 * registrations of one user were read whole by each new one.
 */
export async function loadUsers(tx: Tx, userIds: string[]): Promise<Map<string, StoredUser>> {
  const users = new Map<string, StoredUser>(userIds.map((u) => [u, { registrations: [], logins: [], erased: false }]));
  if (userIds.length === 0) return users;
  // Of the registrations, those not superseded: in each organization the earliest stored before
  // this transaction (every later one is superseded by it, and stays so whatever comes) and this
  // transaction's new ones (stored pending). Only they can be a member's earliest.
  const regs = await tx.query<{ event_id: string; user_id: string; org_id: string; link_id: string | null; device_id: string | null; display_name: string | null; occurred_at: Date; status: RegistrationStatus }>(
    `select event_id, user_id, org_id, link_id, device_id, display_name, occurred_at, status from registrations
      where user_id = any($1::text[]) and status <> 'superseded'`,
    [userIds],
  );
  // Of the logins, those that can activate: the first at or after each registration read above
  // (ties: the smallest eventId), one probe of logins_user each. A user's activation is the first
  // login at or after their earliest registration in an organization; a login before it, or after
  // that one, never counts. Every login of an active user, years of them, was read by each of their logins.
  // The times go back as read: whole milliseconds (timestamp-millis), which a Date holds exactly.
  const times = [...new Map(regs.rows.map((r) => [`${r.user_id}\u0000${r.occurred_at.getTime()}`, r])).values()];
  const logins = await tx.query<{ event_id: string; user_id: string; occurred_at: Date }>(
    `select l.event_id, r.user_id, l.occurred_at
       from unnest($1::text[], $2::timestamptz[]) as r(user_id, occurred_at)
       cross join lateral (
         select event_id, occurred_at from logins l
          where l.user_id = r.user_id and l.occurred_at >= r.occurred_at
          order by l.occurred_at, l.event_id limit 1) l`,
    [times.map((r) => r.user_id), times.map((r) => r.occurred_at)],
  );
  const erased = await tx.query<{ user_id: string }>('select user_id from erased_users where user_id = any($1::text[])', [userIds]);
  for (const r of regs.rows) {
    users.get(r.user_id)?.registrations.push({
      eventId: r.event_id, userId: r.user_id, orgId: r.org_id, linkId: r.link_id, deviceId: r.device_id, displayName: r.display_name,
      occurredAt: r.occurred_at.getTime(), status: r.status,
    });
  }
  const seen = new Set<string>();
  for (const l of logins.rows) {
    if (seen.has(l.event_id)) continue;
    seen.add(l.event_id);
    users.get(l.user_id)?.logins.push({ eventId: l.event_id, occurredAt: l.occurred_at.getTime() });
  }
  for (const e of erased.rows) (users.get(e.user_id) as StoredUser).erased = true;
  return users;
}

/**
 * Stores users' decisions: registration statuses that changed, the referral of each attributed
 * user in an organization (written only when it differs), and no referral for the others.
 */
export async function writeUserDecisions(
  tx: Tx,
  statuses: { eventId: string; status: RegistrationStatus }[],
  referrals: { referral: ReferralDecision<StoredRegistration>; erased: boolean }[],
  unattributed: { userId: string; orgId: string }[],
): Promise<void> {
  if (statuses.length > 0) {
    await tx.query('update registrations g set status = t.s from unnest($1::text[], $2::text[]) as t(e, s) where g.event_id = t.e', [
      statuses.map((s) => s.eventId), statuses.map((s) => s.status),
    ]);
  }
  if (unattributed.length > 0) {
    await tx.query('delete from referrals f using unnest($1::text[], $2::text[]) as t(u, o) where f.user_id = t.u and f.org_id = t.o', [
      unattributed.map((m) => m.userId), unattributed.map((m) => m.orgId),
    ]);
  }
  if (referrals.length === 0) return;
  const ts = (v: number | null | undefined) => (v == null ? null : new Date(v));
  const col = <T>(f: (x: (typeof referrals)[number]['referral'], erased: boolean) => T) => referrals.map((x) => f(x.referral, x.erased));
  await tx.query(
    `insert into referrals as f (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, device_id,
                                 clicked_at, installed_at, registered_at, activated_at, registration_event_id)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                          $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::text[])
     on conflict (user_id, org_id) do update set
       referral_id = excluded.referral_id, mentor_id = excluded.mentor_id, link_id = excluded.link_id, campaign_id = excluded.campaign_id,
       attributed_by = excluded.attributed_by, display_name = excluded.display_name, device_id = excluded.device_id,
       clicked_at = excluded.clicked_at, installed_at = excluded.installed_at, registered_at = excluded.registered_at,
       activated_at = excluded.activated_at, registration_event_id = excluded.registration_event_id
     where (f.referral_id, f.mentor_id, f.link_id, f.campaign_id, f.attributed_by, f.display_name, f.device_id, f.clicked_at, f.installed_at,
            f.registered_at, f.activated_at, f.registration_event_id)
           is distinct from (excluded.referral_id, excluded.mentor_id, excluded.link_id, excluded.campaign_id, excluded.attributed_by,
            excluded.display_name, excluded.device_id, excluded.clicked_at, excluded.installed_at, excluded.registered_at,
            excluded.activated_at, excluded.registration_event_id)`,
    [
      col((r) => referralId(r.registration.userId, r.registration.orgId)), col((r) => r.registration.userId), col((r) => r.link.orgId), col((r) => r.link.mentorId),
      col((r) => r.link.linkId), col((r) => r.link.campaignId), col((r) => r.by), col((r) => r.registration.displayName),
      col((r, erased) => (erased ? null : r.registration.deviceId)), col((r) => ts(r.clickedAt)), col((r) => ts(r.installedAt)),
      col((r) => ts(r.registration.occurredAt)), col((r) => ts(r.activation?.occurredAt)), col((r) => r.registration.eventId),
    ],
  );
}
