import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type pg from 'pg';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { expectedFunnel, factsSnapshot, funnelSnapshot, type FunnelRow } from '../support/facts.js';
import { DAY, referenceOutcome, type RefClick, type RefInstall, type RefLink, type RefLogin, type RefRegistration, type RefWorld } from '../support/reference-model.js';
import { createPool } from '../../libs/runtime/connections.js';
import { createBatchApplier, type BatchApplier, type TopicRecords } from '../../services/ingest-worker/apply-batch.js';
import { countFunnelEvents } from '../../libs/funnel/funnel-store.js';
import { conversionRecord } from '../../services/query-service/queries/conversion-record.js';
import type { InviteClicked, InviteLink, UserErased, UserLoggedIn, UserRegistered, AppInstalled } from '../../libs/events/types.generated.js';
import type { FunnelRecord } from '../../libs/domain/funnel-decisions.js';

/**
 * The central promise (SPEC §4): the numbers are a function of the distinct events, not of the
 * order they arrive in, how they are batched, or how often they are delivered. Random small
 * worlds go through the real ingest code (store, re-decide, publish the difference) and the
 * real aggregator counting, in several random orders and batch splits each, on the real
 * Postgres; every run must equal the reference computed from SPEC §4 in
 * test/support/reference-model.ts, and so every other run.
 *
 * Under CI the seed is fixed; elsewhere each run draws one (printed on failure).
 * FC_SEED=<seed> FC_RUNS=<n> reproduce a run.
 */
const SEED = Number(process.env.FC_SEED ?? (process.env.CI ? 20261121 : Date.now() % 2 ** 31));
const RUNS = Number(process.env.FC_RUNS ?? 60);
const ORDERS = 3;

const T0 = Date.UTC(2026, 2, 20); // the 29 March clock change falls inside the worlds
const HOUR = 3600_000;
const TIMEZONES: Record<string, string> = { o1: 'Europe/Oslo', o2: 'America/New_York' };
const HUMANS = [
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
];
const BOTS = ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'WhatsApp/2.23.20.0 A'];

let env: TestEnv;
let pool: pg.Pool;
let apply: BatchApplier;

beforeAll(async () => {
  env = await createTestEnv('order_properties');
  pool = createPool(env.config, env.log, 8);
  // Pages of three clicks (one per link at least): a changed link's clicks take several transactions in most worlds.
  apply = createBatchApplier({ pool, config: env.config, linkPage: { clicks: 3, minPerLink: 1 } });
  for (const [org, tz] of Object.entries(TIMEZONES)) await env.db.raw('insert into org_settings (org_id, timezone) values (?, ?)', [org, tz]);
});

afterAll(async () => {
  await pool?.end();
  await env?.close();
});

// ---- Worlds ----------------------------------------------------------------------------------

// Mostly within ten days, so that facts interact; now and then far apart, so the 30-day window matters.
const time = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 10 * 24 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 45 * 24 }) }).map((h) => T0 + h * HOUR);
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: null, freq: 2 });
const linkId = fc.constantFrom('l1', 'l2', 'l3', 'l4', 'l5', 'l6'); // l6 is never published
const deviceId = fc.constantFrom('d1', 'd2', 'd3', 'd4');
const userId = fc.constantFrom('u1', 'u2', 'u3', 'u4', 'm1'); // m1 is also a mentor

const linkState = fc.record({
  orgId: fc.constantFrom('o1', 'o2'),
  mentorId: fc.constantFrom('m1', 'm2', 'm3'),
  campaignId: fc.constantFrom('c1', 'c2', null),
  expiresAt: maybe(time),
  revokedAt: maybe(time),
});

const world = fc.record({
  links: fc.array(fc.record({ present: fc.boolean(), final: linkState, earlier: fc.option(linkState, { nil: null }) }), { minLength: 5, maxLength: 5 }),
  clicks: fc.array(
    fc.record({
      linkId, occurredAt: time,
      visitor: fc.oneof(
        { weight: 3, arbitrary: deviceId.map((d) => ({ deviceId: d, ip: '198.51.100.7', userAgent: HUMANS[0]!, bot: false })) },
        fc.constantFrom(...HUMANS).chain((ua) => fc.constantFrom('203.0.113.1', '203.0.113.2').map((ip) => ({ deviceId: null, ip, userAgent: ua, bot: false }))),
        fc.constantFrom(...BOTS).map((ua) => ({ deviceId: null, ip: '192.0.2.1', userAgent: ua, bot: true })),
        fc.constant({ deviceId: null, ip: null, userAgent: null, bot: false }),
      ),
    }),
    { maxLength: 14 },
  ),
  // Another click by the visitor of an earlier one, on the same link, hours apart: unique-click rivals.
  revisits: fc.array(fc.record({ of: fc.nat(), hours: fc.integer({ min: -14, max: 14 }) }), { maxLength: 4 }),
  // Four devices: a device installing twice (a reinstall) is common.
  installs: fc.array(fc.record({ deviceId, linkId: maybe(linkId), occurredAt: time }), { maxLength: 6 }),
  // Links of either org: a registration naming a link of the other organization is common.
  registrations: fc.array(fc.record({ userId, orgId: fc.constantFrom('o1', 'o2'), linkId: maybe(linkId), deviceId: maybe(deviceId), occurredAt: time }), { maxLength: 6 }),
  // The same person registering in the other organization too, hours apart, by link, device or neither.
  memberships: fc.array(fc.record({ of: fc.nat(), hours: fc.integer({ min: -72, max: 72 }), linkId: maybe(linkId), sameDevice: fc.boolean() }), { maxLength: 3 }),
  logins: fc.array(fc.record({ userId, occurredAt: time }), { maxLength: 4 }),
  // Logins of a registered user around their registration: activation rivals.
  sessions: fc.array(fc.record({ of: fc.nat(), hours: fc.integer({ min: -6, max: 48 }) }), { maxLength: 5 }),
  // Usually one registered user asks to be erased, at any point of the delivery.
  erase: fc.option(fc.nat(), { nil: null, freq: 4 }),
  duplicates: fc.array(fc.nat(), { maxLength: 4 }),
  orders: fc.array(fc.nat(), { minLength: ORDERS, maxLength: ORDERS }),
});
type World = typeof world extends fc.Arbitrary<infer W> ? W : never;

type Message =
  | { topic: 'inviteLinks'; record: InviteLink }
  | { topic: 'inviteClicks'; record: InviteClicked }
  | { topic: 'appInstalls'; record: AppInstalled }
  | { topic: 'userRegistered'; record: UserRegistered }
  | { topic: 'userLogins'; record: UserLoggedIn }
  | { topic: 'userErasures'; record: UserErased };

/** The world as input events (with repeats and earlier link states) and as the reference sees it. */
function materialize(w: World): { messages: Message[]; reference: RefWorld } {
  const messages: Message[] = [];
  const links: RefLink[] = [];
  w.links.forEach((l, i) => {
    if (!l.present) return;
    const id = `l${i + 1}`;
    const record = (s: typeof l.final): InviteLink => ({ linkId: id, createdAt: T0 - 10 * DAY, ...s });
    if (l.earlier) messages.push({ topic: 'inviteLinks', record: record(l.earlier) });
    messages.push({ topic: 'inviteLinks', record: record(l.final) });
    links.push({ linkId: id, ...l.final });
  });
  const clicks: RefClick[] = w.clicks.map((c, i) => ({ eventId: `c${i}`, linkId: c.linkId, occurredAt: c.occurredAt, ...c.visitor }));
  if (clicks.length > 0) {
    w.revisits.forEach((r, i) => {
      const c = clicks[r.of % clicks.length] as RefClick;
      clicks.push({ ...c, eventId: `c${i}v`, occurredAt: c.occurredAt + r.hours * HOUR });
    });
  }
  for (const c of clicks) {
    messages.push({
      topic: 'inviteClicks',
      record: { eventId: c.eventId, linkId: c.linkId, occurredAt: c.occurredAt, visitor: { deviceId: c.deviceId, ip: c.ip, userAgent: c.userAgent, platform: null, referrer: null, locale: null } },
    });
  }
  const installs: RefInstall[] = w.installs.map((x, i) => ({ eventId: `i${i}`, ...x }));
  for (const x of installs) messages.push({ topic: 'appInstalls', record: { ...x, platform: null } });
  const registrations: RefRegistration[] = w.registrations.map((r, i) => ({ eventId: `r${i}`, ...r, displayName: `Name ${r.userId} ${i}` }));
  if (registrations.length > 0) {
    w.memberships.forEach((m, i) => {
      const r = registrations[m.of % registrations.length] as RefRegistration;
      registrations.push({
        eventId: `r${i}m`, userId: r.userId, orgId: r.orgId === 'o1' ? 'o2' : 'o1', linkId: m.linkId, deviceId: m.sameDevice ? r.deviceId : null,
        displayName: `Name ${r.userId} ${i}m`, occurredAt: r.occurredAt + m.hours * HOUR,
      });
    });
  }
  for (const r of registrations) messages.push({ topic: 'userRegistered', record: r });
  const logins: RefLogin[] = w.logins.map((l, i) => ({ eventId: `g${i}`, ...l }));
  if (registrations.length > 0) {
    w.sessions.forEach((x, i) => {
      const r = registrations[x.of % registrations.length] as RefRegistration;
      logins.push({ eventId: `g${i}s`, userId: r.userId, occurredAt: r.occurredAt + x.hours * HOUR });
    });
  }
  for (const l of logins) messages.push({ topic: 'userLogins', record: l });
  const erasedUsers = w.erase === null || registrations.length === 0 ? [] : [(registrations[w.erase % registrations.length] as RefRegistration).userId];
  for (const u of erasedUsers) messages.push({ topic: 'userErasures', record: { eventId: `e_${u}`, userId: u, orgId: 'o1', occurredAt: T0 + 50 * DAY } });
  for (const d of w.duplicates) {
    const m = messages[d % messages.length];
    if (m && m.topic !== 'inviteLinks') messages.push(m);
  }
  return { messages, reference: { links, clicks, installs, registrations, logins, erasedUsers, windowDays: env.config.attributionWindowDays } };
}

// ---- Delivery --------------------------------------------------------------------------------

/** mulberry32: one order per seed, reproducible from fast-check's seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(xs: T[], rnd: () => number): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Cuts a sequence into batches of 1 to 6. */
function split<T>(xs: T[], rnd: () => number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; ) {
    const n = 1 + Math.floor(rnd() * 6);
    out.push(xs.slice(i, i + n));
    i += n;
  }
  return out;
}

/** Applies a batch as the worker's consumer does: a failure (a deadlock between concurrent batches) is retried. */
async function applyRetrying(groups: TopicRecords[]): Promise<FunnelRecord[]> {
  // What each transaction commits is published, as the worker does: a retry after a failed page
  // finds the transactions before it committed, and takes the link's pages up where they stopped.
  const published: FunnelRecord[] = [];
  const onCommit = async ({ funnelRecords }: { funnelRecords: FunnelRecord[] }) => {
    for (const record of funnelRecords) published.push(record);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await apply.applyGroups(groups, onCommit);
      return published;
    } catch (err) {
      if (attempt >= 20 || (err as { code?: string }).code !== '40P01') throw err;
    }
  }
}

/**
 * Delivers the messages in a random order, as a broker could: any interleaving across topics
 * and keys, but one link's records in the order they were published (they share a partition).
 * Each cut of the sequence is applied in one of the ways the worker can receive it: one batch
 * per topic after another, every topic in one transaction (a fetch gathered across
 * partitions), one batch per topic at the same time (partitions and instances side by side,
 * serialized only by the subject locks), or its records dealt at random into two or three lanes
 * applied at the same time (a worker's lanes, or instances: any records side by side).
 */
async function deliver(messages: Message[], seed: number): Promise<FunnelRecord[]> {
  const rnd = rng(seed);
  const order = shuffle(messages, rnd);
  const linkSlots = order.flatMap((m, i) => (m.topic === 'inviteLinks' ? [i] : []));
  const linkMessages = messages.filter((m) => m.topic === 'inviteLinks');
  linkSlots.forEach((slot, k) => (order[slot] = linkMessages[k] as Message));
  const published: FunnelRecord[] = [];
  for (const chunk of split(order, rnd)) {
    const groupsOf = (ms: Message[]) => [...new Set(ms.map((m) => m.topic))].map((topic) => ({ topic, records: ms.filter((m) => m.topic === topic).map((m) => m.record) }) as TopicRecords);
    const groups = groupsOf(chunk);
    const way = rnd();
    if (way < 1 / 4) for (const g of groups) published.push(...(await applyRetrying([g])));
    else if (way < 2 / 4) published.push(...(await applyRetrying(groups)));
    else if (way < 3 / 4) for (const out of await Promise.all(groups.map((g) => applyRetrying([g])))) published.push(...out);
    else {
      // Two or three lanes of any records (the worker runs INGEST_LANES), same topics included
      // (two clicks of one visitor-day side by side), serialized only by the locks; a link's
      // records stay in one lane, in order (one partition's, as in the worker, where they share a lane).
      const count = rnd() < 0.5 ? 2 : 3;
      const lanes: Message[][] = Array.from({ length: count }, () => []);
      const laneOfLink = new Map<string, number>();
      for (const m of chunk) {
        let lane = Math.floor(rnd() * count);
        if (m.topic === 'inviteLinks') {
          const linkId = (m.record as { linkId: string }).linkId;
          lane = laneOfLink.get(linkId) ?? lane;
          laneOfLink.set(linkId, lane);
        }
        (lanes[lane] as Message[]).push(m);
      }
      for (const out of await Promise.all(lanes.map((lane) => applyRetrying(groupsOf(lane))))) published.push(...out);
    }
  }
  return published;
}

/** Counts the published events as the aggregator does, in another random order, some twice. */
async function aggregate(events: FunnelRecord[], seed: number): Promise<void> {
  const rnd = rng(seed ^ 0x5bd1e995);
  const redelivered = [...events, ...events.filter(() => rnd() < 0.2)];
  for (const batch of split(shuffle(redelivered, rnd), rnd)) {
    const client = await pool.connect();
    try {
      await client.query('begin');
      await countFunnelEvents(client, batch, env.config.defaultTimezone);
      await client.query('commit');
    } finally {
      client.release();
    }
  }
}

const RESET = `truncate invite_links, coordinator_scopes, clicks, installs, registrations, logins, referrals, referral_trackings,
  erased_users, erased_devices, funnel_decisions, ingest_outbox, funnel_hourly, funnel_daily, funnel_org_daily, funnel_monthly, funnel_org_monthly, funnel_yearly, funnel_counted_events, funnel_positions`;

const nonZero = <R extends Omit<FunnelRow, 'mentorId' | 'campaignId'>>(rows: R[]) => rows.filter((r) => r.clicks || r.uniqueClicks || r.installs || r.registrations || r.activations);

async function observed() {
  const funnel = await funnelSnapshot(env.db);
  const { rows: referrals } = await env.db.raw<{ rows: Record<string, unknown>[] }>(
    `select user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, device_id, clicked_at, installed_at, registered_at, activated_at
       from referrals order by user_id, org_id`,
  );
  const { rows: clicks } = await env.db.raw<{ rows: { event_id: string; status: string; unique_visitor: boolean }[] }>('select event_id, status, unique_visitor from clicks order by event_id');
  return { funnel: { hourly: nonZero(funnel.hourly), daily: nonZero(funnel.daily), orgDaily: nonZero(funnel.orgDaily), monthly: nonZero(funnel.monthly), orgMonthly: nonZero(funnel.orgMonthly), yearly: nonZero(funnel.yearly) }, referrals, clicks };
}

describe('numbers that do not depend on arrival order', () => {
  it(
    'any order, batch split and redelivery of the same events gives the numbers SPEC §4 computes from the distinct events',
    async () => {
      await fc.assert(
        fc.asyncProperty(world, async (w) => {
          const { messages, reference } = materialize(w);
          const expected = referenceOutcome(reference);
          const expectedFunnelTables = expectedFunnel(expected.events as never, (org) => TIMEZONES[org] ?? env.config.defaultTimezone);
          const erasedDevices = new Set(reference.registrations.filter((r) => reference.erasedUsers.includes(r.userId) && r.deviceId).map((r) => r.deviceId));
          let first: Awaited<ReturnType<typeof factsSnapshot>> | undefined;
          for (const seed of w.orders) {
            await env.db.raw(RESET);
            await aggregate(await deliver(messages, seed), seed);
            const got = await observed();
            expect(got.funnel, `funnel tables, order seed ${seed}`).toEqual({ hourly: expectedFunnelTables.hourly, daily: expectedFunnelTables.daily, orgDaily: expectedFunnelTables.orgDaily, monthly: expectedFunnelTables.monthly, orgMonthly: expectedFunnelTables.orgMonthly, yearly: expectedFunnelTables.yearly });
            expect(got.referrals, `referrals, order seed ${seed}`).toEqual(
              expected.referrals.map((r) => ({
                user_id: r.userId, org_id: r.orgId, mentor_id: r.mentorId, link_id: r.linkId, campaign_id: r.campaignId, attributed_by: r.attributedBy,
                display_name: r.displayName,
                device_id: reference.erasedUsers.includes(r.userId) ? null : r.deviceId && erasedDevices.has(r.deviceId) ? expect.stringMatching(/^erased:/) : r.deviceId,
                clicked_at: r.clickedAt === null ? null : new Date(r.clickedAt), installed_at: r.installedAt === null ? null : new Date(r.installedAt),
                registered_at: new Date(r.registeredAt), activated_at: r.activatedAt === null ? null : new Date(r.activatedAt),
              })),
            );
            expect(
              got.clicks.map((c) => [c.event_id, c.status === 'counted', c.unique_visitor]),
              `click decisions, order seed ${seed}`,
            ).toEqual(reference.clicks.map((c) => [c.eventId, expected.clicks.get(c.eventId)!.counted, expected.clicks.get(c.eventId)!.unique]).sort());
            for (const r of expected.referrals) {
              const record = await conversionRecord(pool, { kind: 'platform' }, r.userId, r.orgId, env.config.attributionWindowDays);
              expect(record, `conversion of ${r.userId} in ${r.orgId}, order seed ${seed}`).toMatchObject({ orgId: r.orgId, mentorId: r.mentorId, linkId: r.linkId, attributedBy: r.attributedBy });
              // The explanation names the touch the reference picks, and no other touch won.
              expect(record?.explanation?.rule).toBe(r.attributedBy);
              expect(record?.explanation?.winner).toMatchObject(r.winner);
              expect(record?.explanation?.candidates.filter((c) => c.outcome === 'WON').map((c) => [c.eventId, c.kind])).toEqual([[r.winner.eventId, r.winner.kind]]);
            }
            // Everything else stored (statuses, current decisions, the funnel records netted) agrees across orders too.
            const facts = await factsSnapshot(env.db);
            if (first === undefined) first = facts;
            else expect(facts, `stored facts, order seed ${seed}`).toEqual(first);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    },
    Math.max(600_000, RUNS * 4_000), // a large FC_RUNS on a loaded machine needs its time
  );
});
