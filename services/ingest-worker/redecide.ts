import { decideClicks, type ClickDecision } from '../../libs/domain/clicks.js';
import { decideDeviceInstalls, decideUser, earliestRegistration, registrationsByOrg, type InstallDecision, type RegistrationStatus, type ReferralDecision } from '../../libs/domain/attribution.js';
import { memberSubject, referralId } from '../../libs/domain/event-ids.js';
import {
  activatedEvent, clickedEvent, decisionKey, installedEvent, reconcile, registeredEvent,
  type DecisionKey, type FunnelEventContent, type FunnelRecord,
} from '../../libs/domain/funnel-decisions.js';
import { insertClicks, loadClicksToDecide, withErasedDevices, writeClickDecisions, type NewClick, type StoredClick } from './facts/clicks.js';
import { attributedLink, installDevices, loadDeviceInstalls, writeInstallDecisions } from './facts/installs.js';
import { loadLinks } from './facts/links.js';
import { lockSubjects } from './facts/locks.js';
import { loadUsers, usersOf, writeUserDecisions, type StoredRegistration } from './facts/registrations.js';
import { loadDeviceTouches } from './facts/touches.js';
import { insertFunnelRecords, keptOnFact, loadPublished, saveDecisions, type PublishedOnFact } from './facts/funnel-records.js';
import type { FactsContext } from './facts/tx.js';

/** What a batch's new facts can change: the subjects to lock and re-decide. */
export interface Seeds {
  /** Links whose stored state changed: every decision resting on them is re-decided. */
  changedLinks: string[];
  /** Links the new facts name. */
  linkIds: string[];
  /**
   * Clicks of the batch, not stored yet: re-decide stores them with their decisions. Their
   * links are locked exclusively, since the unique click of each visitor-day on them (a
   * visitor-day lies within one link) is decided from all its clicks.
   */
  newClicks: NewClick[];
  /** New installs: every install of their devices is decided again (a device's earliest is its install). */
  installIds: string[];
  /** Devices of the new facts. */
  deviceIds: string[];
  /** Users of the new facts. */
  userIds: string[];
}

/** Adds what `more` can change to `seeds` (the seeds of several topics' facts stored in one transaction). */
export function mergeSeeds(seeds: Seeds, more: Seeds): Seeds {
  for (const key of Object.keys(seeds) as (keyof Seeds)[]) (seeds[key] as unknown[]).push(...more[key]);
  return seeds;
}

export const noSeeds = (): Seeds => ({ changedLinks: [], linkIds: [], newClicks: [], installIds: [], deviceIds: [], userIds: [] });

const clickKey = (click: { eventId: string }): DecisionKey => ({ stage: 'CLICKED', subject: click.eventId });

interface Desired {
  key: DecisionKey;
  content: FunnelEventContent | null;
}

/**
 * Re-decides every subject the new facts can change and returns the events that bring the
 * published numbers to the new decisions (retractions and corrected events), already in the
 * outbox. Each step loads the facts, decides with the pure rules of libs/domain, and writes
 * what changed, in dependency order: clicks (under their links' locks), installs (under their
 * devices' locks), users (under their own). A batch locks links, then links' clicks, then
 * devices, then users, each kind in key order; batches that share no subject never wait for
 * each other. A transaction locks its links exclusively when it changes one, else shared, since
 * facts that merely name a link need only that it does not change meanwhile; and the clicks of
 * each link it adds clicks to or changes exclusively (the unique click of a visitor-day is
 * decided from all the clicks of its link's visitor-day). Each kind is locked in one pass (two
 * passes in different modes could wait on each other in a cycle).
 */
export async function redecide(ctx: FactsContext, seeds: Seeds): Promise<FunnelRecord[]> {
  const desired: Desired[] = [];
  const clicks = await redecideClicks(ctx, seeds);
  const installs = await redecideInstalls(ctx, { ...seeds, deviceIds: [...seeds.deviceIds, ...clicks.newDevices] }, clicks.touchedDevices);
  await redecideUsers(ctx, seeds, installs.devices, desired);
  return publishDifference(ctx, [...clicks.records, ...installs.records], desired);
}

/**
 * New clicks and the stored clicks of their visitor-days and of changed links: decides them
 * all, stores the new clicks with their decisions and the stored ones whose decision changed,
 * each with what is published for it (kept on the click's row, migration 0029). Returns the
 * funnel records that bring the published clicks to the decisions, and the devices whose
 * counted clicks may have changed.
 */
async function redecideClicks(ctx: FactsContext, seeds: Seeds): Promise<{ records: FunnelRecord[]; touchedDevices: Set<string>; newDevices: string[] }> {
  const { tx } = ctx;
  const arrived = await withErasedDevices(tx, seeds.newClicks);
  const incoming = arrived.filter((c) => !c.isBot);
  // One pass over the links (each kind in one pass, in bucket order, so that two transactions
  // never wait on each other in a cycle): exclusively when the transaction changes a link, else
  // shared. Then the clicks of every link it adds clicks to or changes, exclusively.
  const clickLinks = [...seeds.changedLinks, ...incoming.map((c) => c.linkId)];
  await lockSubjects(tx, 'link', [...clickLinks, ...seeds.linkIds], seeds.changedLinks.length > 0 ? 'update' : 'share');
  await lockSubjects(tx, 'clicks', clickLinks);
  const stored = await loadClicksToDecide(tx, incoming, seeds.changedLinks);
  // A redelivered click is among the stored ones (same link, visitor and day): it is not new.
  const storedIds = new Set(stored.map((c) => c.eventId));
  const fresh = [...new Map(incoming.filter((c) => !storedIds.has(c.eventId)).map((c) => [c.eventId, c])).values()];
  const links = await loadLinks(tx, [...stored, ...fresh].map((c) => c.linkId));
  const content = (click: NewClick | StoredClick, decision: ClickDecision) => {
    const link = links.get(click.linkId);
    return decision.status === 'counted' && link ? clickedEvent(click, link, decision.unique) : null;
  };
  let decisions = decideClicks([...stored, ...fresh], links);
  const bots = arrived.filter((c) => c.isBot);
  // Bots are stored but never decided with the visitor-days (they are no one's unique click): the rule's own bot branch decides them.
  const botDecisions = decideClicks(bots, links);
  // A new click is stored with its first decision published: nothing was published for it before.
  const first = new Map(fresh.map((c) => [c.eventId, reconcile(clickKey(c), content(c, decisions.get(c.eventId)!), undefined)]));
  const inserted = await insertClicks(tx, [
    ...fresh.map((click) => ({ click, decision: decisions.get(click.eventId)!, published: first.get(click.eventId)!.stored })),
    ...bots.map((click) => ({ click, decision: botDecisions.get(click.eventId)!, published: null })),
  ]);
  ctx.effects.note('duplicate', seeds.newClicks.length - inserted.size);
  ctx.effects.note('bot', bots.filter((b) => inserted.has(b.eventId)).length);
  // What is stored for each click now: its stored decision and publication, or those it was just stored with.
  const current = new Map<string, Pick<ClickDecision, 'status' | 'unique'>>(stored.map((c) => [c.eventId, c]));
  const published = new Map(stored.map((c) => [c.eventId, c.published]));
  const records: FunnelRecord[] = [];
  const clicks: (StoredClick | NewClick)[] = [...stored];
  for (const c of fresh) {
    if (!inserted.has(c.eventId)) continue;
    clicks.push(c);
    current.set(c.eventId, decisions.get(c.eventId)!);
    const r = first.get(c.eventId)!;
    records.push(...r.records);
    published.set(c.eventId, r.stored ? { revision: r.stored.revision, live: r.records.at(-1) ?? null } : undefined);
  }
  // An eventId stored meanwhile under another link (not a redelivery of the same click) is not
  // this batch's: the visitor-days are decided again without it.
  const redecided = clicks.length < stored.length + fresh.length;
  if (redecided) decisions = decideClicks(clicks, links);
  const changed = [];
  const touchedDevices = new Set<string>();
  for (const click of clicks) {
    const decision = decisions.get(click.eventId)!;
    const was = current.get(click.eventId)!;
    const differs = decision.status !== was.status || decision.unique !== was.unique;
    // A new click was reconciled as it was stored: only a second decision can differ from that.
    if (storedIds.has(click.eventId) || redecided) {
      const r = reconcile(clickKey(click), content(click, decision), published.get(click.eventId));
      records.push(...r.records);
      if (differs || r.stored) changed.push({ eventId: click.eventId, decision, published: keptOnFact(r, published.get(click.eventId)) });
    }
    if (decision.reason && (differs || !storedIds.has(click.eventId))) ctx.effects.note(decision.reason === 'expired' ? 'rejected_expired' : 'rejected_revoked');
    // A click still waiting for its link (pending to pending is no change, so it is counted here).
    if (decision.status === 'pending') ctx.effects.note('pending_link');
    if (click.deviceId && (decision.status === 'counted' || was.status === 'counted')) touchedDevices.add(click.deviceId);
  }
  await writeClickDecisions(tx, changed);
  return { records, touchedDevices, newDevices: incoming.flatMap((c) => (c.deviceId ? [c.deviceId] : [])) };
}

/**
 * The installs of every device with a new install, an install naming a changed link, or clicks
 * whose counting changed: each device's installs are decided together, since its earliest is
 * its install and the later ones reinstalls. Each install's row keeps what is published for
 * it (migration 0030). Returns the devices locked and the funnel records that bring the
 * published installs to the decisions.
 */
async function redecideInstalls(ctx: FactsContext, seeds: Seeds, touchedDevices: Set<string>): Promise<{ devices: string[]; records: FunnelRecord[] }> {
  const { tx } = ctx;
  // The devices of new installs are read back as stored now: a late registration of an erased
  // user stored in the same transaction may have replaced the device id with its pseudonym.
  const ofInstalls = await installDevices(tx, { eventIds: seeds.installIds, linkIds: seeds.changedLinks });
  const devices = [...new Set([...seeds.deviceIds, ...touchedDevices, ...ofInstalls])];
  await lockSubjects(tx, 'device', devices);
  const byDevice = await loadDeviceInstalls(tx, [...new Set([...touchedDevices, ...ofInstalls])]);
  const touches = await loadDeviceTouches(tx, [...byDevice].flatMap(([device, installs]) => (installs.some((i) => i.linkId === null) ? [device] : [])));
  const installs = [...byDevice.values()].flat();
  const links = await loadLinks(tx, [...installs.flatMap((i) => (i.linkId ? [i.linkId] : [])), ...[...touches.values()].flat().map((t) => t.linkId)]);
  const known = new Set(links.keys());
  const changed: { eventId: string; decision: InstallDecision; published: PublishedOnFact }[] = [];
  const records: FunnelRecord[] = [];
  for (const [device, deviceInstalls] of byDevice) {
    const decisions = decideDeviceInstalls(deviceInstalls, known, touches.get(device) ?? [], ctx.attributionWindowDays);
    for (const install of deviceInstalls) {
      const decision = decisions.get(install.eventId)!;
      const link = decision.status === 'counted' ? links.get(decision.linkId) : undefined;
      const r = reconcile({ stage: 'INSTALLED', subject: install.eventId }, link ? installedEvent(install, link) : null, install.published);
      records.push(...r.records);
      const differs = decision.status !== install.status || attributedLink(decision) !== install.attributedLinkId;
      if (differs && decision.status === 'reinstall') ctx.effects.note('reinstall');
      if (differs || r.stored) changed.push({ eventId: install.eventId, decision, published: keptOnFact(r, install.published) });
    }
  }
  await writeInstallDecisions(tx, changed);
  return { devices, records };
}

/**
 * Users who are new, registered through a changed link, or registered from a device locked
 * above: each organization a user registered in is decided from that organization's
 * registrations alone (SPEC §4), so nothing published for one changes another's numbers.
 */
async function redecideUsers(ctx: FactsContext, seeds: Seeds, devices: string[], desired: Desired[]): Promise<void> {
  const { tx } = ctx;
  const userIds = [...new Set([...seeds.userIds, ...(await usersOf(tx, { linkIds: seeds.changedLinks, deviceIds: devices }))])];
  if (userIds.length === 0) return;
  await lockSubjects(tx, 'user', userIds);
  const users = await loadUsers(tx, userIds);
  const members = [...users].flatMap(([userId, user]) =>
    [...registrationsByOrg(user.registrations)].map(([orgId, registrations]) => ({ userId, orgId, user, registrations, deviceId: earliestRegistration(registrations)?.deviceId ?? null })),
  );
  const touches = await loadDeviceTouches(tx, members.flatMap((m) => (m.deviceId ? [m.deviceId] : [])));
  const links = await loadLinks(tx, [
    ...members.flatMap((m) => m.registrations.flatMap((r) => (r.linkId ? [r.linkId] : []))),
    ...[...touches.values()].flat().map((t) => t.linkId),
  ]);
  const statuses: { eventId: string; status: RegistrationStatus }[] = [];
  const referrals: { referral: ReferralDecision<StoredRegistration>; erased: boolean }[] = [];
  const unattributed: { userId: string; orgId: string }[] = [];
  for (const { userId, orgId, user, registrations, deviceId } of members) {
    const decision = decideUser({ registrations, links, deviceTouches: touches.get(deviceId ?? '') ?? [], logins: user.logins }, ctx.attributionWindowDays);
    for (const r of registrations) {
      const status = decision.statuses.get(r.eventId)!;
      if (status !== r.status) statuses.push({ eventId: r.eventId, status });
      if (status === 'pending') ctx.effects.note('pending_link');
    }
    const referral = decision.referral;
    if (referral) referrals.push({ referral, erased: user.erased });
    else unattributed.push({ userId, orgId });
    const rid = referralId(userId, orgId);
    const subject = memberSubject(userId, orgId);
    desired.push({ key: { stage: 'REGISTERED', subject }, content: referral ? registeredEvent(rid, referral.registration, referral.link) : null });
    desired.push({
      key: { stage: 'ACTIVATED', subject },
      content: referral?.activation ? activatedEvent(rid, userId, referral.activation, referral.link) : null,
    });
  }
  await writeUserDecisions(tx, statuses, referrals, unattributed);
}

/**
 * Compares every user decision with what was published for it and stores the funnel records of
 * the differences, after those of clicks and installs (reconciled where their rows are
 * stored); returns the records stored now, for the outbox.
 */
async function publishDifference(ctx: FactsContext, factRecords: FunnelRecord[], desired: Desired[]): Promise<FunnelRecord[]> {
  const records: FunnelRecord[] = [...factRecords];
  const published = await loadPublished(ctx.tx, desired.map((d) => d.key));
  const stored = [];
  for (const d of desired) {
    const r = reconcile(d.key, d.content, published.get(decisionKey(d.key)));
    records.push(...r.records);
    if (r.stored) stored.push({ ...d.key, ...r.stored });
  }
  ctx.effects.note('retraction', records.filter((r) => r.retractsEventId !== null).length);
  await saveDecisions(ctx.tx, stored);
  return insertFunnelRecords(ctx.tx, records);
}
