import { funnelEventId } from '../../../libs/domain/event-ids.js';
import { insertTrackings } from './trackings.js';
import type { FactsContext } from './tx.js';

/**
 * Marks activation: the first login at or after registration, for referred users not yet
 * activated. Publishes ACTIVATED once per user.
 */
export async function activate(ctx: FactsContext, userIds: string[]): Promise<void> {
  if (userIds.length === 0) return;
  const { rows } = await ctx.tx.query<{
    referral_id: string; user_id: string; org_id: string; mentor_id: string; link_id: string; campaign_id: string | null; activated_at: Date; login_event_id: string;
  }>(
    `with firsts as (
       select distinct on (r.user_id) r.user_id, l.occurred_at, l.event_id
         from referrals r join logins l on l.user_id = r.user_id and l.occurred_at >= r.registered_at
        where r.user_id = any($1::text[]) and r.activated_at is null
        order by r.user_id, l.occurred_at, l.event_id
     )
     update referrals r set activated_at = f.occurred_at from firsts f where r.user_id = f.user_id
     returning r.referral_id, r.user_id, r.org_id, r.mentor_id, r.link_id, r.campaign_id, r.activated_at, f.event_id as login_event_id`,
    [userIds],
  );
  ctx.effects.trackings.push(
    ...(await insertTrackings(
      ctx.tx,
      rows.map((r) => ({
        eventId: funnelEventId('ACTIVATED', r.user_id), orgId: r.org_id, mentorId: r.mentor_id, linkId: r.link_id, campaignId: r.campaign_id,
        referralId: r.referral_id, userId: r.user_id, stage: 'ACTIVATED' as const, uniqueVisitor: false, occurredAt: r.activated_at,
        sourceEventId: r.login_event_id,
      })),
    )),
  );
}
