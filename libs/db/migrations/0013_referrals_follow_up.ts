import type { Knex } from 'knex';

/**
 * The follow-up lists (`stuckDays` on the org and coordinator referrals routes): recruits not
 * yet activated, newest registration first, from a cut-off back. Partial indexes that hold only
 * those recruits, in page order, per organization and per mentor, so a page starts at the
 * cut-off and never steps over the activated majority of an organization that recruits well.
 * Both keys descending, as the pages are ordered, so no sort step follows the index scan.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create index referrals_org_waiting on referrals (org_id, registered_at desc, referral_id desc) where activated_at is null;
    create index referrals_mentor_waiting on referrals (mentor_id, registered_at desc, referral_id desc) where activated_at is null;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop index if exists referrals_org_waiting, referrals_mentor_waiting');
}
