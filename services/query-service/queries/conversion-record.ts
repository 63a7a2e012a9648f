import type { Queryable } from '../../../libs/db/queryable.js';
import type { Visibility } from '../policy.js';
import { iso, type ReferralRow } from './referral-rows.js';
import { mentorNameSql } from './mentor-names.js';

/**
 * The attribution of one user in one organization (attribution is per organization), if the
 * caller may see the mentor it belongs to. Without an organization (a platform admin's token
 * names none) it is the user's referral in the organization they joined first.
 */
export async function conversionRecord(db: Queryable, visibility: Visibility, userId: string, orgId: string | null) {
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
  };
}
