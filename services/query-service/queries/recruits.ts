import type { Queryable } from '../../../libs/db/queryable.js';
import type { GrantFor } from '../policy.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { OrgRecruitProfileT, RecruitProfileT } from '../schemas.js';
import { sqlParams } from '../../../libs/funnel/range-rows.js';
import { restrict, type Target } from './grant-filter.js';
import { profileOf, STAGE_SQL, type ReferralRow } from './referral-rows.js';
import { mentorNameSql } from './mentor-names.js';

type Stage = RecruitProfileT['stage'];
type PageQuery = { stage?: Stage; limit: number; cursor?: string; stuckDays?: number };
/** A page of an organization's referrals (org and coordinator routes). */
export type ReferralPage = { items: OrgRecruitProfileT[]; nextCursor: string | null };
const DAY_MS = 86_400_000;

/**
 * One keyset page of recruits (newest registration first) of an organization, optionally of
 * some mentors and a current stage. A recruit is a registered user; their stage is ACTIVATED
 * once they logged in, else REGISTERED, so filtering on CLICKED or INSTALLED finds nobody.
 *
 * `stuckDays` (the follow-up list) keeps the recruits not yet activated whose current stage,
 * REGISTERED, was reached at least that many whole 24-hour days before `now`: registered at or
 * before now - N days. The partial indexes of migration 0013 hold exactly the recruits not yet
 * activated, in page order, so the page starts at the cut-off and reads no activated row.
 */
async function recruitPage(db: Queryable, where: Target, q: PageQuery, named: boolean, now: number): Promise<ReferralPage> {
  const after = decodeCursor(q.cursor);
  if (q.stage === 'CLICKED' || q.stage === 'INSTALLED') return { items: [], nextCursor: null };
  if (q.stuckDays !== undefined && q.stage === 'ACTIVATED') return { items: [], nextCursor: null };
  const { values, add } = sqlParams();
  // One mentor is an equality, so the mentor's index gives the page in order (an = any() would
  // read all of a mentor's referrals and sort them: thousands for a top mentor).
  const mentors = where.mentorIds === null ? 'true' : where.mentorIds.length === 1 ? `mentor_id = ${add(where.mentorIds[0])}` : `mentor_id = any(${add(where.mentorIds)}::text[])`;
  const [org, afterAt, afterId, limit] = [add(where.orgId), add(after?.registeredAt ?? null), add(after?.referralId ?? null), add(q.limit + 1)];
  // Its own statement text (not a `$n is null or` filter), so the planner can use the partial index.
  // A follow-up list is REGISTERED recruits only (ACTIVATED returned above), which the cut-off's
  // `activated_at is null` already says: no stage filter, so the page is found in the index alone.
  const stuck = q.stuckDays === undefined ? '' : `and activated_at is null and registered_at <= ${add(new Date(now - q.stuckDays * DAY_MS))}::timestamptz`;
  const stage = q.stuckDays === undefined ? add(q.stage ?? null) : null;
  const stageFilter = stage === null ? '' : `and (${stage}::text is null or ${STAGE_SQL} = ${stage})`;
  const filters = `org_id = ${org} and ${mentors} ${stageFilter} ${stuck}
        and (${afterAt}::timestamptz is null or (registered_at, referral_id) < (${afterAt}::timestamptz, ${afterId}::text))`;
  const columns = `f.*${named ? `, ${mentorNameSql('f.mentor_id', 'f.org_id')} as mentor_name` : ''}`;
  // Some of an organization's mentors (a coordinator's): the organization's index in page order
  // holds each row's mentor (and activation: migration 0027), so the page's ids are found in the
  // index alone, stepping over the other mentors' recruits without reading their rows (a
  // coordinator of 20 of 100 mentors read some 250 rows for a page of 20), and only the page's
  // rows are read.
  const sql =
    where.mentorIds !== null && where.mentorIds.length > 1
      ? `select ${columns} from (select referral_id from referrals where ${filters} order by registered_at desc, referral_id desc limit ${limit}) k
           join referrals f using (referral_id)
          order by f.registered_at desc, f.referral_id desc`
      : `select ${columns} from referrals f where ${filters} order by registered_at desc, referral_id desc limit ${limit}`;
  const { rows } = await db.query<ReferralRow>(sql, values);
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > q.limit && last ? encodeCursor({ registeredAt: last.registered_at.toISOString(), referralId: last.referral_id }) : null;
  return { items: page.map(profileOf), nextCursor };
}

/** A mentor's recruits, a page at a time. */
export async function mentorRecruits(db: Queryable, grant: GrantFor<'mentor'>, q: PageQuery, now = Date.now()): Promise<{ items: RecruitProfileT[]; nextCursor: string | null }> {
  const { items, nextCursor } = await recruitPage(db, restrict(grant.visibility, { orgId: grant.orgId, mentorIds: [grant.mentorId] }), q, false, now);
  return { items: items.map(({ mentorId: _m, mentorName: _n, stageSince: _s, ...profile }) => profile), nextCursor };
}

/** An organization's referrals with their mentors, a page at a time, optionally of one mentor. */
export async function orgReferrals(db: Queryable, grant: GrantFor<'org'>, q: PageQuery & { mentorId?: string }, now = Date.now()): Promise<ReferralPage> {
  return recruitPage(db, restrict(grant.visibility, { orgId: grant.orgId, mentorIds: q.mentorId ? [q.mentorId] : null }), q, true, now);
}

/**
 * The referrals of a coordinator's mentors, as the org route: a `mentorId` outside the scope
 * finds nothing (as a mentor of no referrals would), and the grant's visibility cuts again.
 */
export async function coordinatorReferrals(db: Queryable, grant: GrantFor<'coordinator'>, q: PageQuery & { mentorId?: string }, now = Date.now()): Promise<ReferralPage> {
  const mentorIds = q.mentorId === undefined ? grant.mentorIds : grant.mentorIds.filter((m) => m === q.mentorId);
  return recruitPage(db, restrict(grant.visibility, { orgId: grant.orgId, mentorIds }), q, true, now);
}
