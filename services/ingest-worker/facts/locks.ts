import type { Tx } from './tx.js';

/**
 * The kinds of subject a batch locks, in the order it locks them. Every batch takes its locks
 * kind by kind in this order, and within a kind in key order, so two batches never wait on
 * each other in a cycle.
 */
export type SubjectKind = 'link' | 'device' | 'user';

/**
 * Locks the subjects until the transaction ends: batches that touch the same subject run one
 * after the other; batches that share none run side by side. `share` lets batches that only
 * need a subject not to change (facts naming a link) run together, while one that changes it
 * (a new link state) waits for them and they for it. Row locks (in an unlogged table, one row
 * per subject key) rather than advisory locks, because a batch may touch thousands of
 * subjects and advisory locks live in a small shared table. A new key is inserted first (in
 * order too): a concurrent insert of the same key waits for this one.
 */
export async function lockSubjects(tx: Tx, kind: SubjectKind, ids: Iterable<string>, mode: 'update' | 'share' = 'update'): Promise<void> {
  const distinct = [...new Set(ids)];
  if (distinct.length === 0) return;
  const keys = `select distinct hashtextextended($1 || k, 0) as key from unnest($2::text[]) k`;
  // A key this insert creates is held until commit already (a concurrent insert of it waits
  // on the unique index), so only the keys that existed are locked by the second statement.
  const { rows: created } = await tx.query<{ key: string }>(
    `insert into ingest_subject_locks (key) select key from (${keys}) s order by key on conflict do nothing returning key`,
    [`${kind}:`, distinct],
  );
  if (created.length === distinct.length) return;
  await tx.query(
    `select key from ingest_subject_locks where key in (${keys}) and key <> all($3::bigint[]) order by key for ${mode === 'update' ? 'update' : 'share'}`,
    [`${kind}:`, distinct, created.map((r) => r.key)],
  );
}
