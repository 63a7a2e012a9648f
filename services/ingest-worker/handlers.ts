import type { RecordOf } from '../../libs/events/codec.js';
import type { INPUT_TOPICS } from '../../libs/events/topics.js';
import { upsertLinks } from './facts/links.js';
import { upsertScopes } from './facts/scopes.js';
import { insertClicks, resolveClicks } from './facts/clicks.js';
import { insertInstalls, resolveInstalls } from './facts/installs.js';
import { insertRegistrations, resolveRegistrations } from './facts/registrations.js';
import { recordLogins } from './facts/logins.js';
import { eraseUsers } from './facts/erasures.js';
import type { FactsContext } from './facts/tx.js';
import { check } from '../../libs/events/validation.js';

export type InputTopic = (typeof INPUT_TOPICS)[number];

export interface TopicHandler<T extends InputTopic> {
  /** The eventId used for duplicate-delivery detection, when the record has one. */
  eventId(record: RecordOf<T>): string | null;
  /** Why a decoded record is not a valid event, or null when it is. */
  validate(record: RecordOf<T>): string | null;
  /** Applies a batch of valid, not-yet-seen records inside the batch transaction. */
  apply(ctx: FactsContext, records: RecordOf<T>[]): Promise<void>;
}

/**
 * One entry per input topic: how to recognise a duplicate, validate and apply it. Resolution
 * cascades live here: a link that arrives resolves the clicks, installs and registrations that
 * waited for it; a counted click or install may complete a device attribution.
 */
export const HANDLERS: { [T in InputTopic]: TopicHandler<T> } = {
  inviteLinks: {
    eventId: () => null,
    validate: (l) => check({ linkId: l.linkId, orgId: l.orgId, mentorId: l.mentorId, campaignId: l.campaignId }, { createdAt: l.createdAt }),
    async apply(ctx, links) {
      const linkIds = await upsertLinks(ctx.tx, links);
      const clickDevices = await resolveClicks(ctx, { linkIds });
      const installDevices = await resolveInstalls(ctx, { linkIds, deviceIds: clickDevices });
      await resolveRegistrations(ctx, { linkIds, deviceIds: [...clickDevices, ...installDevices] });
    },
  },
  coordinatorScopes: {
    eventId: () => null,
    validate: (s) => check({ orgId: s.orgId, coordinatorId: s.coordinatorId, ...Object.fromEntries(s.mentorIds.map((m, i) => [`mentorIds[${i}]`, m])) }, { updatedAt: s.updatedAt }),
    apply: (ctx, scopes) => upsertScopes(ctx.tx, scopes),
  },
  inviteClicks: {
    eventId: (c) => c.eventId,
    validate: (c) => check({ eventId: c.eventId, linkId: c.linkId, deviceId: c.visitor.deviceId }, { occurredAt: c.occurredAt }),
    async apply(ctx, clicks) {
      const eventIds = await insertClicks(ctx, clicks);
      const devices = await resolveClicks(ctx, { eventIds });
      if (devices.length === 0) return;
      const installDevices = await resolveInstalls(ctx, { deviceIds: devices });
      await resolveRegistrations(ctx, { deviceIds: [...devices, ...installDevices] });
    },
  },
  appInstalls: {
    eventId: (i) => i.eventId,
    validate: (i) => check({ eventId: i.eventId, deviceId: i.deviceId, linkId: i.linkId }, { occurredAt: i.occurredAt }),
    async apply(ctx, installs) {
      const eventIds = await insertInstalls(ctx, installs);
      const devices = await resolveInstalls(ctx, { eventIds });
      await resolveRegistrations(ctx, { deviceIds: devices });
    },
  },
  userRegistered: {
    eventId: (r) => r.eventId,
    validate: (r) => check({ eventId: r.eventId, userId: r.userId, orgId: r.orgId, linkId: r.linkId, deviceId: r.deviceId }, { occurredAt: r.occurredAt }),
    async apply(ctx, regs) {
      const userIds = await insertRegistrations(ctx, regs);
      await resolveRegistrations(ctx, { userIds });
    },
  },
  userLogins: {
    eventId: (l) => l.eventId,
    validate: (l) => check({ eventId: l.eventId, userId: l.userId }, { occurredAt: l.occurredAt }),
    apply: recordLogins,
  },
  userErasures: {
    eventId: (e) => e.eventId,
    validate: (e) => check({ eventId: e.eventId, userId: e.userId, orgId: e.orgId }, { occurredAt: e.occurredAt }),
    apply: eraseUsers,
  },
};
