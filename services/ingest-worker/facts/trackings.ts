import type { Queryable } from '../../../libs/db/queryable.js';
import type { Tx, Tracking } from './tx.js';

/**
 * Appends funnel events to the stage log / outbox. A row whose deterministic id is already
 * there (a replay) is not inserted again; only the new rows are returned for publishing.
 */
export async function insertTrackings(tx: Tx, rows: Tracking[]): Promise<Tracking[]> {
  if (rows.length === 0) return [];
  const { rows: inserted } = await tx.query<{ event_id: string }>(
    `insert into referral_trackings
       (event_id, org_id, mentor_id, link_id, campaign_id, referral_id, user_id, stage, unique_visitor, occurred_at, source_event_id)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[], $10::timestamptz[], $11::text[])
     on conflict (event_id) do nothing
     returning event_id`,
    [
      rows.map((r) => r.eventId), rows.map((r) => r.orgId), rows.map((r) => r.mentorId), rows.map((r) => r.linkId),
      rows.map((r) => r.campaignId), rows.map((r) => r.referralId), rows.map((r) => r.userId), rows.map((r) => r.stage),
      rows.map((r) => r.uniqueVisitor), rows.map((r) => r.occurredAt), rows.map((r) => r.sourceEventId),
    ],
  );
  const fresh = new Set(inserted.map((r) => r.event_id));
  return rows.filter((r) => fresh.has(r.eventId));
}

interface TrackingRow {
  event_id: string; org_id: string; mentor_id: string; link_id: string; campaign_id: string | null; referral_id: string | null;
  user_id: string | null; stage: Tracking['stage']; unique_visitor: boolean; occurred_at: Date; source_event_id: string;
}

/** Outbox rows not yet published (left by a crash between commit and publish). */
export async function unpublishedTrackings(tx: Queryable, olderThanSeconds: number, limit: number): Promise<Tracking[]> {
  const { rows } = await tx.query<TrackingRow>(
    `select * from referral_trackings
      where published_at is null and created_at < now() - make_interval(secs => $1)
      order by created_at limit $2`,
    [olderThanSeconds, limit],
  );
  return rows.map((r) => ({
    eventId: r.event_id, orgId: r.org_id, mentorId: r.mentor_id, linkId: r.link_id, campaignId: r.campaign_id, referralId: r.referral_id,
    userId: r.user_id, stage: r.stage, uniqueVisitor: r.unique_visitor, occurredAt: r.occurred_at, sourceEventId: r.source_event_id,
  }));
}

export async function markPublished(tx: Queryable, eventIds: string[]): Promise<void> {
  if (eventIds.length === 0) return;
  await tx.query('update referral_trackings set published_at = now() where event_id = any($1::text[]) and published_at is null', [eventIds]);
}
