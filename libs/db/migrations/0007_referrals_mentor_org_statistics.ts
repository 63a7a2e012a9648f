import type { Knex } from 'knex';

/**
 * A mentor's referrals are in one organization (ids are unique per org, and rarely shared), but
 * the planner took mentor_id and org_id as independent: for `org_id = $1 and mentor_id = $2`
 * it expected 1/orgs of the mentor's rows, and read every referral of a top mentor by bitmap
 * and sorted them for a page of 20 (4.4 ms for 1,735 referrals at 1M clicks) instead of
 * walking referrals_mentor in order (0.1 ms). Functional-dependency statistics tell it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    create statistics referrals_mentor_org (dependencies) on mentor_id, org_id from referrals;
    analyze referrals;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('drop statistics if exists referrals_mentor_org');
}
