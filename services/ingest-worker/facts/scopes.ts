import type { CoordinatorScope } from '../../../libs/events/types.generated.js';
import { newestScopes, scopeKey, supersedes } from '../../../libs/domain/scopes.js';
import type { Tx } from './tx.js';

/**
 * Full replacement of a coordinator's scope in an organization by the newest version
 * (libs/domain/scopes), whatever the arrival order; another organization's scope of the same
 * coordinator id is another row, never touched.
 */
export async function upsertScopes(tx: Tx, scopes: CoordinatorScope[]): Promise<void> {
  const incoming = newestScopes(scopes);
  if (incoming.length === 0) return;
  const { rows } = await tx.query<{ coordinator_id: string; org_id: string; mentor_ids: string[]; updated_at: Date }>(
    `select s.coordinator_id, s.org_id, s.mentor_ids, s.updated_at
       from unnest($1::text[], $2::text[]) as k(c, o) join coordinator_scopes s on s.coordinator_id = k.c and s.org_id = k.o
        for update of s`,
    [incoming.map((s) => s.coordinatorId), incoming.map((s) => s.orgId)],
  );
  const stored = new Map(rows.map((r) => {
    const scope = { coordinatorId: r.coordinator_id, orgId: r.org_id, mentorIds: r.mentor_ids, updatedAt: r.updated_at.getTime() };
    return [scopeKey(scope), scope];
  }));
  const winners = incoming.filter((s) => {
    const current = stored.get(scopeKey(s));
    return !current || supersedes(s, current);
  });
  if (winners.length === 0) return;
  await tx.query(
    `insert into coordinator_scopes (coordinator_id, org_id, mentor_ids, updated_at)
     select t.c, t.o, array(select jsonb_array_elements_text(t.m)), t.u
       from unnest($1::text[], $2::text[], $3::jsonb[], $4::timestamptz[]) as t(c, o, m, u)
     on conflict (coordinator_id, org_id) do update set mentor_ids = excluded.mentor_ids, updated_at = excluded.updated_at`,
    [winners.map((s) => s.coordinatorId), winners.map((s) => s.orgId), winners.map((s) => JSON.stringify(s.mentorIds)), winners.map((s) => new Date(s.updatedAt))],
  );
}
