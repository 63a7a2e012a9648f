import type { Queryable } from '../../../libs/db/queryable.js';

/**
 * A mentor's name (SPEC §5 `mentorName`): a mentor is a member, and their `mentorId` is their
 * `userId`, so their name is the display name of their own registration in the organization:
 * the earliest (ties: smallest event id), the one attribution goes by. Null when they have no
 * registration there (yet) or were erased (erasure nulls display names, and a registration of
 * an erased user is stored without one). Read at query time, so a late registration or an
 * erasure shows in the next answer whatever order they arrived in. One probe of the
 * registrations_user index (user_id, occurred_at) per mentor.
 *
 * `mentor` and `org` are SQL expressions: parameters, or columns qualified by their table's alias
 * (an unqualified `org_id` would mean the registration's own, and match every organization).
 */
export const mentorNameSql = (mentor: string, org: string) =>
  `(select g.display_name from registrations g where g.user_id = ${mentor} and g.org_id = ${org} order by g.occurred_at, g.event_id collate "C" limit 1)`;

/** The names of some mentors of one organization, in one query (a mentor without one maps to null). */
export async function mentorNames(db: Queryable, orgId: string, mentorIds: readonly string[]): Promise<Map<string, string | null>> {
  const ids = [...new Set(mentorIds)];
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ mentor_id: string; mentor_name: string | null }>(
    `select m.mentor_id, ${mentorNameSql('m.mentor_id', '$2')} as mentor_name from unnest($1::text[]) as m(mentor_id)`,
    [ids, orgId],
  );
  return new Map(rows.map((r) => [r.mentor_id, r.mentor_name]));
}

/** The items with the name of their mentor beside its id. */
export async function withMentorNames<T extends { mentorId: string }>(db: Queryable, orgId: string, items: T[]): Promise<(T & { mentorName: string | null })[]> {
  const names = await mentorNames(db, orgId, items.map((i) => i.mentorId));
  return items.map((i) => ({ ...i, mentorName: names.get(i.mentorId) ?? null }));
}
