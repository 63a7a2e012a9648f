import type { Queryable } from '../../../libs/db/queryable.js';
import { explainAttribution, type DeviceFact, type ExplainedTouch } from '../../../libs/domain/explanation.js';
import type { KnownLink } from '../../../libs/domain/attribution.js';
import type { LinkValidity } from '../../../libs/domain/link-activity.js';
import type { Visibility } from '../policy.js';
import { iso, type ReferralRow } from './referral-rows.js';
import { mentorNameSql, mentorNames } from './mentor-names.js';

/**
 * The attribution of one user in one organization (attribution is per organization), if the
 * caller may see the mentor it belongs to, with its explanation. Without an organization (a
 * platform admin's token names none) it is the user's referral in the organization they joined
 * first.
 */
export async function conversionRecord(db: Queryable, visibility: Visibility, userId: string, orgId: string | null, windowDays: number) {
  const visibleOrg = visibility.kind === 'platform' ? null : visibility.orgId;
  const mentorIds = visibility.kind === 'mentors' ? visibility.mentorIds : null;
  const { rows } = await db.query<ReferralRow & { mentor_name: string | null }>(
    `select f.*, ${mentorNameSql('f.mentor_id', 'f.org_id')} as mentor_name from referrals f
      where user_id = $1 and ($2::text is null or org_id = $2) and ($3::text is null or org_id = $3) and ($4::text[] is null or mentor_id = any($4))
      order by registered_at, org_id limit 1`,
    [userId, orgId, visibleOrg, mentorIds],
  );
  const r = rows[0];
  if (!r) return null;
  return {
    userId: r.user_id, referralId: r.referral_id, linkId: r.link_id, mentorId: r.mentor_id, mentorName: r.mentor_name, campaignId: r.campaign_id, orgId: r.org_id,
    attributedBy: r.attributed_by, registeredAt: r.registered_at.toISOString(), activatedAt: iso(r.activated_at),
    explanation: await explanation(db, r, mentorIds, windowDays),
  };
}

type LinkRow = { link_id: string; org_id: string; mentor_id: string; campaign_id: string | null; expires_at: Date | null; revoked_at: Date | null };

/**
 * Why the referral went where it went: the deciding registration and every click and install
 * of its device, as stored (device ids of an erased person are pseudonyms there, and none is
 * shown), put through the rule that decides (libs/domain/explanation.ts). A touch on a link the
 * caller may not read (another organization's, or, for a mentor or coordinator, a mentor
 * outside their scope) keeps its kind, time and outcome but not its link or mentor.
 */
async function explanation(db: Queryable, r: ReferralRow, mentorIds: string[] | null, windowDays: number) {
  const { rows: regs } = await db.query<{ event_id: string; user_id: string; org_id: string; link_id: string | null; device_id: string | null; occurred_at: Date }>(
    'select event_id, user_id, org_id, link_id, device_id, occurred_at from registrations where event_id = $1',
    [r.registration_event_id],
  );
  const reg = regs[0];
  if (!reg) return null;
  const { rows: facts } = reg.device_id === null ? { rows: [] } : await db.query<{ kind: 'click' | 'install'; event_id: string; link_id: string | null; occurred_at: Date; is_bot: boolean; touch: boolean }>(
    `select 'click' as kind, event_id, link_id, occurred_at, is_bot, status = 'counted' as touch from clicks where device_id = $1
     union all
     select 'install', event_id, coalesce(attributed_link_id, link_id), occurred_at, false, status in ('counted', 'reinstall') and attributed_link_id is not null
       from installs where device_id = $1`,
    [reg.device_id],
  );
  const linkIds = [...new Set([...facts.flatMap((f) => (f.link_id ? [f.link_id] : [])), ...(reg.link_id ? [reg.link_id] : [])])];
  const { rows: linkRows } = await db.query<LinkRow>('select link_id, org_id, mentor_id, campaign_id, expires_at, revoked_at from invite_links where link_id = any($1::text[])', [linkIds]);
  const links = new Map<string, KnownLink & LinkValidity>(linkRows.map((l) => [l.link_id, {
    linkId: l.link_id, orgId: l.org_id, mentorId: l.mentor_id, campaignId: l.campaign_id, expiresAt: l.expires_at?.getTime() ?? null, revokedAt: l.revoked_at?.getTime() ?? null,
  }]));
  const deviceFacts: DeviceFact[] = facts.map((f) => ({ eventId: f.event_id, kind: f.kind, linkId: f.link_id, occurredAt: f.occurred_at.getTime(), isBot: f.is_bot, touch: f.touch }));
  const registration = { eventId: reg.event_id, userId: reg.user_id, orgId: reg.org_id, linkId: reg.link_id, deviceId: reg.device_id, occurredAt: reg.occurred_at.getTime() };
  const e = explainAttribution(registration, links, deviceFacts, windowDays);
  if (!e) return null;
  const readable = (linkId: string | null) => {
    const link = linkId === null ? undefined : links.get(linkId);
    return link !== undefined && link.orgId === r.org_id && (mentorIds === null || mentorIds.includes(link.mentorId));
  };
  const names = await mentorNames(db, r.org_id, e.candidates.flatMap((c) => (c.mentorId !== null && readable(c.linkId) ? [c.mentorId] : [])));
  const touch = (t: ExplainedTouch) => ({ eventId: t.eventId, kind: t.kind, linkId: readable(t.linkId) ? t.linkId : null, occurredAt: new Date(t.occurredAt).toISOString() });
  return {
    rule: e.rule, windowFrom: new Date(e.windowFrom).toISOString(), windowTo: new Date(e.windowTo).toISOString(), winner: touch(e.winner),
    candidates: e.candidates.map((c) => {
      const shown = readable(c.linkId);
      return { ...touch(c), mentorId: shown ? c.mentorId : null, mentorName: shown && c.mentorId !== null ? (names.get(c.mentorId) ?? null) : null, outcome: c.outcome, reason: c.reason };
    }),
  };
}
