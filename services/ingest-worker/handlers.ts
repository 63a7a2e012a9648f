import type { RecordOf } from '../../libs/events/codec.js';
import type { INPUT_TOPICS } from '../../libs/events/topics.js';
import { upsertLinks } from './facts/links.js';
import { linksWithPagesLeft } from './facts/link-pages.js';
import { upsertScopes } from './facts/scopes.js';
import { prepareClicks } from './facts/clicks.js';
import { insertInstalls } from './facts/installs.js';
import { insertRegistrations } from './facts/registrations.js';
import { insertLogins } from './facts/logins.js';
import { eraseUsers } from './facts/erasures.js';
import type { FactsContext } from './facts/tx.js';
import { noSeeds, type Seeds } from './redecide.js';
import { check } from '../../libs/events/validation.js';

export type InputTopic = (typeof INPUT_TOPICS)[number];

export interface TopicHandler<T extends InputTopic> {
  /** The eventId used for duplicate-delivery detection, when the record has one. */
  eventId(record: RecordOf<T>): string | null;
  /** Why a decoded record is not a valid event, or null when it is. */
  validate(record: RecordOf<T>): string | null;
  /**
   * For a topic of states (a link's state is its latest record, in topic order), the key each
   * record must be published under. A record under another key lands in another partition,
   * where nothing orders it against the rest of its entity's records, and compaction keeps it
   * beside them: which state wins would depend on arrival order. Such a record is refused.
   */
  stateKey?(record: RecordOf<T>): string;
  /** Batches of this topic change facts other batches read, so they run alone. */
  exclusive?: boolean;
  /**
   * Stores a batch of valid, not-yet-seen records inside the batch transaction and says what
   * they can change (the worker then re-decides exactly that). Clicks are only prepared here:
   * re-decide stores them with their first decision, so each is written once.
   */
  store(ctx: FactsContext, records: RecordOf<T>[], exclusive: boolean): Promise<Seeds>;
}

/** One entry per input topic: how to recognise a duplicate, validate it, and store it. */
export const HANDLERS: { [T in InputTopic]: TopicHandler<T> } = {
  inviteLinks: {
    eventId: () => null,
    stateKey: (l) => l.linkId,
    validate: (l) => check({ linkId: l.linkId, orgId: l.orgId, mentorId: l.mentorId, campaignId: l.campaignId }, { createdAt: l.createdAt }, { expiresAt: l.expiresAt, revokedAt: l.revokedAt }),
    async store(ctx, links) {
      const changedLinks = await upsertLinks(ctx.tx, links);
      // A link whose clicks' pages a crash or a failure interrupted goes on with this delivery
      // (its record is delivered again until the pages are done: see applyGroups).
      const changed = new Set(changedLinks);
      const resumeLinks = await linksWithPagesLeft(ctx.tx, links.flatMap((l) => (changed.has(l.linkId) ? [] : [l.linkId])));
      return { ...noSeeds(), changedLinks, resumeLinks };
    },
  },
  coordinatorScopes: {
    eventId: () => null,
    validate: (s) => check({ orgId: s.orgId, coordinatorId: s.coordinatorId, ...Object.fromEntries(s.mentorIds.map((m, i) => [`mentorIds[${i}]`, m])) }, { updatedAt: s.updatedAt }),
    async store(ctx, scopes) {
      await upsertScopes(ctx.tx, scopes);
      return noSeeds();
    },
  },
  inviteClicks: {
    eventId: (c) => c.eventId,
    validate: (c) => check({ eventId: c.eventId, linkId: c.linkId, deviceId: c.visitor.deviceId }, { occurredAt: c.occurredAt }),
    store: async (ctx, clicks) => ({ ...noSeeds(), newClicks: prepareClicks(ctx, clicks) }),
  },
  appInstalls: {
    eventId: (i) => i.eventId,
    validate: (i) => check({ eventId: i.eventId, deviceId: i.deviceId, linkId: i.linkId }, { occurredAt: i.occurredAt }),
    async store(ctx, installs) {
      const stored = await insertInstalls(ctx, installs);
      return { ...noSeeds(), installIds: stored.eventIds, linkIds: stored.linkIds, deviceIds: stored.deviceIds };
    },
  },
  userRegistered: {
    eventId: (r) => r.eventId,
    validate: (r) => check({ eventId: r.eventId, userId: r.userId, orgId: r.orgId, linkId: r.linkId, deviceId: r.deviceId }, { occurredAt: r.occurredAt }),
    async store(ctx, regs, exclusive) {
      const stored = await insertRegistrations(ctx, regs, exclusive);
      return { ...noSeeds(), userIds: stored.userIds, linkIds: stored.linkIds, deviceIds: stored.deviceIds };
    },
  },
  userLogins: {
    eventId: (l) => l.eventId,
    validate: (l) => check({ eventId: l.eventId, userId: l.userId }, { occurredAt: l.occurredAt }),
    async store(ctx, logins) {
      return { ...noSeeds(), userIds: await insertLogins(ctx, logins) };
    },
  },
  userErasures: {
    eventId: (e) => e.eventId,
    validate: (e) => check({ eventId: e.eventId, userId: e.userId, orgId: e.orgId }, { occurredAt: e.occurredAt }),
    exclusive: true,
    async store(ctx, erasures) {
      await eraseUsers(ctx, erasures);
      return noSeeds();
    },
  },
};
