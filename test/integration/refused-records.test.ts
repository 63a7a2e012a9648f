import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startAggregatorWorker, startIngestWorker, waitForCatchUp, waitForPositions } from '../support/workers.js';
import { readTopic } from '../support/kafka.js';
import { expectedFunnel, funnelSnapshot, type FunnelTables } from '../support/facts.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import { reconnectingAdmin } from '../../libs/kafka/client.js';
import { INPUT_TOPICS } from '../../libs/events/topics.js';
import { referralEvents } from '../../libs/sample/referral-events.js';
import type { InviteClicked, ReferralEventRecorded, UserRegistered } from '../../libs/events/types.generated.js';
import type { Knex } from '../../libs/db/knex.js';

/**
 * A record that decodes and passes validation but that Postgres still refuses (here: a check
 * constraint each test adds to its own database, SQLSTATE 23514) is isolated from its batch
 * and dead-lettered with the database's message; every other record of the batch is stored and
 * counted exactly once, and the partition goes on. A connection killed while the batch is being
 * split (the record's own trigger terminates its backend, once) retries the whole batch and
 * loses nothing.
 */
let env: TestEnv;
let producer: EventProducer;
const DAY = 24 * 3600 * 1000;
const T0 = Date.UTC(2026, 3, 10, 12);

beforeAll(async () => {
  env = await createTestEnv('refused_records');
  producer = createEventProducer(env);
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await env?.close();
});

/** Every dead letter on the topic now whose source is `source`, with its headers as strings and its offset. */
async function deadLettersFrom(source: string) {
  const admin = reconnectingAdmin(env.kafka);
  let total: number;
  try {
    total = await admin.use(async (a) => (await a.fetchTopicOffsets(env.topics.deadLetters)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0));
  } finally {
    await admin.close();
  }
  const all = await readTopic(env.kafka, env.topics.deadLetters, total);
  return all
    .map((m) => ({ value: m.value, headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v?.toString()])) }))
    .filter((d) => d.headers['dlq.source.topic'] === source);
}

/** The message at a topic's partition and offset, as the dead-letter headers name it. */
async function messageAt(topic: string, partition: string | undefined, offset: string | undefined, count: number) {
  const all = await readTopic(env.kafka, topic, count);
  return all.find((m) => String(m.partition) === partition && m.offset === offset);
}

/** A check constraint that refuses one value, and a trigger that kills the connection inserting it the `killOn`-th time. */
async function refuse(db: Knex, table: string, column: string, value: string, options: { killOn?: number } = {}) {
  const name = `test_refuse_${table}_${value}`.replace(/[^a-z0-9_]/gi, '_');
  await db.raw(`alter table ${table} add constraint ${name} check (${column} <> '${value}')`);
  if (options.killOn === undefined) return name;
  await db.raw(`create sequence ${name}_attempts`);
  await db.raw(`
    create function ${name}_kill() returns trigger language plpgsql as $$
    begin
      if new.${column} = '${value}' and nextval('${name}_attempts') = ${options.killOn} then
        perform pg_terminate_backend(pg_backend_pid());
      end if;
      return new;
    end $$`);
  await db.raw(`create trigger ${name}_kill before insert on ${table} for each row execute function ${name}_kill()`);
  return name;
}

const attempts = async (db: Knex, name: string) => Number((await db.raw<{ rows: { last_value: string; is_called: boolean }[] }>(`select last_value, is_called from ${name}_attempts`)).rows.map((r) => (r.is_called ? r.last_value : 0))[0]);

describe('ingest worker: a record Postgres refuses', () => {
  let ingest: Awaited<ReturnType<typeof startIngestWorker>> | undefined;
  let aggregator: Awaited<ReturnType<typeof startAggregatorWorker>> | undefined;
  const settle = async () => {
    await waitForCatchUp(env.kafka, env.group('ingest'), INPUT_TOPICS.map((t) => env.topics[t]));
    // Parts committed before a failure are published by the outbox relay.
    await eventually(async () => ((await env.db.raw('select 1 from ingest_outbox limit 1')).rowCount === 0 ? true : undefined), 60_000, 'outbox drained');
    await waitForPositions(env.kafka, env.db, env.topics.referralEvents);
    await waitForCatchUp(env.kafka, env.group('ingest-aggregator'), [env.topics.referralEvents]);
  };
  const q = async (sql: string, params: unknown[] = []) => (await env.db.raw<{ rows: Record<string, unknown>[] }>(sql, params as never)).rows;
  /** What the funnel tables hold for a mentor, over all time. */
  const funnelOf = async (mentorId: string) =>
    (await q('select coalesce(sum(clicks), 0)::int clicks, coalesce(sum(unique_clicks), 0)::int "uniqueClicks", coalesce(sum(installs), 0)::int installs, coalesce(sum(registrations), 0)::int registrations, coalesce(sum(activations), 0)::int activations from funnel_hourly where mentor_id = ?', [mentorId]))[0];
  /** The funnel records netted out per stage for a mentor (a retraction cancels its event). */
  const stagesOf = async (mentorId: string) =>
    Object.fromEntries((await q('select stage, sum(case when retracts_event_id is null then 1 else -1 end)::int n from referral_trackings where mentor_id = ? group by 1 having sum(case when retracts_event_id is null then 1 else -1 end) <> 0', [mentorId])).map((r) => [r.stage, r.n]));

  const click = (linkId: string, i: number, eventId = `clk_${linkId}_${i}`): InviteClicked => ({
    eventId, linkId, occurredAt: T0 + i * 60_000, visitor: { deviceId: `dev_${eventId}`, userAgent: 'Mozilla/5.0 (Linux; Android 14) Mobile', ip: null, platform: 'ANDROID', referrer: null, locale: null },
  });
  const registration = (userId: string, linkId: string): UserRegistered => ({
    eventId: `reg_${userId}`, userId, orgId: 'org_refuse', linkId, deviceId: null, displayName: `Name ${userId}`, occurredAt: T0 + 3_600_000,
  });
  const login = (userId: string) => ({ eventId: `login_${userId}`, userId, occurredAt: T0 + 2 * 3_600_000 });
  const link = (linkId: string, mentorId: string) => ({ linkId, orgId: 'org_refuse', mentorId, campaignId: 'cmp_refuse', createdAt: T0 - 30 * DAY, expiresAt: null, revokedAt: null });

  afterAll(async () => {
    await aggregator?.stop();
    await ingest?.stop();
  });

  it('is dead-lettered with the database message; the rest of its batch and partition is stored and counted exactly once', async () => {
    await refuse(env.db, 'clicks', 'event_id', 'clk_poison');
    await refuse(env.db, 'registrations', 'user_id', 'u_poison');
    // All published before the worker starts: one fetch, the poison in the middle of its partition (clicks are keyed by link).
    const users = Array.from({ length: 10 }, (_, i) => `u_ok_${i}`);
    const clicks = Array.from({ length: 40 }, (_, i) => click('lnk_refuse', i));
    await producer.send('inviteLinks', [link('lnk_refuse', 'mentor_refuse')]);
    await producer.send('inviteClicks', [...clicks.slice(0, 20), click('lnk_refuse', 20, 'clk_poison'), ...clicks.slice(20)]);
    await producer.send('userRegistered', [...users.slice(0, 5), 'u_poison', ...users.slice(5)].map((u) => registration(u, 'lnk_refuse')));
    await producer.send('userLogins', [...users, 'u_poison'].map(login));
    ingest = await startIngestWorker(env, { group: 'ingest' });
    aggregator = await startAggregatorWorker(env, { group: 'ingest-aggregator' });
    await settle(); // the worker did not stall: every partition's committed offset reached its end

    expect(await q("select count(*)::int n from clicks where link_id = 'lnk_refuse'")).toEqual([{ n: 40 }]);
    expect(await q("select count(*)::int n from clicks where event_id = 'clk_poison'")).toEqual([{ n: 0 }]);
    expect(await q(`select user_id from registrations where link_id = 'lnk_refuse' order by user_id collate "C"`)).toEqual(users.map((u) => ({ user_id: u })));
    expect(await q('select count(*)::int n from logins where user_id = any(?)', [[...users, 'u_poison']])).toEqual([{ n: 11 }]);
    expect(await stagesOf('mentor_refuse')).toEqual({ CLICKED: 40, REGISTERED: 10, ACTIVATED: 10 });
    expect(await funnelOf('mentor_refuse')).toEqual({ clicks: 40, uniqueClicks: 40, installs: 0, registrations: 10, activations: 10 });

    const clickDead = await deadLettersFrom(env.topics.inviteClicks);
    const regDead = await deadLettersFrom(env.topics.userRegistered);
    expect(clickDead.map((d) => [d.headers['dlq.error.class'], d.headers['dlq.error.message']])).toEqual([
      ['RefusedByDatabaseError', 'new row for relation "clicks" violates check constraint "test_refuse_clicks_clk_poison" (SQLSTATE 23514)'],
    ]);
    expect(regDead.map((d) => [d.headers['dlq.error.class'], d.headers['dlq.error.message']])).toEqual([
      ['RefusedByDatabaseError', 'new row for relation "registrations" violates check constraint "test_refuse_registrations_u_poison" (SQLSTATE 23514)'],
    ]);
    // The original bytes, and headers that name where they came from.
    expect((await env.codec.decode('inviteClicks', clickDead[0]?.value ?? null)).eventId).toBe('clk_poison');
    expect((await env.codec.decode('userRegistered', regDead[0]?.value ?? null)).userId).toBe('u_poison');
    const source = await messageAt(env.topics.inviteClicks, clickDead[0]?.headers['dlq.source.partition'], clickDead[0]?.headers['dlq.source.offset'], 41);
    expect(source?.value?.equals(clickDead[0]?.value as Buffer)).toBe(true);
  });

  it('is applied once the database accepts it and it is delivered again: its eventId was never marked seen', async () => {
    await env.db.raw('alter table clicks drop constraint test_refuse_clicks_clk_poison');
    await env.db.raw('alter table registrations drop constraint test_refuse_registrations_u_poison');
    await producer.send('inviteClicks', [click('lnk_refuse', 20, 'clk_poison')]);
    await producer.send('userRegistered', [registration('u_poison', 'lnk_refuse')]);
    await settle();
    expect(await stagesOf('mentor_refuse')).toEqual({ CLICKED: 41, REGISTERED: 11, ACTIVATED: 11 });
    expect(await funnelOf('mentor_refuse')).toEqual({ clicks: 41, uniqueClicks: 41, installs: 0, registrations: 11, activations: 11 });
  });

  it('a connection killed while its batch is split retries the whole batch: nothing lost, nothing counted twice', async () => {
    // The poison's own trigger terminates the backend the second time it is inserted: after the
    // first, whole attempt was refused, inside the split.
    const name = await refuse(env.db, 'registrations', 'user_id', 'u_poison2', { killOn: 2 });
    const users = Array.from({ length: 12 }, (_, i) => `u_kill_${i}`);
    const clicks = Array.from({ length: 30 }, (_, i) => click('lnk_kill', i));
    await ingest?.stop();
    await producer.send('inviteLinks', [link('lnk_kill', 'mentor_kill')]);
    await producer.send('inviteClicks', clicks);
    await producer.send('userRegistered', [...users.slice(0, 6), 'u_poison2', ...users.slice(6)].map((u) => registration(u, 'lnk_kill')));
    await producer.send('userLogins', users.map(login));
    ingest = await startIngestWorker(env, { group: 'ingest' });
    await settle();
    expect(await attempts(env.db, name)).toBeGreaterThanOrEqual(3); // killed once, then tried again

    expect(await q(`select user_id from registrations where link_id = 'lnk_kill' order by user_id collate "C"`)).toEqual([...users].sort().map((u) => ({ user_id: u })));
    expect(await stagesOf('mentor_kill')).toEqual({ CLICKED: 30, REGISTERED: 12, ACTIVATED: 12 });
    expect(await funnelOf('mentor_kill')).toEqual({ clicks: 30, uniqueClicks: 30, installs: 0, registrations: 12, activations: 12 });
    const regDead = await deadLettersFrom(env.topics.userRegistered);
    // The dead-letter topic has partitions of its own: the order read across them is not the order written.
    expect(regDead.map((d) => d.headers['dlq.error.message']).sort()).toEqual([
      'new row for relation "registrations" violates check constraint "test_refuse_registrations_u_poison" (SQLSTATE 23514)',
      'new row for relation "registrations" violates check constraint "test_refuse_registrations_u_poison2" (SQLSTATE 23514)',
    ]);
  });
});

describe('aggregator worker: a funnel event Postgres refuses', () => {
  let db: Knex;
  let url: string;
  let aggregator: Awaited<ReturnType<typeof startAggregatorWorker>> | undefined;
  const good: ReferralEventRecorded[] = [];
  const poison = (base: ReferralEventRecorded, eventId: string, mentorId = 'mentor_poison'): ReferralEventRecorded => ({ ...base, eventId, mentorId, retractsEventId: null });
  /** This describe's rows only (its events' organizations): the topic also carries the ingest worker's events. */
  const own = (t: FunnelTables): FunnelTables => {
    const mine = (r: { orgId: string }) => r.orgId.startsWith('s91_') || r.orgId.startsWith('s92_');
    return { hourly: t.hourly.filter(mine), daily: t.daily.filter(mine), orgDaily: t.orgDaily.filter(mine), monthly: t.monthly.filter(mine), orgMonthly: t.orgMonthly.filter(mine), yearly: t.yearly.filter(mine) };
  };
  const settle = async () => {
    await waitForPositions(env.kafka, db, env.topics.referralEvents);
    await waitForCatchUp(env.kafka, env.group('aggregator'), [env.topics.referralEvents]);
  };

  beforeAll(async () => {
    ({ db, url } = await env.database('aggregator'));
  });

  afterAll(async () => {
    await aggregator?.stop();
  });

  it('is dead-lettered with the database message; every other event is counted exactly once and the positions pass it', async () => {
    await refuse(db, 'funnel_hourly', 'mentor_id', 'mentor_poison');
    const events = referralEvents({ seed: 91, count: 3000, days: 10 });
    good.push(...events);
    const poisons = [poison(events[100] as ReferralEventRecorded, 'poison_1'), poison(events[1500] as ReferralEventRecorded, 'poison_2'), poison(events[2999] as ReferralEventRecorded, 'poison_last')];
    // A redelivered event in the same fetch, and a poison as the very last record of its partition.
    await producer.send('referralEvents', [...events.slice(0, 1000), poisons[0] as ReferralEventRecorded, ...events.slice(1000, 2000), poisons[1] as ReferralEventRecorded, events[5] as ReferralEventRecorded, ...events.slice(2000)]);
    await producer.send('referralEvents', [poisons[2] as ReferralEventRecorded]);
    aggregator = await startAggregatorWorker(env, { group: 'aggregator', databaseUrl: url });
    await settle();

    expect(own(await funnelSnapshot(db))).toEqual(expectedFunnel(good));
    const counted = await db.raw<{ rows: { event_id: string }[] }>("select event_id from funnel_counted_events where event_id like 'poison%'");
    expect(counted.rows).toEqual([]); // not claimed: a replay once the database accepts them counts them
    const dead = (await deadLettersFrom(env.topics.referralEvents)).filter((d) => d.headers['dlq.error.message']?.includes('mentor_poison"'));
    expect(dead.map((d) => d.headers['dlq.error.class'])).toEqual(['RefusedByDatabaseError', 'RefusedByDatabaseError', 'RefusedByDatabaseError']);
    expect(dead[0]?.headers['dlq.error.message']).toBe('new row for relation "funnel_hourly" violates check constraint "test_refuse_funnel_hourly_mentor_poison" (SQLSTATE 23514)');
    expect((await Promise.all(dead.map((d) => env.codec.decode('referralEvents', d.value ?? null)))).map((e) => e.eventId).sort()).toEqual(['poison_1', 'poison_2', 'poison_last']);
  });

  it('a connection killed while the fetch is split retries it whole: nothing lost, nothing counted twice', async () => {
    // The second time a row of the poison's mentor is inserted, its backend is terminated: the
    // first whole attempt was refused, the second is inside the split.
    const name = await refuse(db, 'funnel_hourly', 'mentor_id', 'mentor_poison2', { killOn: 2 });
    const events = referralEvents({ seed: 92, count: 2000, days: 10 });
    good.push(...events);
    await aggregator?.stop();
    await producer.send('referralEvents', [...events.slice(0, 700), poison(events[700] as ReferralEventRecorded, 'poison2_1', 'mentor_poison2'), ...events.slice(700)]);
    aggregator = await startAggregatorWorker(env, { group: 'aggregator', databaseUrl: url });
    await settle();
    expect(await attempts(db, name)).toBeGreaterThanOrEqual(3);
    expect(own(await funnelSnapshot(db))).toEqual(expectedFunnel(good));
    const dead = (await deadLettersFrom(env.topics.referralEvents)).filter((d) => d.headers['dlq.error.message']?.includes('mentor_poison2"'));
    expect(dead).toHaveLength(1);
  });
});
