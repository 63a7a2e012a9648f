import type { OrgRecruitProfileT } from '../schemas.js';

/** A row of the referrals facts (one per attributed user). */
export interface ReferralRow {
  referral_id: string;
  user_id: string;
  mentor_id: string;
  org_id: string;
  display_name: string | null;
  link_id: string;
  campaign_id: string | null;
  attributed_by: 'LINK' | 'DEVICE';
  clicked_at: Date | null;
  installed_at: Date | null;
  registered_at: Date;
  activated_at: Date | null;
  /** The registration that decided the referral. */
  registration_event_id: string;
  /** The mentor's name, when the query selected it (mentor-names.ts). */
  mentor_name?: string | null;
}

export const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A recruit's current stage in SQL: ACTIVATED once they logged in, else REGISTERED. */
export const STAGE_SQL = "case when activated_at is null then 'REGISTERED' else 'ACTIVATED' end";

export function profileOf(r: ReferralRow): OrgRecruitProfileT {
  return {
    referralId: r.referral_id, userId: r.user_id, mentorId: r.mentor_id, mentorName: r.mentor_name ?? null, displayName: r.display_name, linkId: r.link_id, campaignId: r.campaign_id,
    stage: r.activated_at ? 'ACTIVATED' : 'REGISTERED', stageSince: iso(r.activated_at ?? r.registered_at) as string, clickedAt: iso(r.clicked_at), installedAt: iso(r.installed_at), registeredAt: iso(r.registered_at), activatedAt: iso(r.activated_at),
  };
}
