import type { Queryable } from '../../../libs/db/queryable.js';
import { explainAttribution, type DeviceFact, type ExplainedTouch } from '../../../libs/domain/explanation.js';
import type { KnownLink } from '../../../libs/domain/attribution.js';
import type { LinkValidity } from '../../../libs/domain/link-activity.js';
import type { Visibility } from '../policy.js';
import { iso, type ReferralRow } from './referral-rows.js';
import { mentorNameSql } from './mentor-names.js';

/**
 * The attribution of one user in one organization (attribution is per organization), if the
 * caller may see the mentor it belongs to, with its explanation. Without an organization (a
 * platform admin's token names none) it is the user's referral in the organization they joined
 * first.
 */
export async function conversionRecord(db: Queryable, visibility: Visibility, userId: string, orgId: string | null, windowDays: number) {
  const visibleOrg = visibility.kind === 'platform' ? null : visibility.orgId;
  const mentorIds = visibility.kind === 'mentors' ? visibility.mentorIds : null;
  // The referral with its deciding registration, in one round trip.
  const { rows } = await db.query<ReferralRow & { mentor_name: string | null } & RegistrationColumns>(
    `select f.*, ${mentorNameSql('f.mentor_id', 'f.org_id')} as mentor_name,
            g.event_id as reg_event_id, g.user_id as reg_user_id, g.org_id as reg_org_id, g.link_id as reg_link_id, g.device_id as reg_device_id, g.occurred_at as reg_occurred_at
       from referrals f left join registrations g on g.event_id = f.registration_event_id
      where f.user_id = $1 and ($2::text is null or f.org_id = $2) and ($3::text is null or f.org_id = $3) and ($4::text[] is null or f.mentor_id = any($4))
      order by f.registered_at, f.org_id limit 1`,
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

/** The device's facts an explanation lists at most: the newest in the window, and the nearest outside it on each side (besides the winner). */
export const EXPLAINED_IN_WINDOW = 100;
export const EXPLAINED_OUTSIDE = 20;
const DAY_MS = 86_400_000;

/** The deciding registration's columns beside its referral's (null when it is not stored). */
interface RegistrationColumns {
  reg_event_id: string | null; reg_user_id: string; reg_org_id: string; reg_link_id: string | null; reg_device_id: string | null; reg_occurred_at: Date;
}

/** One row of the explanation's read: a click or install of the device, or a link they (or the registration) name. */
type TouchOrLink =
  | { source: 'fact'; kind: 'click' | 'install'; event_id: string; link_id: string | null; occurred_at: Date; is_bot: boolean; touch: boolean }
  | { source: 'link'; link_id: string; org_id: string; mentor_id: string; campaign_id: string | null; expires_at: Date | null; revoked_at: Date | null; mentor_name: string | null };

/**
 * Why the referral went where it went: the deciding registration and every click and install
 * of its device, as stored (device ids of an erased person are pseudonyms there, and none is
 * shown), put through the rule that decides (libs/domain/explanation.ts). A touch on a link the
 * caller may not read (another organization's, or, for a mentor or coordinator, a mentor
 * outside their scope) keeps its kind, time and outcome but not its link or mentor. The
 * device's facts, the links they and the registration name, and those links' mentors' names
 * in the referral's organization come in one round trip.
 */
async function explanation(db: Queryable, r: ReferralRow & RegistrationColumns, mentorIds: string[] | null, windowDays: number) {
  if (r.reg_event_id === null) return null;
  const reg = { eventId: r.reg_event_id, userId: r.reg_user_id, orgId: r.reg_org_id, linkId: r.reg_link_id, deviceId: r.reg_device_id, occurredAt: r.reg_occurred_at.getTime() };
  const windowFrom = new Date(reg.occurredAt - windowDays * DAY_MS);
  const windowTo = new Date(reg.occurredAt);
  // A device's facts are as many as anyone sent clicks naming it: the newest in the window, the
  // touch the rule picks (the newest counted one on a link of the organization in the window,
  // whatever came after it), and the nearest outside the window on either side; the rest are
  // counted, not read.
  const { rows } = await db.query<TouchOrLink | { source: 'total'; event_id: string }>(
    `with facts as materialized (
       select 'click' as kind, event_id, link_id, occurred_at, is_bot, status = 'counted' as touch from clicks where device_id = $1
       union all
       select 'install', event_id, coalesce(attributed_link_id, link_id), occurred_at, false, status in ('counted', 'reinstall') and attributed_link_id is not null
         from installs where device_id = $1),
     shown as (
       (select * from facts where occurred_at between $4 and $5 order by occurred_at desc, event_id desc limit ${EXPLAINED_IN_WINDOW})
       union
       (select f.* from facts f join invite_links l on l.link_id = f.link_id
         where f.touch and l.org_id = $3 and f.occurred_at between $4 and $5 order by f.occurred_at desc, f.event_id desc limit 1)
       union
       (select * from facts where occurred_at > $5 order by occurred_at, event_id limit ${EXPLAINED_OUTSIDE})
       union
       (select * from facts where occurred_at < $4 order by occurred_at desc, event_id desc limit ${EXPLAINED_OUTSIDE}))
     select 'fact' as source, kind, event_id, link_id, occurred_at, is_bot, touch,
            null::text as org_id, null::text as mentor_id, null::text as campaign_id, null::timestamptz as expires_at, null::timestamptz as revoked_at, null::text as mentor_name
       from shown
     union all
     select 'link', null, null, l.link_id, null, null, null, l.org_id, l.mentor_id, l.campaign_id, l.expires_at, l.revoked_at,
            case when l.org_id = $3 then ${mentorNameSql('l.mentor_id', '$3')} end
       from invite_links l where l.link_id in (select link_id from shown union select $2::text)
     union all
     select 'total', null, (select count(*) from facts)::text, null, null, null, null, null, null, null, null, null, null`,
    [reg.deviceId, reg.linkId, r.org_id, windowFrom, windowTo],
  );
  const links = new Map<string, KnownLink & LinkValidity>();
  const names = new Map<string, string | null>();
  const deviceFacts: DeviceFact[] = [];
  let total = 0;
  for (const row of rows) {
    if (row.source === 'total') total = Number(row.event_id);
    else if (row.source === 'fact') {
      deviceFacts.push({ eventId: row.event_id, kind: row.kind, linkId: row.link_id, occurredAt: row.occurred_at.getTime(), isBot: row.is_bot, touch: row.touch });
    } else {
      links.set(row.link_id, { linkId: row.link_id, orgId: row.org_id, mentorId: row.mentor_id, campaignId: row.campaign_id, expiresAt: row.expires_at?.getTime() ?? null, revokedAt: row.revoked_at?.getTime() ?? null });
      if (row.org_id === r.org_id) names.set(row.mentor_id, row.mentor_name);
    }
  }
  const e = explainAttribution(reg, links, deviceFacts, windowDays);
  if (!e) return null;
  const readable = (linkId: string | null) => {
    const link = linkId === null ? undefined : links.get(linkId);
    return link !== undefined && link.orgId === r.org_id && (mentorIds === null || mentorIds.includes(link.mentorId));
  };
  const touch = (t: ExplainedTouch) => ({ eventId: t.eventId, kind: t.kind, linkId: readable(t.linkId) ? t.linkId : null, occurredAt: new Date(t.occurredAt).toISOString() });
  const omitted = e.rule === 'DEVICE' ? total - deviceFacts.length : 0;
  return {
    rule: e.rule, windowFrom: new Date(e.windowFrom).toISOString(), windowTo: new Date(e.windowTo).toISOString(), winner: touch(e.winner),
    candidates: e.candidates.map((c) => {
      const shown = readable(c.linkId);
      return { ...touch(c), mentorId: shown ? c.mentorId : null, mentorName: shown && c.mentorId !== null ? (names.get(c.mentorId) ?? null) : null, outcome: c.outcome, reason: c.reason };
    }),
    ...(omitted > 0 ? { candidatesOmitted: omitted } : {}),
  };
}
