import type { Knex } from 'knex';

/**
 * Attribution per organization and reinstalls (SPEC §4).
 *
 * - referrals: one per user and organization (a person who registers in two organizations is a
 *   possible recruit of each), instead of one per user.
 * - installs.status gains 'reinstall': a later install of a device, kept with the link it
 *   would go to (a touch for last-touch attribution), never counted as an install.
 * - funnel_decisions: a user's REGISTERED and ACTIVATED decisions are kept per organization,
 *   under the subject `<length of orgId>:<orgId>:<userId>` (libs/domain/event-ids.ts
 *   memberSubject). A live decision moves to the organization of the event that counts now,
 *   so its next revision retracts that very event; a decision with no live event has nothing
 *   to retract and goes (the new subject's ids were never issued).
 *
 * Facts stored before this migration keep their decisions until a new fact re-decides their
 * user or device; the numbers of a world replayed into a fresh database follow the new rules
 * at once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    alter table referrals drop constraint referrals_user_id_key;
    alter table referrals add constraint referrals_user_org_key unique (user_id, org_id);
    alter table installs drop constraint installs_status_check;
    alter table installs add constraint installs_status_check check (status in ('counted', 'unattributed', 'pending', 'reinstall'));
    delete from funnel_decisions where stage in ('REGISTERED', 'ACTIVATED') and live_event_id is null;
    update funnel_decisions d set subject = length(t.org_id) || ':' || t.org_id || ':' || d.subject
      from referral_trackings t
     where d.stage in ('REGISTERED', 'ACTIVATED') and t.event_id = d.live_event_id;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    update funnel_decisions d set subject = t.user_id
      from referral_trackings t
     where d.stage in ('REGISTERED', 'ACTIVATED') and t.event_id = d.live_event_id;
    update installs set status = 'unattributed', attributed_link_id = null where status = 'reinstall';
    alter table installs drop constraint installs_status_check;
    alter table installs add constraint installs_status_check check (status in ('counted', 'unattributed', 'pending'));
    alter table referrals drop constraint referrals_user_org_key;
    alter table referrals add constraint referrals_user_id_key unique (user_id);
  `);
}
