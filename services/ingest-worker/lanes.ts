import { dealByConflicts } from '../../libs/kafka/coalesce.js';
import { lockBucket } from './facts/locks.js';
import { HANDLERS, type InputTopic, type Subject, type TopicHandler } from './handlers.js';
import type { RecordOf } from '../../libs/events/codec.js';

/**
 * Deals a fetch's records into `count` lanes that lock no common bucket, as far as the records
 * tell: two records whose subjects fall in one lock bucket of a kind (facts/locks.ts, the
 * buckets the transactions will lock) go to the same lane, so lanes applied side by side do not
 * wait for each other's commit. Dealt by partition, a person's click (keyed by link) and
 * install (keyed by device) arrive in the same fetch in different lanes, and the second lane
 * waited at the device's bucket for the first to commit: 7.2 s of lock waits in 36.8 s of
 * transactions over 322k events. A link is a conflict only for a record that changes it (one
 * naming it locks it shared); clicks conflict by visitor-day. A record touching a device also
 * locks the users registered from it (`usersOfDevice`, read before dealing): a click from a
 * device re-decides its registered user, whose login may be in the same fetch, and a few
 * thousand users per lane share a bucket of the other lane's nearly always. What the caller does
 * not know (the users of a link that changes; registrations stored meanwhile) can still make
 * lanes wait; it never makes an answer wrong, the locks still decide. A fetch with a record of
 * a topic that runs alone (erasures) is one lane.
 */
export function dealIntoConflictFreeLanes<D extends { topic: InputTopic; record: RecordOf<InputTopic> }>(
  items: readonly D[],
  count: number,
  usersOfDevice: ReadonlyMap<string, readonly string[]> = new Map(),
): D[][] {
  const subjectsOf = (d: D): Subject[] =>
    (HANDLERS[d.topic] as unknown as TopicHandler<InputTopic>).subjects(d.record).flatMap((s) =>
      s[0] === 'device' ? [s, ...(usersOfDevice.get(s[1]) ?? []).map((u): Subject => ['user', u])] : [s],
    );
  if (items.some((d) => HANDLERS[d.topic].exclusive === true)) return [[...items], ...Array.from({ length: count - 1 }, () => [])];
  const bucket = new Map<string, number>();
  const bucketOfId = (id: string) => {
    let b = bucket.get(id);
    if (b === undefined) bucket.set(id, (b = lockBucket(id)));
    return b;
  };
  const changedLinks = new Set(items.filter((d) => d.topic === 'inviteLinks').flatMap((d) => subjectsOf(d).map(([, id]) => bucketOfId(id))));
  return dealByConflicts(items, (d) =>
    subjectsOf(d).flatMap(([kind, id]) => {
      if (kind === 'scope') return [`scope:${id}`];
      const b = bucketOfId(id);
      if (kind === 'names') return changedLinks.has(b) ? [`link:${b}`] : [];
      return [`${kind}:${b}`];
    }), count);
}

/** The devices records name (what dealIntoConflictFreeLanes wants the registered users of). */
export function devicesOf(items: readonly { topic: InputTopic; record: RecordOf<InputTopic> }[]): string[] {
  const devices = new Set<string>();
  for (const d of items) for (const [kind, id] of (HANDLERS[d.topic] as unknown as TopicHandler<InputTopic>).subjects(d.record)) if (kind === 'device') devices.add(id);
  return [...devices];
}
