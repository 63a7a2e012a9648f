import type { Queryable } from '../../libs/db/queryable.js';

/**
 * The facts scope decisions rest on (policy.ts decides, these only read): coordinator scopes,
 * the organizations of mentors, whether an organization exists, its timezone.
 */

/** Keeps what `compute` read under `key` for later requests, or not (see AnswerCache.fact). */
export type Remember = <T>(key: string, compute: () => Promise<T>) => Promise<T>;

/** The scope facts authorize() reads, each from Postgres or from what `remember` kept of it. */
export interface ScopeFacts {
  coordinatorScopes(coordinatorId: string): ReturnType<typeof coordinatorScopes>;
  mentorOrgs(mentorId: string): ReturnType<typeof mentorOrgs>;
  orgFacts(orgId: string): ReturnType<typeof orgFacts>;
}

/**
 * The scope facts read through `remember` (the answer cache's: kept until a scope table
 * changes). Every reader of them only reads: a kept Map or array is shared by the requests
 * that hit it.
 */
export function scopeFacts(db: Queryable, remember: Remember): ScopeFacts {
  return {
    coordinatorScopes: (id) => remember(`coordinator\0${id}`, () => coordinatorScopes(db, id)),
    mentorOrgs: (id) => remember(`mentor\0${id}`, () => mentorOrgs(db, id)),
    orgFacts: (id) => remember(`org\0${id}`, () => orgFacts(db, id)),
  };
}

/**
 * A coordinator's scopes, one per organization that published one for this id (ids are an
 * organization's own: migration 0032), by organization: the mentors in it and the
 * organization's timezone setting (null when it has none). A listed mentor known only in other
 * organizations (their links are all elsewhere) is left out: a scope never reaches outside its
 * organization. A mentor not known anywhere yet stays, with empty numbers.
 */
export async function coordinatorScopes(db: Queryable, coordinatorId: string): Promise<Map<string, { mentorIds: string[]; timezone: string | null }>> {
  const { rows } = await db.query<{ org_id: string; mentor_ids: string[]; timezone: string | null }>(
    `select s.org_id, array(
       select m from unnest(s.mentor_ids) with ordinality as t(m, i)
        -- In the organization when one of its links is there, or when it has none anywhere:
        -- one probe of invite_links_mentor per listed mentor (an exists ... or not exists
        -- made Postgres hash every link of the organization, on every request).
        where coalesce((select bool_or(l.org_id = s.org_id) from invite_links l where l.mentor_id = t.m), true)
        order by t.i) as mentor_ids,
       (select o.timezone from org_settings o where o.org_id = s.org_id) as timezone
       from coordinator_scopes s where s.coordinator_id = $1 order by s.org_id`,
    [coordinatorId],
  );
  return new Map(rows.map((r) => [r.org_id, { mentorIds: r.mentor_ids, timezone: r.timezone }]));
}

/** The organizations a mentor id has invite links in, sorted, each with its timezone setting (null when it has none). */
export async function mentorOrgs(db: Queryable, mentorId: string): Promise<Map<string, string | null>> {
  const { rows } = await db.query<{ org_id: string; timezone: string | null }>(
    `select l.org_id, s.timezone from (select distinct org_id from invite_links where mentor_id = $1) l
       left join org_settings s on s.org_id = l.org_id order by l.org_id`,
    [mentorId],
  );
  return new Map(rows.map((r) => [r.org_id, r.timezone]));
}

/**
 * Whether an organization exists (once anything of it is known: a link, a setting or a
 * coordinator scope), and its timezone setting (null when it has none).
 */
export async function orgFacts(db: Queryable, orgId: string): Promise<{ exists: boolean; timezone: string | null }> {
  const { rows } = await db.query<{ exists: boolean; timezone: string | null }>(
    `select exists (select 1 from invite_links where org_id = $1 union all select 1 from org_settings where org_id = $1
                    union all select 1 from coordinator_scopes where org_id = $1) as exists,
            (select timezone from org_settings where org_id = $1) as timezone`,
    [orgId],
  );
  return { exists: rows[0]?.exists ?? false, timezone: rows[0]?.timezone ?? null };
}

/** The organization of a known invite link, or null when the link is not known (yet). */
export async function linkOrg(db: Queryable, linkId: string): Promise<string | null> {
  const { rows } = await db.query<{ org_id: string }>('select org_id from invite_links where link_id = $1', [linkId]);
  return rows[0]?.org_id ?? null;
}
