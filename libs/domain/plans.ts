import { decideClicks, type ClickDecision, type ClickFact, type ClickStatus } from './clicks.js';
import {
  decideDeviceInstalls, decideUser, earliestRegistration, registrationsByOrg,
  type InstallDecision, type InstallFact, type KnownLink, type ReferralDecision, type RegistrationFact, type RegistrationStatus, type Touch,
} from './attribution.js';
import type { LoginFact } from './activation.js';
import type { LinkValidity } from './link-activity.js';
import { memberSubject, referralId } from './event-ids.js';
import {
  activatedEvent, clickedEvent, decisionKey, installedEvent, reconcile, registeredEvent,
  type DecisionKey, type FunnelEventContent, type FunnelRecord, type PublishedDecision, type Reconciled,
} from './funnel-decisions.js';

/*
 * The ingest worker's re-decision as pure functions, one per kind of subject: from what is
 * stored about the subjects a batch can change and the batch's new facts, what to write and
 * which funnel events bring the published numbers to the new decisions. The worker locks the
 * subjects, loads them, plans with these and writes the plan (services/ingest-worker/redecide.ts).
 */

/** A link as the rules read it: where it points, and when it stopped counting. */
export type PlacedLink = KnownLink & LinkValidity;

/** Counters a plan reports for the worker's metrics. */
export type PlanNote = 'rejected_expired' | 'rejected_revoked' | 'pending_link' | 'reinstall' | 'retraction';
export type PlanNotes = Partial<Record<PlanNote, number>>;

const note = (notes: PlanNotes, name: PlanNote, n = 1) => {
  if (n > 0) notes[name] = (notes[name] ?? 0) + n;
};

/**
 * What a click's or an install's row keeps of what was published for it (migrations 0029,
 * 0030): the revision of its last funnel event and the event that counts now. Null while
 * nothing was published. The live event is at the fact's own time, which keys its record.
 */
export type PublishedOnFact = { revision: number; liveEventId: string | null } | null;

/** What a fact's row keeps after a reconcile: the decision it stored, else what was published before. */
export const keptOnFact = (r: Reconciled, was: PublishedDecision | undefined): PublishedOnFact =>
  r.stored ?? (was ? { revision: was.revision, liveEventId: was.live?.eventId ?? null } : null);

/** A decision to store on a fact's row, with what is published for it. */
export interface FactWrite<D> {
  eventId: string;
  decision: D;
  published: PublishedOnFact;
}

// ---- clicks ----

/** A click of the batch, not stored yet. */
export interface IncomingClick extends ClickFact {
  deviceId: string | null;
}

/** A stored non-bot click with what was last decided and published for it. */
export interface StoredClick extends ClickFact {
  deviceId: string | null;
  status: ClickStatus;
  unique: boolean;
  /** What was last published for it; undefined while nothing was. */
  published: PublishedDecision | undefined;
}

/** The first step of a click plan: the new clicks to store, each with its first decision. */
export interface ClickInsertPlan<C extends IncomingClick> {
  /** New clicks (redeliveries of stored ones left out) and bots, with their decisions and first publications. */
  rows: { click: C; decision: ClickDecision; published: PublishedOnFact }[];
  /** The new non-bot clicks among rows. */
  fresh: C[];
  decisions: Map<string, ClickDecision>;
  /** What each new click was stored with: nothing was published for it before. */
  first: Map<string, Reconciled>;
  /** What the plan was made from: the stored clicks (by eventId too) and the links, which planStoredClicks decides with again. */
  stored: readonly StoredClick[];
  storedIds: ReadonlySet<string>;
  links: ReadonlyMap<string, PlacedLink>;
}

const clickKey = (click: { eventId: string }): DecisionKey => ({ stage: 'CLICKED', subject: click.eventId });

/** A CLICKED event for a counted click on a known link, else none. */
function clickContent(click: ClickFact, decision: ClickDecision, links: ReadonlyMap<string, PlacedLink>): FunnelEventContent | null {
  const link = links.get(click.linkId);
  return decision.status === 'counted' && link ? clickedEvent(click, link, decision.unique) : null;
}

/**
 * Decides new clicks with every stored click of their visitor-days (`stored`: those and the
 * clicks of changed links). A click already stored (same link, visitor and day) is a
 * redelivery, not new. Bots are stored but decided by the rule's own bot branch alone: they are
 * no one's unique click. A new click is stored with its first decision published.
 */
export function planNewClicks<C extends IncomingClick>(stored: readonly StoredClick[], arrived: readonly C[], links: ReadonlyMap<string, PlacedLink>): ClickInsertPlan<C> {
  const storedIds = new Set(stored.map((c) => c.eventId));
  const fresh = [...new Map(arrived.filter((c) => !c.isBot && !storedIds.has(c.eventId)).map((c) => [c.eventId, c])).values()];
  const bots = arrived.filter((c) => c.isBot);
  const decisions = decideClicks([...stored, ...fresh], links);
  const botDecisions = decideClicks(bots, links);
  const first = new Map(fresh.map((c) => [c.eventId, reconcile(clickKey(c), clickContent(c, decisions.get(c.eventId)!, links), undefined)]));
  return {
    rows: [
      ...fresh.map((click) => ({ click, decision: decisions.get(click.eventId)!, published: first.get(click.eventId)!.stored })),
      ...bots.map((click) => ({ click, decision: botDecisions.get(click.eventId)!, published: null })),
    ],
    fresh,
    decisions,
    first,
    stored,
    storedIds,
    links,
  };
}

/** The second step of a click plan: the stored clicks' changes and the funnel events of all. */
export interface ClickPlan {
  records: FunnelRecord[];
  /** Stored clicks whose decision or publication changed. */
  changed: FactWrite<ClickDecision>[];
  /** Devices whose counted clicks may have changed (their installs are decided again). */
  touchedDevices: Set<string>;
  notes: PlanNotes;
}

/**
 * Once the new clicks are stored (`inserted`: the eventIds the store took), the funnel events
 * of all and the stored clicks to write. An eventId the store refused was stored meanwhile
 * under another link (not a redelivery of the same click): it is not this batch's, and the
 * visitor-days are decided again without it.
 */
export function planStoredClicks<C extends IncomingClick>(plan: ClickInsertPlan<C>, inserted: ReadonlySet<string>): ClickPlan {
  const { stored, storedIds, links } = plan;
  const current = new Map<string, Pick<ClickDecision, 'status' | 'unique'>>(stored.map((c) => [c.eventId, c]));
  const published = new Map<string, PublishedDecision | undefined>(stored.map((c) => [c.eventId, c.published]));
  const records: FunnelRecord[] = [];
  const clicks: (StoredClick | C)[] = [...stored];
  for (const c of plan.fresh) {
    if (!inserted.has(c.eventId)) continue;
    clicks.push(c);
    current.set(c.eventId, plan.decisions.get(c.eventId)!);
    const r = plan.first.get(c.eventId)!;
    records.push(...r.records);
    published.set(c.eventId, r.stored ? { revision: r.stored.revision, live: r.records.at(-1) ?? null } : undefined);
  }
  const redecided = clicks.length < stored.length + plan.fresh.length;
  const decisions = redecided ? decideClicks(clicks, links) : plan.decisions;
  const changed: FactWrite<ClickDecision>[] = [];
  const touchedDevices = new Set<string>();
  const notes: PlanNotes = {};
  for (const click of clicks) {
    const decision = decisions.get(click.eventId)!;
    const was = current.get(click.eventId)!;
    const differs = decision.status !== was.status || decision.unique !== was.unique;
    // A new click was reconciled as it was stored: only a second decision can differ from that.
    if (storedIds.has(click.eventId) || redecided) {
      const r = reconcile(clickKey(click), clickContent(click, decision, links), published.get(click.eventId));
      records.push(...r.records);
      if (differs || r.stored) changed.push({ eventId: click.eventId, decision, published: keptOnFact(r, published.get(click.eventId)) });
    }
    if (decision.reason && (differs || !storedIds.has(click.eventId))) note(notes, decision.reason === 'expired' ? 'rejected_expired' : 'rejected_revoked');
    // A click still waiting for its link (pending to pending is no change, so it is counted here).
    if (decision.status === 'pending') note(notes, 'pending_link');
    if (click.deviceId && (decision.status === 'counted' || was.status === 'counted')) touchedDevices.add(click.deviceId);
  }
  return { records, changed, touchedDevices, notes };
}

// ---- installs ----

/** A stored install with what was last decided and published for it. */
export interface StoredInstall extends InstallFact {
  status: InstallDecision['status'];
  attributedLinkId: string | null;
  /** What was last published for it (kept on its row, migration 0030); undefined while nothing was. */
  published: PublishedDecision | undefined;
}

/** The link an install decision attributes it to: its install's, or a reinstall's touch. */
export const attributedLink = (d: InstallDecision): string | null => (d.status === 'counted' || d.status === 'reinstall' ? d.linkId : null);

export interface InstallPlan {
  records: FunnelRecord[];
  /** Installs whose decision or publication changed. */
  changed: FactWrite<InstallDecision>[];
  notes: PlanNotes;
}

/**
 * Decides every install of each device together (its earliest is its install, the later ones
 * reinstalls), from the device's touches and the links known; returns what changed and the
 * funnel events that bring the published installs to the decisions.
 */
export function planDeviceInstalls(
  byDevice: ReadonlyMap<string, readonly StoredInstall[]>,
  touches: ReadonlyMap<string, readonly Touch[]>,
  links: ReadonlyMap<string, PlacedLink>,
  windowDays: number,
): InstallPlan {
  const known = new Set(links.keys());
  const changed: FactWrite<InstallDecision>[] = [];
  const records: FunnelRecord[] = [];
  const notes: PlanNotes = {};
  for (const [device, installs] of byDevice) {
    const decisions = decideDeviceInstalls(installs, known, touches.get(device) ?? [], windowDays);
    for (const install of installs) {
      const decision = decisions.get(install.eventId)!;
      const link = decision.status === 'counted' ? links.get(decision.linkId) : undefined;
      const r = reconcile({ stage: 'INSTALLED', subject: install.eventId }, link ? installedEvent(install, link) : null, install.published);
      records.push(...r.records);
      const differs = decision.status !== install.status || attributedLink(decision) !== install.attributedLinkId;
      if (differs && decision.status === 'reinstall') note(notes, 'reinstall');
      if (differs || r.stored) changed.push({ eventId: install.eventId, decision, published: keptOnFact(r, install.published) });
    }
  }
  return { records, changed, notes };
}

// ---- users ----

export interface StoredRegistration extends RegistrationFact {
  displayName: string | null;
  status: RegistrationStatus;
}

/** Everything stored of a user: registrations in every organization, logins, and whether they were erased. */
export interface StoredUser {
  /** At least, in each organization, every registration not superseded (the earliest stored, and new ones). */
  registrations: StoredRegistration[];
  /** At least, of each registration, the first login at or after it (the only ones that can activate). */
  logins: LoginFact[];
  erased: boolean;
}

/** A user in one organization: decided from that organization's registrations alone (SPEC §4). */
export interface Member {
  userId: string;
  orgId: string;
  user: StoredUser;
  registrations: StoredRegistration[];
  /** The device of the earliest registration in the organization: its touches can attribute the member. */
  deviceId: string | null;
}

/** Each user's memberships: one per organization they registered in. */
export function membersOf(users: ReadonlyMap<string, StoredUser>): Member[] {
  return [...users].flatMap(([userId, user]) =>
    [...registrationsByOrg(user.registrations)].map(([orgId, registrations]) => ({ userId, orgId, user, registrations, deviceId: earliestRegistration(registrations)?.deviceId ?? null })),
  );
}

/** A decision about a user's stage, and the event that should count for it (null: none). */
export interface DesiredDecision {
  key: DecisionKey;
  content: FunnelEventContent | null;
}

export interface UserPlan {
  /** Registrations whose status changed. */
  statuses: { eventId: string; status: RegistrationStatus }[];
  /** The referral of each attributed member. */
  referrals: { referral: ReferralDecision<StoredRegistration>; erased: boolean }[];
  /** Members attributed to no one: no referral. */
  unattributed: { userId: string; orgId: string }[];
  /** Each member's REGISTERED and ACTIVATED decisions, to compare with what was published (planPublication). */
  desired: DesiredDecision[];
  notes: PlanNotes;
}

/**
 * Decides each member from the organization's registrations, the touches of the member's
 * device and the links known, so nothing published for one organization changes another's
 * numbers.
 */
export function planUsers(members: readonly Member[], touches: ReadonlyMap<string, readonly Touch[]>, links: ReadonlyMap<string, KnownLink>, windowDays: number): UserPlan {
  const plan: UserPlan = { statuses: [], referrals: [], unattributed: [], desired: [], notes: {} };
  for (const { userId, orgId, user, registrations, deviceId } of members) {
    const decision = decideUser({ registrations, links, deviceTouches: touches.get(deviceId ?? '') ?? [], logins: user.logins }, windowDays);
    for (const r of registrations) {
      const status = decision.statuses.get(r.eventId)!;
      if (status !== r.status) plan.statuses.push({ eventId: r.eventId, status });
      if (status === 'pending') note(plan.notes, 'pending_link');
    }
    const referral = decision.referral;
    if (referral) plan.referrals.push({ referral, erased: user.erased });
    else plan.unattributed.push({ userId, orgId });
    const rid = referralId(userId, orgId);
    const subject = memberSubject(userId, orgId);
    plan.desired.push({ key: { stage: 'REGISTERED', subject }, content: referral ? registeredEvent(rid, referral.registration, referral.link) : null });
    plan.desired.push({ key: { stage: 'ACTIVATED', subject }, content: referral?.activation ? activatedEvent(rid, userId, referral.activation, referral.link) : null });
  }
  return plan;
}

/** A user decision to store: its subject, revision and live event. */
export type StoredDecision = DecisionKey & NonNullable<Reconciled['stored']>;

/**
 * Compares each desired user decision with what was published for it (`published`, by
 * decisionKey): the funnel events of the differences, and the decisions to store.
 */
export function planPublication(desired: readonly DesiredDecision[], published: ReadonlyMap<string, PublishedDecision>): { records: FunnelRecord[]; stored: StoredDecision[] } {
  const records: FunnelRecord[] = [];
  const stored: StoredDecision[] = [];
  for (const d of desired) {
    const r = reconcile(d.key, d.content, published.get(decisionKey(d.key)));
    records.push(...r.records);
    if (r.stored) stored.push({ ...d.key, ...r.stored });
  }
  return { records, stored };
}

/** How many of the records retract an event. */
export const retractions = (records: readonly FunnelRecord[]): number => records.filter((r) => r.retractsEventId !== null).length;
