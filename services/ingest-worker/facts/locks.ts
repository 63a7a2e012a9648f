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
const KIND_ORDER: readonly SubjectKind[] = ['link', 'clicks', 'device', 'user'];

/** Subjects of one kind to lock, shared or exclusively. */
export interface LockRequest {
  kind: SubjectKind;
  ids: Iterable<string>;
  /** `share` lets batches that only need a subject not to change run together. Default `update`. */
  mode?: 'update' | 'share';
}

/**
 * Subjects found by a read in the lock statement itself: `select` returns one text column
 * (`id`), its parameters numbered from `$1` as in `values`. The read sees what was committed
 * when the statement began, as a read just before the lock would.
 */
export interface LockFinder {
  select: string;
  values: unknown[];
}

const MASK = BUCKETS_PER_KIND - 1;

/**
 * One statement that locks the buckets of each request in turn (a kind's buckets in bucket
 * order, and a kind only once the one before it is locked: the `where` on the previous kind's
 * count is evaluated before the scan), and returns per kind how many buckets it wanted and
 * locked, with the ids `find` found (they are locked with the last request's kind).
 */
function lockStatement(requests: readonly LockRequest[], find: LockFinder | undefined): string {
  const shift = 2 * requests.length;
  const parts = requests.map((r, i) => {
    const ids = `unnest($${2 * i + 2}::text[])`;
    const keys = find && i === requests.length - 1 ? `(select ${ids} union all select id from found where id is not null) ids(k)` : `${ids} k`;
    const after = i > 0 ? ` and (select count(*) from locked${i - 1}) >= 0` : '';
    return `wanted${i} as (select distinct (hashtextextended(k, 0) & ${MASK})::int as bucket from ${keys}),
       locked${i} as (select bucket from ingest_lock_buckets where kind = $${2 * i + 1} and bucket in (select bucket from wanted${i})${after}
                       order by bucket for ${r.mode === 'share' ? 'share' : 'update'})`;
  });
  const found = find ? `found(id) as (${find.select.replace(/\$(\d+)/g, (_, n: string) => `$${Number(n) + shift}`)}), ` : '';
  const counts = requests.map((_, i) => `(select count(*) from wanted${i})::int as wanted${i}, (select count(*) from locked${i})::int as locked${i}`);
  return `with ${found}${parts.join(', ')}
     select ${counts.join(', ')}${find ? ", (select coalesce(array_agg(distinct id), '{}') from found where id is not null) as found" : ''}`;
}

/**
 * Locks the subjects until the transaction ends, kind after kind in the order given (which
 * must be the order of SubjectKind), in one round trip; returns the ids `find` found, locked
 * with the last request's kind. Batches that touch the same subject run one after the other;
 * batches that share none run side by side, unless their subjects share one of the fixed
 * buckets of ingest_lock_buckets (a hash of the key; migration 0015), which costs a wait,
 * never a wrong answer. `share` lets batches that only need a subject not to change (facts
 * naming a link) run together, while one that changes it (a new link state) waits for them and
 * they for it. Row locks rather than advisory locks, because a batch may touch thousands of
 * subjects and advisory locks live in a small shared table; no insert: the table never grows.
 *
 * The table is unlogged (migration 0024: a row lock then writes no WAL), so crash recovery or
 * a failover leaves it empty. The statement returns how many buckets each kind wanted and how
 * many it locked; short, the kind's buckets are created again in this transaction (another
 * batch doing the same waits for this one's rows, then finds them) and all are locked again.
 */
export async function lockSubjects(tx: Tx, requests: readonly LockRequest[], find?: LockFinder): Promise<string[]> {
  // Kinds with nothing to lock are left out (but the last when it takes what `find` finds).
  const wanted = requests.map((r) => ({ ...r, ids: [...new Set(r.ids)] })).filter((r, i, all) => r.ids.length > 0 || (find && i === all.length - 1));
  if (wanted.length === 0) return [];
  const order = wanted.map((r) => KIND_ORDER.indexOf(r.kind));
  if (order.some((o, i) => i > 0 && o <= (order[i - 1] as number))) throw new Error(`subjects are locked kind by kind in the order ${KIND_ORDER.join(', ')}`);
  const text = lockStatement(wanted, find);
  const values = [...wanted.flatMap((r) => [KIND[r.kind], r.ids]), ...(find?.values ?? [])];
  const lock = async () => (await tx.query<Record<string, number> & { found?: string[] }>(text, values)).rows[0]!;
  let result = await lock();
  const short = () => wanted.filter((_, i) => result[`locked${i}`] !== result[`wanted${i}`]);
  if (short().length === 0) return result.found ?? [];
  for (const r of short()) {
    await tx.query(
      `insert into ingest_lock_buckets (kind, bucket) select $1, b from generate_series(0, ${MASK}) b on conflict do nothing`,
      [KIND[r.kind]],
    );
  }
  result = await lock();
  const still = short();
  if (still.length > 0) throw new Error(`could not lock the ${still.map((r) => r.kind).join(', ')} lock buckets a batch needs, after creating them`);
  return result.found ?? [];
}
