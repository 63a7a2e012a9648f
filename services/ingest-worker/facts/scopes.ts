import type { CoordinatorScope } from '../../../libs/events/types.generated.js';
import type { Tx } from './tx.js';

/** Full replacement of a coordinator's scope; the newest updatedAt wins, whatever the arrival order. */
export async function upsertScopes(tx: Tx, scopes: CoordinatorScope[]): Promise<void> {
  const newest = new Map<string, CoordinatorScope>();
  for (const s of scopes) {
    const seen = newest.get(s.coordinatorId);
    if (!seen || s.updatedAt >= seen.updatedAt) newest.set(s.coordinatorId, s);
  }
  const rows = [...newest.values()];
  if (rows.length === 0) return;
  await tx.query(
    `insert into coordinator_scopes (coordinator_id, org_id, mentor_ids, updated_at)
     select t.c, t.o, array(select jsonb_array_elements_text(t.m)), t.u
       from unnest($1::text[], $2::text[], $3::jsonb[], $4::timestamptz[]) as t(c, o, m, u)
     on conflict (coordinator_id) do update set org_id = excluded.org_id, mentor_ids = excluded.mentor_ids, updated_at = excluded.updated_at
      where excluded.updated_at >= coordinator_scopes.updated_at`,
    [rows.map((s) => s.coordinatorId), rows.map((s) => s.orgId), rows.map((s) => JSON.stringify(s.mentorIds)), rows.map((s) => new Date(s.updatedAt))],
  );
}
