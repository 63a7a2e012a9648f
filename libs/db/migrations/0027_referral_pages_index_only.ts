import type { Knex } from 'knex';

/**
 * The organization's referral indexes carry each row's mentor (and, on the one of every
 * recruit, its activation), so a page of some of an organization's mentors (a coordinator's
 * referrals and follow-up list: recruits.ts) finds its ids in the index alone and reads only
 * the page's rows (issue 22). Before, each row of the organization the scan passed was read to
 * learn its mentor: for a coordinator of 20 of 100 mentors some 250 rows per page of 20. On a
 * copy of bench part 3's database (971k referrals), prepared statements, 8 clients on two
 * cores: a coordinator's follow-up page 1,367-1,490 -> 2,919-3,489 pages/s.
 *
 * The mentor's index carries the organization, so the annual summary's count of a mentor's
 * recruits of the year (mentor ids are unique per organization only) reads no row: the same
 * copy, 5,540 -> 30,194-32,868 counts/s (a top mentor's year is 2,247 rows).
 *
 * The columns change only when a referral is attributed again or activated, which already
 * writes these indexes (mentor_id keys referrals_mentor; activated_at is in the partial
 * indexes' predicate; org_id never changes), so no update that was HOT stops being one.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index referrals_org;
    create index referrals_org on referrals (org_id, registered_at desc, referral_id) include (mentor_id, activated_at);
    drop index referrals_org_waiting;
    create index referrals_org_waiting on referrals (org_id, registered_at desc, referral_id desc) include (mentor_id) where activated_at is null;
    drop index referrals_mentor;
    create index referrals_mentor on referrals (mentor_id, registered_at desc, referral_id) include (org_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    drop index referrals_org;
    create index referrals_org on referrals (org_id, registered_at desc, referral_id);
    drop index referrals_org_waiting;
    create index referrals_org_waiting on referrals (org_id, registered_at desc, referral_id desc) where activated_at is null;
    drop index referrals_mentor;
    create index referrals_mentor on referrals (mentor_id, registered_at desc, referral_id);
  `);
}
