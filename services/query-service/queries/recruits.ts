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
/**
 * A page and when it stops holding with nothing written (epoch ms; null: never). Only a
 * follow-up list has such a moment: the next waiting recruit to reach its cut-off joins it then.
 */
export type TimedPage = { page: ReferralPage; until: number | null };
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

/**
 * A page as recruitPage gives it, and when it stops holding with nothing written. A follow-up
 * list keeps the waiting recruits registered at or before now - N days; as the clock moves, the
 * next waiting recruit registered after that cut-off joins it when its own N days are over, so
 * the page holds until then (or until a write changes a recruit, which the answer cache hears
 * of). That moment is read after the page: a recruit registered meanwhile only brings it
 * closer. Its instant is cut to the millisecond (Postgres keeps microseconds), so it is never
 * late. Any other page holds until a write.
 */
async function timedPage(db: Queryable, where: Target, q: PageQuery, named: boolean, now: number): Promise<TimedPage> {
  const page = await recruitPage(db, where, q, named, now);
  if (q.stuckDays === undefined || q.stage === 'CLICKED' || q.stage === 'INSTALLED' || q.stage === 'ACTIVATED') return { page, until: null };
  if (where.mentorIds !== null && where.mentorIds.length === 0) return { page, until: null };
  const { values, add } = sqlParams();
  const [org, cutoff] = [add(where.orgId), add(new Date(now - q.stuckDays * DAY_MS))];
  // The first waiting recruit after the cut-off: per mentor, one step of its partial index of
  // waiting recruits (migration 0013); for the whole organization, one of the organization's.
  const sql =
    where.mentorIds === null
      ? `select min(registered_at) as next_at from referrals where org_id = ${org} and activated_at is null and registered_at > ${cutoff}::timestamptz`
      : `select min(n.registered_at) as next_at from unnest(${add(where.mentorIds)}::text[]) m(id)
           cross join lateral (select registered_at from referrals
                                where mentor_id = m.id and org_id = ${org} and activated_at is null and registered_at > ${cutoff}::timestamptz
                                order by registered_at limit 1) n`;
  const { rows } = await db.query<{ next_at: Date | null }>(sql, values);
  const next = rows[0]?.next_at ?? null;
  return { page, until: next === null ? null : next.getTime() + q.stuckDays * DAY_MS };
}

/** A mentor's recruits, a page at a time. */
export async function mentorRecruits(db: Queryable, grant: GrantFor<'mentor'>, q: PageQuery, now = Date.now()): Promise<{ items: RecruitProfileT[]; nextCursor: string | null }> {
  const { items, nextCursor } = await recruitPage(db, restrict(grant.visibility, { orgId: grant.orgId, mentorIds: [grant.mentorId] }), q, false, now);
  return { items: items.map(({ mentorId: _m, mentorName: _n, stageSince: _s, ...profile }) => profile), nextCursor };
}

/** An organization's referrals with their mentors, a page at a time, optionally of one mentor. */
export async function orgReferrals(db: Queryable, grant: GrantFor<'org'>, q: PageQuery & { mentorId?: string }, now = Date.now()): Promise<ReferralPage> {
  return recruitPage(db, orgTarget(grant, q), q, true, now);
}

/** orgReferrals' page, and when it stops holding with nothing written (see timedPage). */
export async function orgReferralsTimed(db: Queryable, grant: GrantFor<'org'>, q: PageQuery & { mentorId?: string }, now = Date.now()): Promise<TimedPage> {
  return timedPage(db, orgTarget(grant, q), q, true, now);
}

function orgTarget(grant: GrantFor<'org'>, q: { mentorId?: string }): Target {
  return restrict(grant.visibility, { orgId: grant.orgId, mentorIds: q.mentorId ? [q.mentorId] : null });
}

/**
 * The referrals of a coordinator's mentors, as the org route: a `mentorId` outside the scope
 * finds nothing (as a mentor of no referrals would), and the grant's visibility cuts again.
 */
export async function coordinatorReferrals(db: Queryable, grant: GrantFor<'coordinator'>, q: PageQuery & { mentorId?: string }, now = Date.now()): Promise<ReferralPage> {
  return recruitPage(db, coordinatorTarget(grant, q), q, true, now);
}

/** coordinatorReferrals' page, and when it stops holding with nothing written (see timedPage). */
export async function coordinatorReferralsTimed(db: Queryable, grant: GrantFor<'coordinator'>, q: PageQuery & { mentorId?: string }, now = Date.now()): Promise<TimedPage> {
  return timedPage(db, coordinatorTarget(grant, q), q, true, now);
}

function coordinatorTarget(grant: GrantFor<'coordinator'>, q: { mentorId?: string }): Target {
  const mentorIds = q.mentorId === undefined ? grant.mentorIds : grant.mentorIds.filter((m) => m === q.mentorId);
  return restrict(grant.visibility, { orgId: grant.orgId, mentorIds });
}
