import type { Queryable } from '../../../libs/db/queryable.js';
import { decisionKey, type DecisionKey, type FunnelRecord, type PublishedDecision } from '../../../libs/domain/funnel-decisions.js';
import type { FunnelStage } from '../../../libs/events/types.generated.js';
import type { Tx } from './tx.js';

/** What a transaction decides for a subject: its revision and the event that counts now (none when nothing counts). */
export type StoredDecision = DecisionKey & { revision: number; liveEventId: string | null; liveOccurredAt: number | null };

/**
 * Stores a transaction's decisions and funnel records, and puts the keys of the new records in
 * the outbox, in one statement (one round trip instead of three; none of the three reads what
 * another writes):
 * - the decisions go to `funnel_decisions`, replacing what was stored for their subjects;
 * - the records (events and retractions) are appended to `referral_trackings`; a record whose
 *   deterministic id is already there is not inserted again. The table is keyed by
 *   (occurred_at, event_id) (migration 0023): an id names one body, so the pair says what the
 *   id says, and new records land on the recent end of the index;
 * - the new records' keys go in one `ingest_outbox` row for the transaction, to be cleared
 *   once the broker has acknowledged them. The arrays keep the order the insert returns its
 *   rows in (the aggregator's numbers do not depend on the order events arrive in); matching
 *   them to the order given would join the records with themselves, row by row (the
 *   transaction allows no hash joins: see apply-batch), which cost 3 ms at 500 records.
 * Returns the new records (the events to publish) and the outbox row's id (null when none).
 */
export async function storeDecisions(tx: Tx, decisions: StoredDecision[], rows: FunnelRecord[]): Promise<{ published: FunnelRecord[]; outboxId: string | null }> {
  if (decisions.length === 0 && rows.length === 0) return { published: [], outboxId: null };
  const { rows: inserted } = await tx.query<{ event_id: string; outbox_id: string | null }>(
    `with decided as (
       insert into funnel_decisions (stage, subject, revision, live_event_id, live_occurred_at)
       select * from unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::timestamptz[])
       on conflict (stage, subject) do update set revision = excluded.revision, live_event_id = excluded.live_event_id, live_occurred_at = excluded.live_occurred_at
     ), recorded as (
       insert into referral_trackings
         (event_id, org_id, mentor_id, link_id, campaign_id, referral_id, user_id, stage, unique_visitor, occurred_at, source_event_id, retracts_event_id)
       select * from unnest($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::bool[],
                            $15::timestamptz[], $16::text[], $17::text[])
       on conflict (occurred_at, event_id) do nothing
       returning event_id, occurred_at
     ), queued as (
       insert into ingest_outbox (event_ids, occurred_ats)
       select array_agg(event_id), array_agg(occurred_at) from recorded having count(*) > 0
       returning id
     )
     select r.event_id, (select id from queued) as outbox_id from recorded r`,
    [
      decisions.map((r) => r.stage), decisions.map((r) => r.subject), decisions.map((r) => r.revision), decisions.map((r) => r.liveEventId),
      decisions.map((r) => (r.liveOccurredAt === null ? null : new Date(r.liveOccurredAt))),
      rows.map((r) => r.eventId), rows.map((r) => r.orgId), rows.map((r) => r.mentorId), rows.map((r) => r.linkId),
      rows.map((r) => r.campaignId), rows.map((r) => r.referralId), rows.map((r) => r.userId), rows.map((r) => r.stage),
      rows.map((r) => r.uniqueVisitor), rows.map((r) => new Date(r.occurredAt)), rows.map((r) => r.sourceEventId), rows.map((r) => r.retractsEventId),
    ],
  );
  const fresh = new Set(inserted.map((r) => r.event_id));
  return { published: rows.filter((r) => fresh.has(r.eventId)), outboxId: inserted[0]?.outbox_id ?? null };
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

/**
 * Outbox rows older than `olderThanSeconds` (left by a crash between commit and publish, or a
 * publish that failed), oldest first, each with its funnel records in the order of its row.
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

/** Clears outbox rows whose events the broker has acknowledged. */
export async function clearOutbox(db: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('delete from ingest_outbox where id = any($1::bigint[])', [ids]);
}
