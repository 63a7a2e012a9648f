import type { Queryable } from '../../../libs/db/queryable.js';
import type { GrantFor } from '../policy.js';
import { decodeCursor, encodeCursor } from '../cursor.js';
import type { OrgRecruitProfileT, RecruitProfileT } from '../schemas.js';
import { sqlParams } from '../../../libs/funnel/range-rows.js';
import { restrict, type Target } from './grant-filter.js';
import { profileOf, STAGE_SQL, type ReferralRow } from './referral-rows.js';
import { mentorNameSql } from './mentor-names.js';

type Stage = RecruitProfileT['stage'];
type PageQuery = { stage?: Stage; limit: number; cursor?: string };

/**
 * One keyset page of recruits (newest registration first) of an organization, optionally of
 * some mentors and a current stage. A recruit is a registered user; their stage is ACTIVATED
 * once they logged in, else REGISTERED, so filtering on CLICKED or INSTALLED finds nobody.
 */
async function recruitPage(db: Queryable, where: Target, q: PageQuery, named: boolean) {
  const after = decodeCursor(q.cursor);
  if (q.stage === 'CLICKED' || q.stage === 'INSTALLED') return { items: [] as OrgRecruitProfileT[], nextCursor: null };
  const { values, add } = sqlParams();
  // One mentor is an equality, so the mentor's index gives the page in order (an = any() would
  // read all of a mentor's referrals and sort them: thousands for a top mentor).
  const mentors = where.mentorIds === null ? 'true' : where.mentorIds.length === 1 ? `mentor_id = ${add(where.mentorIds[0])}` : `mentor_id = any(${add(where.mentorIds)}::text[])`;
  const [org, stage, afterAt, afterId, limit] = [add(where.orgId), add(q.stage ?? null), add(after?.registeredAt ?? null), add(after?.referralId ?? null), add(q.limit + 1)];
  const { rows } = await db.query<ReferralRow>(
    `select f.*${named ? `, ${mentorNameSql('f.mentor_id', 'f.org_id')} as mentor_name` : ''} from referrals f
      where org_id = ${org} and ${mentors}
        and (${stage}::text is null or ${STAGE_SQL} = ${stage})
        and (${afterAt}::timestamptz is null or (registered_at, referral_id) < (${afterAt}::timestamptz, ${afterId}::text))
      order by registered_at desc, referral_id desc
      limit ${limit}`,
    values,
  );
  const page = rows.slice(0, q.limit);
  const last = page[page.length - 1];
  const nextCursor = rows.length > q.limit && last ? encodeCursor({ registeredAt: last.registered_at.toISOString(), referralId: last.referral_id }) : null;
  return { items: page.map(profileOf), nextCursor };
}

/** A mentor's recruits, a page at a time. */
export async function mentorRecruits(db: Queryable, grant: GrantFor<'mentor'>, q: PageQuery): Promise<{ items: RecruitProfileT[]; nextCursor: string | null }> {
  const { items, nextCursor } = await recruitPage(db, restrict(grant.visibility, { orgId: grant.orgId, mentorIds: [grant.mentorId] }), q, false);
  return { items: items.map(({ mentorId: _m, mentorName: _n, ...profile }) => profile), nextCursor };
}

/** An organization's referrals with their mentors, a page at a time, optionally of one mentor. */
export async function orgReferrals(db: Queryable, grant: GrantFor<'org'>, q: PageQuery & { mentorId?: string }) {
  return recruitPage(db, restrict(grant.visibility, { orgId: grant.orgId, mentorIds: q.mentorId ? [q.mentorId] : null }), q, true);
}
