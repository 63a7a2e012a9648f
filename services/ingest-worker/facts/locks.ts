import { BUCKETS_PER_KIND } from '../../../libs/db/migrations/0015_lock_buckets.js';
import { CLICKS_KIND } from '../../../libs/db/migrations/0017_click_lock_buckets.js';
import type { Tx } from './tx.js';

/**
 * The kinds of subject a batch locks, in the order it locks them. Every batch takes its locks
 * kind by kind in this order, and within a kind in bucket order, so two batches never wait on
 * each other in a cycle. `link` is a link's state; `clicks` a link's clicks (its visitor-days).
 */
export type SubjectKind = 'link' | 'clicks' | 'device' | 'user';

const KIND: Record<SubjectKind, number> = { link: 1, clicks: CLICKS_KIND, device: 2, user: 3 };

/**
 * Locks the subjects until the transaction ends: batches that touch the same subject run one
 * after the other; batches that share none run side by side, unless their subjects share one
 * of the fixed buckets of ingest_lock_buckets (a hash of the key; migration 0015), which
 * costs a wait, never a wrong answer. `share` lets batches that only need a subject not to
 * change (facts naming a link) run together, while one that changes it (a new link state)
 * waits for them and they for it. Row locks rather than advisory locks, because a batch may
 * touch thousands of subjects and advisory locks live in a small shared table; one statement,
 * no insert: the table never grows.
 *
 * The table is unlogged (migration 0024: a row lock then writes no WAL), so crash recovery or
 * a failover leaves it empty. The statement returns how many buckets it wanted and how many it
 * locked; short, the kind's buckets are created again in this transaction (another batch doing
 * the same waits for this one's rows, then finds them) and locked again.
 */
export async function lockSubjects(tx: Tx, kind: SubjectKind, ids: Iterable<string>, mode: 'update' | 'share' = 'update'): Promise<void> {
  const distinct = [...new Set(ids)];
  if (distinct.length === 0) return;
  const lock = async () => {
    const { rows } = await tx.query<{ wanted: number; locked: number }>(
      `with wanted as (
         select distinct (hashtextextended(k, 0) & ${BUCKETS_PER_KIND - 1})::int as bucket from unnest($2::text[]) k
       ), locked as (
         select bucket from ingest_lock_buckets where kind = $1 and bucket in (select bucket from wanted)
          order by bucket for ${mode === 'update' ? 'update' : 'share'}
       )
       select (select count(*) from wanted)::int as wanted, (select count(*) from locked)::int as locked`,
      [KIND[kind], distinct],
    );
    return rows[0]!;
  };
  let { wanted, locked } = await lock();
  if (locked === wanted) return;
  await tx.query(
    `insert into ingest_lock_buckets (kind, bucket) select $1, b from generate_series(0, ${BUCKETS_PER_KIND - 1}) b on conflict do nothing`,
    [KIND[kind]],
  );
  ({ wanted, locked } = await lock());
  if (locked !== wanted) throw new Error(`locked ${locked} of the ${wanted} ${kind} lock buckets a batch needs, after creating them`);
}
