import type { Queryable } from '../../../libs/db/queryable.js';
import { decisionKey, type DecisionKey, type FunnelRecord, type PublishedDecision } from '../../../libs/domain/funnel-decisions.js';
import type { FunnelStage } from '../../../libs/events/types.generated.js';
import { ALREADY_STORED, storedNow, type Tx } from './tx.js';

/**
 * Appends funnel records (events and retractions) to `referral_trackings`. A record whose
 * deterministic id is already there is not inserted again; only the new ones are returned for
 * publishing (the statement answers with the ids already there: see ALREADY_STORED). The table
 * is keyed by (occurred_at, event_id) (migration 0023): an id names one body, so the pair says
 * what the id says, and new records land on the recent end of the index.
 */
export async function insertFunnelRecords(tx: Tx, rows: FunnelRecord[]): Promise<FunnelRecord[]> {
  if (rows.length === 0) return [];
  const { rows: before } = await tx.query<{ event_id: string }>(
    `with inserted as (
       insert into referral_trackings
         (event_id, org_id, mentor_id, link_id, campaign_id, referral_id, user_id, stage, unique_visitor, occurred_at, source_event_id, retracts_event_id)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[],
                            $10::timestamptz[], $11::text[], $12::text[])
       on conflict (occurred_at, event_id) do nothing
       returning event_id)
     ${ALREADY_STORED}`,
    [
      rows.map((r) => r.eventId), rows.map((r) => r.orgId), rows.map((r) => r.mentorId), rows.map((r) => r.linkId),
      rows.map((r) => r.campaignId), rows.map((r) => r.referralId), rows.map((r) => r.userId), rows.map((r) => r.stage),
      rows.map((r) => r.uniqueVisitor), rows.map((r) => new Date(r.occurredAt)), rows.map((r) => r.sourceEventId), rows.map((r) => r.retractsEventId),
    ],
  );
  return storedNow(rows, (r) => r.eventId, before);
}

/** A row of `referral_trackings`, as Postgres returns it. */
interface FunnelRecordRow {
  event_id: string; org_id: string; mentor_id: string; link_id: string; campaign_id: string | null; referral_id: string | null;
  user_id: string | null; stage: FunnelStage; unique_visitor: boolean; occurred_at: Date; source_event_id: string; retracts_event_id: string | null;
}

const toFunnelRecord = (r: FunnelRecordRow): FunnelRecord => ({
  eventId: r.event_id, orgId: r.org_id, mentorId: r.mentor_id, linkId: r.link_id, campaignId: r.campaign_id, referralId: r.referral_id,
  userId: r.user_id, stage: r.stage, uniqueVisitor: r.unique_visitor, occurredAt: r.occurred_at.getTime(), sourceEventId: r.source_event_id,
  retractsEventId: r.retracts_event_id,
});

const RECORD_COLUMNS = [
  'event_id', 'org_id', 'mentor_id', 'link_id', 'campaign_id', 'referral_id', 'user_id', 'stage', 'unique_visitor', 'occurred_at', 'source_event_id', 'retracts_event_id',
] as const satisfies readonly (keyof FunnelRecordRow)[];

/** The live funnel record of a fact row (alias `t`, joined at the fact's time), each column prefixed `live_`; see publishedOnFact. */
export const LIVE_RECORD_COLUMNS = RECORD_COLUMNS.map((c) => `t.${c} live_${c}`).join(', ');

/** A fact row's revision and its live funnel record's columns (LIVE_RECORD_COLUMNS: null when no record is live). */
export type LiveRecordRow = { revision: number | null } & { [K in keyof FunnelRecordRow as `live_${K}`]: FunnelRecordRow[K] | null };

/** What was published for a fact, from its row and its live record; undefined while nothing was. */
export function publishedOnFact(r: LiveRecordRow): PublishedDecision | undefined {
  if (r.revision === null) return undefined;
  if (r.live_event_id === null) return { revision: r.revision, live: null };
  const row = Object.fromEntries(RECORD_COLUMNS.map((c) => [c, r[`live_${c}`]])) as unknown as FunnelRecordRow;
  return { revision: r.revision, live: toFunnelRecord(row) };
}

/** What was last published for each subject, with the event that counts now. */
export async function loadPublished(tx: Tx, keys: DecisionKey[]): Promise<Map<string, PublishedDecision>> {
  const published = new Map<string, PublishedDecision>();
  if (keys.length === 0) return published;
  const { rows } = await tx.query<{ stage: FunnelStage; subject: string; revision: number } & Partial<FunnelRecordRow>>(
    `select d.stage, d.subject, d.revision, t.event_id, t.org_id, t.mentor_id, t.link_id, t.campaign_id, t.referral_id, t.user_id,
            t.unique_visitor, t.occurred_at, t.source_event_id, t.retracts_event_id
       from unnest($1::text[], $2::text[]) as k(stage, subject)
       join funnel_decisions d on d.stage = k.stage and d.subject = k.subject
       left join referral_trackings t on t.occurred_at = d.live_occurred_at and t.event_id = d.live_event_id`,
    [keys.map((k) => k.stage), keys.map((k) => k.subject)],
  );
  for (const r of rows) {
    const live = r.event_id ? toFunnelRecord(r as FunnelRecordRow) : null;
    published.set(decisionKey(r), { revision: r.revision, live });
  }
  return published;
}

export async function saveDecisions(tx: Tx, rows: (DecisionKey & { revision: number; liveEventId: string | null; liveOccurredAt: number | null })[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `insert into funnel_decisions (stage, subject, revision, live_event_id, live_occurred_at)
     select * from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[])
     on conflict (stage, subject) do update set revision = excluded.revision, live_event_id = excluded.live_event_id, live_occurred_at = excluded.live_occurred_at`,
    [
      rows.map((r) => r.stage), rows.map((r) => r.subject), rows.map((r) => r.revision), rows.map((r) => r.liveEventId),
      rows.map((r) => (r.liveOccurredAt === null ? null : new Date(r.liveOccurredAt))),
    ],
  );
}

/**
 * Puts the keys of a transaction's new funnel records in the outbox (one row for the
 * transaction), to be cleared once the broker has acknowledged them. Returns the row's id.
 */
export async function enqueueOutbox(tx: Tx, funnelRecords: readonly Pick<FunnelRecord, 'eventId' | 'occurredAt'>[]): Promise<string | null> {
  if (funnelRecords.length === 0) return null;
  const { rows } = await tx.query<{ id: string }>(
    'insert into ingest_outbox (event_ids, occurred_ats) values ($1::text[], $2::timestamptz[]) returning id',
    [funnelRecords.map((r) => r.eventId), funnelRecords.map((r) => new Date(r.occurredAt))],
  );
  return rows[0]?.id ?? null;
}

/**
 * Outbox rows older than `olderThanSeconds` (left by a crash between commit and publish, or a
 * publish that failed), oldest first, each with its funnel records in the order they were written.
 */
export async function pendingOutbox(db: Queryable, olderThanSeconds: number, limit: number): Promise<{ id: string; funnelRecords: FunnelRecord[] }[]> {
  const { rows } = await db.query<{ id: string; event_ids: string[] }>(
    'select id, event_ids from ingest_outbox where created_at < now() - make_interval(secs => $1) order by id limit $2',
    [olderThanSeconds, limit],
  );
  if (rows.length === 0) return [];
  const { rows: stored } = await db.query<FunnelRecordRow>(
    `select t.* from (select unnest(event_ids) as e, unnest(occurred_ats) as o from ingest_outbox where id = any($1::bigint[])) k
       join referral_trackings t on t.occurred_at = k.o and t.event_id = k.e`,
    [rows.map((r) => r.id)],
  );
  const byId = new Map(stored.map((r) => [r.event_id, toFunnelRecord(r)]));
  return rows.map((r) => ({ id: r.id, funnelRecords: r.event_ids.flatMap((e) => byId.get(e) ?? []) }));
}

/** How many outbox rows there are, and the oldest's age in seconds (0 when none). */
export async function outboxAge(db: Queryable): Promise<{ rows: number; seconds: number }> {
  const { rows } = await db.query<{ rows: number; seconds: number }>(
    'select count(*)::int as rows, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as seconds from ingest_outbox',
  );
  return rows[0] ?? { rows: 0, seconds: 0 };
}

/** Clears outbox rows whose events the broker has acknowledged. */
export async function clearOutbox(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('delete from ingest_outbox where id = any($1::bigint[])', [ids]);
}
