import type { InviteLink } from '../../../libs/events/types.generated.js';
import type { KnownLink } from '../../../libs/domain/attribution.js';
import type { Queryable } from '../../../libs/db/queryable.js';
import type { Tx } from './tx.js';

export interface LinkRow extends KnownLink {
  expiresAt: number | null;
  revokedAt: number | null;
}

/**
 * Stores the latest state of each link (the last one in topic order wins, as on the compacted
 * topic). Returns the links whose stored state changed: only those can change a decision, so
 * a replay of the compacted topic re-decides nothing.
 */
export async function upsertLinks(tx: Tx, links: InviteLink[]): Promise<string[]> {
  const latest = new Map(links.map((l) => [l.linkId, l]));
  const rows = [...latest.values()];
  if (rows.length === 0) return [];
  const ts = (v: number | null | undefined) => (v == null ? null : new Date(v));
  const { rows: changed } = await tx.query<{ link_id: string }>(
    `insert into invite_links as l (link_id, org_id, mentor_id, campaign_id, created_at, expires_at, revoked_at)
     select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[])
     on conflict (link_id) do update set
       org_id = excluded.org_id, mentor_id = excluded.mentor_id, campaign_id = excluded.campaign_id,
       created_at = excluded.created_at, expires_at = excluded.expires_at, revoked_at = excluded.revoked_at,
       updated_at = now()
     where (l.org_id, l.mentor_id, l.campaign_id, l.created_at, l.expires_at, l.revoked_at)
           is distinct from (excluded.org_id, excluded.mentor_id, excluded.campaign_id, excluded.created_at, excluded.expires_at, excluded.revoked_at)
     returning link_id`,
    [
      rows.map((l) => l.linkId), rows.map((l) => l.orgId), rows.map((l) => l.mentorId), rows.map((l) => l.campaignId ?? null),
      rows.map((l) => new Date(l.createdAt)), rows.map((l) => ts(l.expiresAt)), rows.map((l) => ts(l.revokedAt)),
    ],
  );
  return changed.map((r) => r.link_id);
}

export async function loadLinks(tx: Queryable, linkIds: Iterable<string>): Promise<Map<string, LinkRow>> {
  const ids = [...new Set(linkIds)];
  if (ids.length === 0) return new Map();
  const { rows } = await tx.query<{ link_id: string; org_id: string; mentor_id: string; campaign_id: string | null; expires_at: Date | null; revoked_at: Date | null }>(
    'select link_id, org_id, mentor_id, campaign_id, expires_at, revoked_at from invite_links where link_id = any($1::text[])',
    [ids],
  );
  return new Map(
    rows.map((r) => [
      r.link_id,
      { linkId: r.link_id, orgId: r.org_id, mentorId: r.mentor_id, campaignId: r.campaign_id, expiresAt: r.expires_at?.getTime() ?? null, revokedAt: r.revoked_at?.getTime() ?? null },
    ]),
  );
}
