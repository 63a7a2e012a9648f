import type { FunnelRecord } from '../../libs/domain/funnel-decisions.js';
import {
  membersOf, planDeviceInstalls, planNewClicks, planPublication, planStoredClicks, planUsers, retractions,
  type DesiredDecision, type PlanNotes,
} from '../../libs/domain/plans.js';
import { insertClicks, loadClicksToDecide, visitorDaysOf, withErasedDevices, writeClickDecisions, type NewClick } from './facts/clicks.js';
import { linkStart, nextLinkPage, saveCursors, storedCursors } from './facts/link-pages.js';
import { installDevices, loadDeviceInstalls, writeInstallDecisions } from './facts/installs.js';
import { loadLinks } from './facts/links.js';
import { lockSubjects } from './facts/locks.js';
import { loadUsers, usersOf, writeUserDecisions } from './facts/registrations.js';
import { loadDeviceTouches } from './facts/touches.js';
import { earliestRegistration } from '../../libs/domain/attribution.js';
import { insertFunnelRecords, loadPublished, saveDecisions } from './facts/funnel-records.js';
import type { FactsContext } from './facts/tx.js';

/** What a batch's new facts can change: the subjects to lock and re-decide. */
export interface Seeds {
  /**
   * Links whose stored state changed: every decision resting on them is re-decided, their
   * clicks a page of visitor-days at a time from the first (see facts/link-pages.ts).
   */
  changedLinks: string[];
  /** Links whose clicks' re-decision goes on from the page where it stopped (migration 0033). */
  resumeLinks: string[];
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

export const noSeeds = (): Seeds => ({ changedLinks: [], resumeLinks: [], linkIds: [], newClicks: [], installIds: [], deviceIds: [], userIds: [] });

/** What a re-decision stored: the funnel records to publish, and the links whose clicks have pages left. */
export interface Redecided {
  records: FunnelRecord[];
  /** Links whose clicks still have visitor-days to decide, each in a transaction of its own to come (see applyGroups). */
  unfinishedLinks: string[];
}

/** Reports a plan's counters to the batch's metrics. */
function report(ctx: FactsContext, notes: PlanNotes): void {
  for (const [name, n] of Object.entries(notes)) ctx.effects.note(name as keyof PlanNotes, n);
}

/**
 * Re-decides every subject the new facts can change and returns the events that bring the
 * published numbers to the new decisions (retractions and corrected events), already in the
 * outbox. Each step locks and loads the subjects, plans with the pure rules of
 * libs/domain/plans.ts, and writes the plan, in dependency order: clicks (under their links'
 * locks), installs (under their devices' locks), users (under their own). A batch locks links,
 * then links' clicks, then devices, then users, each kind in key order; batches that share no
 * subject never wait for each other. A transaction locks its links exclusively when it changes
 * one, else shared, since facts that merely name a link need only that it does not change
 * meanwhile; and the clicks of each link it adds clicks to or changes exclusively (the unique
 * click of a visitor-day is decided from all the clicks of its link's visitor-day). Each kind
 * is locked in one pass (two passes in different modes could wait on each other in a cycle).
 */
export async function redecide(ctx: FactsContext, seeds: Seeds): Promise<Redecided> {
  const clicks = await redecideClicks(ctx, seeds);
  const installs = await redecideInstalls(ctx, { ...seeds, deviceIds: [...seeds.deviceIds, ...clicks.newDevices] }, clicks.touchedDevices);
  const desired = await redecideUsers(ctx, seeds, installs.devices);
  return { records: await publishDifference(ctx, [...clicks.records, ...installs.records], desired), unfinishedLinks: clicks.unfinishedLinks };
}

/**
 * New clicks with the stored unique click of their visitor-days, and every click of a page of
 * the visitor-days of changed links and of links whose pages go on: stores the new clicks with their decisions and
 * the stored ones whose decision changed, each with what is published for it (kept on the
 * click's row, migration 0029), and where each link's next page starts. Returns the funnel
 * records that bring the published clicks to the decisions, the devices whose counted clicks
 * may have changed, and the links with pages left.
 */
async function redecideClicks(ctx: FactsContext, seeds: Seeds): Promise<{ records: FunnelRecord[]; touchedDevices: Set<string>; newDevices: string[]; unfinishedLinks: string[] }> {
  const { tx } = ctx;
  const arrived = await withErasedDevices(tx, seeds.newClicks);
  const incoming = arrived.filter((c) => !c.isBot);
  const changedLinks = new Set(seeds.changedLinks);
  const clickLinks = [...changedLinks, ...seeds.resumeLinks, ...incoming.map((c) => c.linkId)];
  await lockSubjects(tx, 'link', [...clickLinks, ...seeds.linkIds], changedLinks.size > 0 ? 'update' : 'share');
  await lockSubjects(tx, 'clicks', clickLinks);
  // A changed link starts from its first visitor-day, whatever page an earlier state had reached.
  const resumed = await storedCursors(tx, seeds.resumeLinks.filter((l) => !changedLinks.has(l)));
  const page = await nextLinkPage(tx, [...[...changedLinks].map(linkStart), ...resumed], ctx.linkPage);
  await saveCursors(tx, page);
  const stored = await loadClicksToDecide(tx, { whole: page.days, uniqueOf: visitorDaysOf(incoming) });
  // Every incoming click's link, a redelivery's too (it is among the stored ones, on its link): an extra link in the map changes no decision.
  const links = await loadLinks(tx, [...stored, ...incoming].map((c) => c.linkId));
  const plan = planNewClicks(stored, arrived, links);
  const inserted = await insertClicks(tx, plan.rows);
  ctx.effects.note('duplicate', seeds.newClicks.length - inserted.size);
  ctx.effects.note('bot', arrived.filter((c) => c.isBot && inserted.has(c.eventId)).length);
  const { records, changed, touchedDevices, notes } = planStoredClicks(plan, inserted);
  report(ctx, notes);
  await writeClickDecisions(tx, changed);
  return { records, touchedDevices, newDevices: incoming.flatMap((c) => (c.deviceId ? [c.deviceId] : [])), unfinishedLinks: page.unfinished.map((c) => c.linkId) };
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
  // A device's clicks decide only its installs that name no link.
  const touches = await loadDeviceTouches(tx, [...byDevice].flatMap(([deviceId, installs]) => installs.flatMap((i) => (i.linkId === null ? [{ deviceId, at: i.occurredAt }] : []))), ctx.attributionWindowDays);
  const links = await loadLinks(tx, [...[...byDevice.values()].flat().flatMap((i) => (i.linkId ? [i.linkId] : [])), ...[...touches.values()].flat().map((t) => t.linkId)]);
  const { records, changed, notes } = planDeviceInstalls(byDevice, touches, links, ctx.attributionWindowDays);
  report(ctx, notes);
  await writeInstallDecisions(tx, changed);
  return { devices, records };
}

/**
 * Users who are new, registered through a changed link, or registered from a device locked
 * above: each organization a user registered in is decided from that organization's
 * registrations alone (SPEC §4), so nothing published for one changes another's numbers.
 * Returns each member's decisions, to compare with what was published (publishDifference).
 */
async function redecideUsers(ctx: FactsContext, seeds: Seeds, devices: string[]): Promise<DesiredDecision[]> {
  const { tx } = ctx;
  const userIds = [...new Set([...seeds.userIds, ...(await usersOf(tx, { linkIds: seeds.changedLinks, deviceIds: devices }))])];
  if (userIds.length === 0) return [];
  await lockSubjects(tx, 'user', userIds);
  const members = membersOf(await loadUsers(tx, userIds));
  const touches = await loadDeviceTouches(
    tx,
    members.flatMap((m) => {
      const first = earliestRegistration(m.registrations);
      return m.deviceId && first ? [{ deviceId: m.deviceId, at: first.occurredAt }] : [];
    }),
    ctx.attributionWindowDays,
  );
  const links = await loadLinks(tx, [
    ...members.flatMap((m) => m.registrations.flatMap((r) => (r.linkId ? [r.linkId] : []))),
    ...[...touches.values()].flat().map((t) => t.linkId),
  ]);
  const plan = planUsers(members, touches, links, ctx.attributionWindowDays);
  report(ctx, plan.notes);
  await writeUserDecisions(tx, plan.statuses, plan.referrals, plan.unattributed);
  return plan.desired;
}

/**
 * Compares every user decision with what was published for it and stores the funnel records of
 * the differences, after those of clicks and installs (reconciled where their rows are
 * stored); returns the records stored now, for the outbox.
 */
async function publishDifference(ctx: FactsContext, factRecords: FunnelRecord[], desired: DesiredDecision[]): Promise<FunnelRecord[]> {
  const { records, stored } = planPublication(desired, await loadPublished(ctx.tx, desired.map((d) => d.key)));
  const all = [...factRecords, ...records];
  ctx.effects.note('retraction', retractions(all));
  await saveDecisions(ctx.tx, stored);
  return insertFunnelRecords(ctx.tx, all);
}
