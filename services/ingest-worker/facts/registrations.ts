import type { UserRegistered } from '../../../libs/events/types.generated.js';
import type { RegistrationFact, RegistrationStatus, ReferralDecision } from '../../../libs/domain/attribution.js';
import type { LoginFact } from '../../../libs/domain/activation.js';
import { erasedDevicePseudonym } from '../../../libs/domain/visitor.js';
import { referralId } from '../../../libs/domain/event-ids.js';
import { eraseDevices } from './erasures.js';
import type { FactsContext, Tx } from './tx.js';
import type { LockFinder } from './locks.js';

/** A batch must run alone (it changes device ids in every table); it is retried exclusively. */
export class NeedsExclusiveBatchError extends Error {
  override name = 'NeedsExclusiveBatchError';
}

export interface StoredRegistration extends RegistrationFact {
  displayName: string | null;
  status: RegistrationStatus;
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
  let { stored, late } = await storeRegistrations(ctx, regs);
  if (late.length > 0) {
    if (!exclusive) throw new NeedsExclusiveBatchError('registrations of erased users need an exclusive batch');
    await eraseDevices(ctx.tx, ctx.visitorHashKey, late);
    ({ stored, late } = await storeRegistrations(ctx, regs));
    if (late.length > 0) throw new Error(`${late.length} devices of erased users are still not pseudonymized after their erasure`);
  }
  ctx.effects.note('duplicate', regs.length - stored.length);
  return {
    userIds: [...new Set(stored.map((r) => r.user_id))],
    linkIds: [...new Set(stored.flatMap((r) => (r.link_id ? [r.link_id] : [])))],
    deviceIds: [...new Set(stored.flatMap((r) => (r.device_id ? [r.device_id] : [])))],
  };
}

/**
 * One statement: stores the registrations (the display name dropped for an erased user, the
 * device's pseudonym for an erased device) unless one of them is of an erased user from a
 * device not pseudonymized yet (usually none); those devices are returned instead, and
 * nothing is stored.
 */
async function storeRegistrations(ctx: FactsContext, regs: UserRegistered[]): Promise<{ stored: { user_id: string; link_id: string | null; device_id: string | null }[]; late: string[] }> {
  const { rows } = await ctx.tx.query<{ user_id: string; link_id: string | null; device_id: string | null; late_device: string | null }>(
    `with r as (
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])
         as r(e, u, o, l, d, n, at, x)
     ), late as (
       select distinct r.d from r join erased_users eu on eu.user_id = r.u
        where r.d is not null and not exists (select 1 from erased_devices ed where ed.pseudonym = r.x)
     ), stored as (
       insert into registrations (event_id, user_id, org_id, link_id, device_id, display_name, occurred_at, status)
       select r.e, r.u, r.o, r.l, case when ed.pseudonym is null then r.d else r.x end, case when eu.user_id is null then r.n end, r.at, 'pending'
         from r left join erased_devices ed on ed.pseudonym = r.x left join erased_users eu on eu.user_id = r.u
        where not exists (select 1 from late)
       on conflict (event_id) do nothing
       returning user_id, link_id, device_id
     )
     select user_id, link_id, device_id, null as late_device from stored
     union all select null, null, null, d from late`,
    [
      regs.map((r) => r.eventId), regs.map((r) => r.userId), regs.map((r) => r.orgId), regs.map((r) => r.linkId ?? null),
      regs.map((r) => r.deviceId ?? null), regs.map((r) => r.displayName ?? null), regs.map((r) => new Date(r.occurredAt)),
      regs.map((r) => (r.deviceId ? erasedDevicePseudonym(r.deviceId, ctx.visitorHashKey) : null)),
    ],
  );
  return { stored: rows.filter((r) => r.late_device === null), late: rows.flatMap((r) => (r.late_device === null ? [] : [r.late_device])) };
}

/** Users with a registration naming one of the links or made from one of the devices: a read for the statement that locks them (see lockSubjects). */
export function usersOf(where: { linkIds: string[]; deviceIds: string[] }): LockFinder | undefined {
  if (where.linkIds.length + where.deviceIds.length === 0) return undefined;
  return {
    select: `select user_id from registrations where link_id = any($1::text[])
             union select user_id from registrations where device_id = any($2::text[])`,
    values: [where.linkIds, where.deviceIds],
  };
}

export interface StoredUser {
  registrations: StoredRegistration[];
  logins: LoginFact[];
  erased: boolean;
}

/** Every registration and login of the users, and whether each was erased: one statement, a row per fact of its kind. */
export async function loadUsers(tx: Tx, userIds: string[]): Promise<Map<string, StoredUser>> {
  const users = new Map<string, StoredUser>(userIds.map((u) => [u, { registrations: [], logins: [], erased: false }]));
  if (userIds.length === 0) return users;
  const { rows } = await tx.query<
    | { kind: 'registration'; event_id: string; user_id: string; org_id: string; link_id: string | null; device_id: string | null; display_name: string | null; occurred_at: Date; status: RegistrationStatus }
    | { kind: 'login'; event_id: string; user_id: string; occurred_at: Date }
    | { kind: 'erased'; user_id: string }
  >(
    `select 'registration' as kind, event_id, user_id, org_id, link_id, device_id, display_name, occurred_at, status from registrations where user_id = any($1::text[])
     union all select 'login', event_id, user_id, null, null, null, null, occurred_at, null from logins where user_id = any($1::text[])
     union all select 'erased', null, user_id, null, null, null, null, null, null from erased_users where user_id = any($1::text[])`,
    [userIds],
  );
  for (const r of rows) {
    const user = users.get(r.user_id);
    if (!user) continue;
    if (r.kind === 'registration') {
      user.registrations.push({
        eventId: r.event_id, userId: r.user_id, orgId: r.org_id, linkId: r.link_id, deviceId: r.device_id, displayName: r.display_name,
        occurredAt: r.occurred_at.getTime(), status: r.status,
      });
    } else if (r.kind === 'login') user.logins.push({ eventId: r.event_id, occurredAt: r.occurred_at.getTime() });
    else user.erased = true;
  }
  return users;
}

/**
 * Stores users' decisions in one statement: registration statuses that changed, no referral
 * for the members not attributed, and the referral of each attributed member (written only
 * when it differs). A member is attributed or not, so the deletion and the upsert of
 * `referrals` never meet on a row.
 */
export async function writeUserDecisions(
  tx: Tx,
  statuses: { eventId: string; status: RegistrationStatus }[],
  referrals: { referral: ReferralDecision<StoredRegistration>; erased: boolean }[],
  unattributed: { userId: string; orgId: string }[],
): Promise<void> {
  if (statuses.length + referrals.length + unattributed.length === 0) return;
  const ts = (v: number | null | undefined) => (v == null ? null : new Date(v));
  const col = <T>(f: (x: (typeof referrals)[number]['referral'], erased: boolean) => T) => referrals.map((x) => f(x.referral, x.erased));
  await tx.query(
    `with statuses as (
       update registrations g set status = t.s from unnest($1::text[], $2::text[]) as t(e, s) where g.event_id = t.e
     ), unattributed as (
       delete from referrals f using unnest($3::text[], $4::text[]) as t(u, o) where f.user_id = t.u and f.org_id = t.o
     )
     insert into referrals as f (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, device_id,
                                 clicked_at, installed_at, registered_at, activated_at, registration_event_id)
     select * from unnest($5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                          $14::timestamptz[], $15::timestamptz[], $16::timestamptz[], $17::timestamptz[], $18::text[])
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
      statuses.map((s) => s.eventId), statuses.map((s) => s.status),
      unattributed.map((m) => m.userId), unattributed.map((m) => m.orgId),
      col((r) => referralId(r.registration.userId, r.registration.orgId)), col((r) => r.registration.userId), col((r) => r.link.orgId), col((r) => r.link.mentorId),
      col((r) => r.link.linkId), col((r) => r.link.campaignId), col((r) => r.by), col((r) => r.registration.displayName),
      col((r, erased) => (erased ? null : r.registration.deviceId)), col((r) => ts(r.clickedAt)), col((r) => ts(r.installedAt)),
      col((r) => ts(r.registration.occurredAt)), col((r) => ts(r.activation?.occurredAt)), col((r) => r.registration.eventId),
    ],
  );
}
