import { BUCKETS_PER_KIND } from '../../../libs/db/migrations/0015_lock_buckets.js';
import { CLICKS_KIND } from '../../../libs/db/migrations/0017_click_lock_buckets.js';
import { bucketOf } from '../../../libs/db/pg-hash.js';
import type { InviteClicked } from '../../../libs/events/types.generated.js';
import type { Tx } from './tx.js';

/**
 * The kinds of subject a batch locks, in the order it locks them. Every batch takes its locks
 * kind by kind in this order, and within a kind in bucket order, so two batches never wait on
 * each other in a cycle. `link` is a link's state; `clicks` one visitor-day of a link's clicks
 * (see visitorDayKey).
 */
export type SubjectKind = 'link' | 'clicks' | 'device' | 'user';

const KIND: Record<SubjectKind, number> = { link: 1, clicks: CLICKS_KIND, device: 2, user: 3 };

/** The lock bucket of a subject key: `hashtextextended(key, 0)` cut to the buckets of a kind (migration 0015), as earlier versions computed it in SQL. */
const DAY_MS = 86_400_000;

export const lockBucket = (key: string): number => bucketOf(key, BUCKETS_PER_KIND);

/**
 * What a click's decision is taken over: its link, its visitor and the UTC day (SPEC §4, the
 * unique click), the visitor as the keyed visitor hash tells visitors apart (device id, else
 * ip and user agent, else the click itself), the day as days since 1970 (a UTC day). It holds the raw ip, so it never leaves the
 * process: only its lock bucket is sent to Postgres (lockVisitorDays), and nothing logs it.
 */
export function visitorDayKey(click: Pick<InviteClicked, 'eventId' | 'linkId' | 'occurredAt' | 'visitor'>): string {
  const { deviceId, ip, userAgent } = click.visitor;
  const visitor = deviceId ? `device\0${deviceId}` : ip || userAgent ? `ipua\0${ip ?? ''}\0${userAgent ?? ''}` : `event\0${click.eventId}`;
  return `${click.linkId}\0${visitor}\0${Math.floor(click.occurredAt / DAY_MS)}`;
}

/**
 * Locks the subjects until the transaction ends: batches that touch the same subject run one
 * after the other; batches that share none run side by side, unless their subjects share one
 * of the fixed buckets of ingest_locks (a hash of the key; migrations 0015 and 0020), which
 * costs a wait, never a wrong answer. `share` lets batches that only need a subject not to
 * change (facts naming a link) run together, while one that changes it (a new link state)
 * waits for them and they for it. Row locks rather than advisory locks, because a batch may
 * touch thousands of subjects and advisory locks live in a small shared table; one statement,
 * no insert: the table never grows.
 */
export async function lockSubjects(tx: Tx, kind: SubjectKind, ids: Iterable<string>, mode: 'update' | 'share' = 'update'): Promise<void> {
  await lockBuckets(tx, kind, [...new Set(ids)].map(lockBucket), mode);
}

/** Locks buckets of a kind, already computed (see lockSubjects). */
export async function lockBuckets(tx: Tx, kind: SubjectKind, buckets: Iterable<number>, mode: 'update' | 'share' = 'update'): Promise<void> {
  const distinct = [...new Set(buckets)];
  if (distinct.length === 0) return;
  await tx.query(
    `select 1 from ingest_locks where kind = $1 and bucket = any($2::int[]) order by bucket for ${mode === 'update' ? 'update' : 'share'}`,
    [KIND[kind], distinct],
  );
}
