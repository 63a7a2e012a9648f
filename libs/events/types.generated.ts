// Generated from schemas/*.avsc by libs/events/generate-types.ts. Do not edit.
// Timestamps (timestamp-millis) are epoch milliseconds. Optional fields may be null or absent.

/** Latest state of an invite link a peer mentor shares. Compacted topic keyed by linkId. */
export interface InviteLink {
  linkId: string;
  orgId: string;
  mentorId: string;
  campaignId?: string | null;
  createdAt: number;
  expiresAt?: number | null;
  revokedAt?: number | null;
}

/** The mentors a coordinator oversees. Full replacement; the newest updatedAt wins. */
export interface CoordinatorScope {
  orgId: string;
  coordinatorId: string;
  mentorIds: Array<string>;
  updatedAt: number;
}

export type Platform = 'IOS' | 'ANDROID' | 'WEB' | 'OTHER';

export interface VisitorMeta {
  ip?: string | null;
  userAgent?: string | null;
  deviceId?: string | null;
  platform?: Platform | null;
  referrer?: string | null;
  locale?: string | null;
}

/** A visit to an invite link, as seen by the link redirector. */
export interface InviteClicked {
  eventId: string;
  linkId: string;
  occurredAt: number;
  visitor: VisitorMeta;
}

/** First start of the app on a device. linkId is present when a deferred deep link resolved. */
export interface AppInstalled {
  eventId: string;
  deviceId: string;
  linkId?: string | null;
  platform?: Platform | null;
  occurredAt: number;
}

/** A person created an account. */
export interface UserRegistered {
  eventId: string;
  userId: string;
  orgId: string;
  linkId?: string | null;
  deviceId?: string | null;
  displayName?: string | null;
  occurredAt: number;
}

/** Every login; the ingest worker finds the first one at or after registration. */
export interface UserLoggedIn {
  eventId: string;
  userId: string;
  occurredAt: number;
}

/** GDPR erasure request: personal fields leave every table, counts stay. */
export interface UserErased {
  eventId: string;
  userId: string;
  orgId: string;
  occurredAt: number;
}

export type FunnelStage = 'CLICKED' | 'INSTALLED' | 'REGISTERED' | 'ACTIVATED';

/** One counted funnel event, attributed to a mentor, or the retraction of one. Published by the ingest worker with a deterministic eventId. */
export interface ReferralEventRecorded {
  eventId: string;
  orgId: string;
  mentorId: string;
  linkId: string;
  campaignId?: string | null;
  referralId?: string | null;
  userId?: string | null;
  stage: FunnelStage;
  uniqueVisitor: boolean;
  occurredAt: number;
  /** When set, this event cancels the earlier event with that id: it repeats its mentor, campaign, org, stage, uniqueVisitor and occurredAt, and consumers subtract it. */
  retractsEventId?: string | null;
}

/** Every record by its Avro name. */
export interface Records {
  InviteLink: InviteLink;
  CoordinatorScope: CoordinatorScope;
  InviteClicked: InviteClicked;
  AppInstalled: AppInstalled;
  UserRegistered: UserRegistered;
  UserLoggedIn: UserLoggedIn;
  UserErased: UserErased;
  ReferralEventRecorded: ReferralEventRecorded;
}
