import type { RecordOf } from '../../libs/events/codec.js';
import type { INPUT_TOPICS } from '../../libs/events/topics.js';
import { visitorHash } from '../../libs/domain/visitor.js';
import { copyInstant as at, copyTextArray, copyValue as v } from './copy-in.js';

export type InputTopic = (typeof INPUT_TOPICS)[number];

/**
 * Where the bare writer (bench/bare-writer.ts) puts the records of an input topic: the ingest
 * worker's own fact table (created by the project's migrations, so with the same keys and
 * indexes), the columns a record fills, and its row in COPY text format. Statuses are the
 * undecided ones ('pending') and no bot flag is worked out: the bare writer decides nothing.
 * The visitor hash is computed as the worker does (HMAC of device id, or of ip and user agent),
 * since a raw IP address is never written, and it fills the column the worker's indexes cover.
 */
export interface BareTable<T extends InputTopic> {
  table: string;
  columns: readonly string[];
  /** The primary key's columns, and a record's value of it. */
  keyColumns: readonly string[];
  key(record: RecordOf<T>): string;
  /** A later record with the same key replaces the earlier (a link's, a scope's latest state); else it is a redelivery, dropped. */
  latestWins: boolean;
  line(record: RecordOf<T>): string;
}

export function bareTables(visitorHashKey: string): { [T in InputTopic]: BareTable<T> } {
  const row = (...values: string[]) => values.join('\t') + '\n';
  return {
    inviteLinks: {
      table: 'invite_links', columns: ['link_id', 'org_id', 'mentor_id', 'campaign_id', 'created_at', 'expires_at', 'revoked_at'], keyColumns: ['link_id'], latestWins: true,
      key: (r) => r.linkId,
      line: (r) => row(v(r.linkId), v(r.orgId), v(r.mentorId), v(r.campaignId), at(r.createdAt), at(r.expiresAt), at(r.revokedAt)),
    },
    coordinatorScopes: {
      table: 'coordinator_scopes', columns: ['coordinator_id', 'org_id', 'mentor_ids', 'updated_at'], keyColumns: ['coordinator_id', 'org_id'], latestWins: true,
      key: (r) => `${r.coordinatorId}\u0000${r.orgId}`,
      line: (r) => row(v(r.coordinatorId), v(r.orgId), copyTextArray(r.mentorIds), at(r.updatedAt)),
    },
    inviteClicks: {
      table: 'clicks', columns: ['event_id', 'link_id', 'occurred_at', 'visitor_hash', 'device_id', 'platform', 'is_bot', 'status'], keyColumns: ['event_id'], latestWins: false,
      key: (r) => r.eventId,
      line: (r) => row(v(r.eventId), v(r.linkId), at(r.occurredAt), v(visitorHash(r.visitor, visitorHashKey, r.eventId)), v(r.visitor.deviceId), v(r.visitor.platform), 'f', 'pending'),
    },
    appInstalls: {
      table: 'installs', columns: ['event_id', 'device_id', 'link_id', 'platform', 'occurred_at', 'status'], keyColumns: ['event_id'], latestWins: false,
      key: (r) => r.eventId,
      line: (r) => row(v(r.eventId), v(r.deviceId), v(r.linkId), v(r.platform), at(r.occurredAt), 'pending'),
    },
    userRegistered: {
      table: 'registrations', columns: ['event_id', 'user_id', 'org_id', 'link_id', 'device_id', 'display_name', 'occurred_at', 'status'], keyColumns: ['event_id'], latestWins: false,
      key: (r) => r.eventId,
      line: (r) => row(v(r.eventId), v(r.userId), v(r.orgId), v(r.linkId), v(r.deviceId), v(r.displayName), at(r.occurredAt), 'pending'),
    },
    userLogins: {
      table: 'logins', columns: ['event_id', 'user_id', 'occurred_at'], keyColumns: ['event_id'], latestWins: false,
      key: (r) => r.eventId,
      line: (r) => row(v(r.eventId), v(r.userId), at(r.occurredAt)),
    },
    userErasures: {
      table: 'erased_users', columns: ['user_id', 'org_id', 'erased_at'], keyColumns: ['user_id'], latestWins: false,
      key: (r) => r.userId,
      line: (r) => row(v(r.userId), v(r.orgId), at(r.occurredAt)),
    },
  };
}
