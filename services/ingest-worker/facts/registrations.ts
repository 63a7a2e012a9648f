import type { UserRegistered } from '../../../libs/events/types.generated.js';
import { attributeRegistration, lastTouch, type Touch } from '../../../libs/domain/attribution.js';
import { funnelEventId, referralId } from '../../../libs/domain/event-ids.js';
import { loadLinks } from './links.js';
import { loadDeviceTouches } from './touches.js';
import { insertTrackings } from './trackings.js';
import { activate } from './activations.js';
import type { FactsContext } from './tx.js';

/**
 * Stores new registration deliveries, all 'pending' until resolveRegistrations decides. The
 * personal fields of a user who has already been erased are not stored.
 */
export async function insertRegistrations(ctx: FactsContext, regs: UserRegistered[]): Promise<string[]> {
  if (regs.length === 0) return [];
  const { rows } = await ctx.tx.query<{ user_id: string }>(
    `insert into registrations (event_id, user_id, org_id, link_id, device_id, display_name, occurred_at, status)
     select t.e, t.u, t.o, t.l, case when x.user_id is null then t.d end, case when x.user_id is null then t.n end, t.t, 'pending'
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[]) as t(e, u, o, l, d, n, t)
       left join erased_users x on x.user_id = t.u
     on conflict (event_id) do nothing
     returning user_id`,
    [
      regs.map((r) => r.eventId), regs.map((r) => r.userId), regs.map((r) => r.orgId), regs.map((r) => r.linkId ?? null),
      regs.map((r) => r.deviceId ?? null), regs.map((r) => r.displayName ?? null), regs.map((r) => new Date(r.occurredAt)),
    ],
  );
  ctx.effects.note('duplicate', regs.length - rows.length);
  return [...new Set(rows.map((r) => r.user_id))];
}

interface RegistrationRow {
  event_id: string; user_id: string; org_id: string; link_id: string | null; device_id: string | null;
  display_name: string | null; occurred_at: Date; status: string;
}

/**
 * Attributes users not attributed yet by their earliest registration (SPEC §4). Writes the
 * referral, publishes REGISTERED, and marks activation when a first login is already known.
 */
export async function resolveRegistrations(ctx: FactsContext, where: { userIds?: string[]; linkIds?: string[]; deviceIds?: string[] }): Promise<void> {
  const { tx } = ctx;
  const { rows } = await tx.query<RegistrationRow>(
    `with users as (
       select user_id from registrations
        where user_id = any($1::text[])
           or (status = 'pending' and link_id = any($2::text[]))
           or (status = 'unattributed' and device_id = any($3::text[]))
     )
     select r.event_id, r.user_id, r.org_id, r.link_id, r.device_id, r.display_name, r.occurred_at, r.status
       from registrations r
      where r.user_id in (select user_id from users)
        and not exists (select 1 from referrals f where f.user_id = r.user_id)
      order by r.user_id, r.occurred_at, r.event_id`,
    [where.userIds ?? [], where.linkIds ?? [], where.deviceIds ?? []],
  );
  // Earliest registration per user; the rest are superseded. A self-referral is final.
  const earliest = new Map<string, RegistrationRow>();
  const superseded: string[] = [];
  for (const r of rows) {
    if (earliest.has(r.user_id)) superseded.push(r.event_id);
    else earliest.set(r.user_id, r);
  }
  const open = [...earliest.values()].filter((r) => r.status !== 'self_referral');
  if (open.length === 0 && superseded.length === 0) return;

  const touches = await loadDeviceTouches(tx, open.flatMap((r) => (r.device_id ? [r.device_id] : [])));
  const links = await loadLinks(tx, [...open.flatMap((r) => (r.link_id ? [r.link_id] : [])), ...[...touches.values()].flat().map((t) => t.linkId)]);

  const decisions = open.map((r) => {
    const fact = { eventId: r.event_id, userId: r.user_id, orgId: r.org_id, linkId: r.link_id, deviceId: r.device_id, occurredAt: r.occurred_at.getTime() };
    return { r, d: attributeRegistration(fact, links, touches.get(r.device_id ?? '') ?? [], ctx.attributionWindowDays) };
  });

  await tx.query(
    `update registrations g set status = t.s from unnest($1::text[], $2::text[]) as t(e, s) where g.event_id = t.e and g.status <> t.s`,
    [[...decisions.map((x) => x.r.event_id), ...superseded], [...decisions.map((x) => x.d.kind), ...superseded.map(() => 'superseded')]],
  );
  for (const x of decisions) if (x.d.kind === 'pending') ctx.effects.note('pending_link');

  const attributed = decisions.flatMap((x) => (x.d.kind === 'attributed' ? [{ r: x.r, d: x.d }] : []));
  if (attributed.length === 0) return;

  // The stage timestamps of the referral: the device's last click and install on the link.
  const stageTime = (devTouches: Touch[], kind: Touch['kind'], linkId: string, at: number) =>
    lastTouch(devTouches.filter((t) => t.kind === kind && t.linkId === linkId), at, ctx.attributionWindowDays);
  const referrals = attributed.map(({ r, d }) => {
    const devTouches = touches.get(r.device_id ?? '') ?? [];
    const at = r.occurred_at.getTime();
    const clicked = stageTime(devTouches, 'click', d.link.linkId, at);
    const installed = stageTime(devTouches, 'install', d.link.linkId, at);
    return {
      referralId: referralId(r.user_id), r, link: d.link, by: d.by,
      clickedAt: clicked ? new Date(clicked.occurredAt) : null,
      installedAt: installed ? new Date(installed.occurredAt) : null,
    };
  });
  await tx.query(
    `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, device_id,
                            clicked_at, installed_at, registered_at, registration_event_id)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                          $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::text[])
     on conflict (user_id) do nothing`,
    [
      referrals.map((x) => x.referralId), referrals.map((x) => x.r.user_id), referrals.map((x) => x.link.orgId),
      referrals.map((x) => x.link.mentorId), referrals.map((x) => x.link.linkId), referrals.map((x) => x.link.campaignId),
      referrals.map((x) => x.by), referrals.map((x) => x.r.display_name), referrals.map((x) => x.r.device_id),
      referrals.map((x) => x.clickedAt), referrals.map((x) => x.installedAt), referrals.map((x) => x.r.occurred_at),
      referrals.map((x) => x.r.event_id),
    ],
  );
  ctx.effects.trackings.push(
    ...(await insertTrackings(
      tx,
      referrals.map((x) => ({
        eventId: funnelEventId('REGISTERED', x.r.user_id), orgId: x.link.orgId, mentorId: x.link.mentorId, linkId: x.link.linkId,
        campaignId: x.link.campaignId, referralId: x.referralId, userId: x.r.user_id, stage: 'REGISTERED' as const,
        uniqueVisitor: false, occurredAt: x.r.occurred_at, sourceEventId: x.r.event_id,
      })),
    )),
  );
  await activate(ctx, referrals.map((x) => x.r.user_id));
}
