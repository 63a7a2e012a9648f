import type { Queryable } from '../db/queryable.js';
import { COUNT_COLUMNS, FUNNEL_COUNT_CATALOGUE, sumIncrements, type FunnelEvent, type Increment } from './increments.js';
import { periodSql } from './periods.js';

/**
 * Batch transactions of the aggregator take this lock shared (they run side by side); a
 * rebuild takes it exclusively for the moment it swaps the tables in.
 */
export const FUNNEL_LOCK_KEY = "hashtextextended('recruitment-tracking:funnel', 0)";

/** The update of an upsert into a funnel table aliased `f`: add the new counts to the row's. */
export const ADD_COUNTS = FUNNEL_COUNT_CATALOGUE.map((c) => `${c.column} = f.${c.column} + excluded.${c.column}`).join(', ');

const SUM_COLUMNS = FUNNEL_COUNT_CATALOGUE.map((c) => `sum(${c.column})`).join(', ');

/**
 * Locks and returns the stored positions of partitions (0 where none is stored yet), in one
 * statement, in partition order (so two transactions never wait on each other in a cycle).
 * An upsert that changes nothing still takes the row lock: a second instance still applying a
 * batch of a partition after a rebalance waits here and then sees the position it left.
 */
export async function lockPositions(tx: Queryable, topic: string, partitions: readonly number[]): Promise<Map<number, bigint>> {
  const distinct = [...new Set(partitions)].sort((a, b) => a - b);
  if (distinct.length === 0) return new Map();
  const { rows } = await tx.query<{ partition: number; next_offset: string }>(
    `insert into funnel_positions (topic, partition, next_offset)
     select $1, p, 0 from unnest($2::int[]) as p order by p
     on conflict (topic, partition) do update set topic = excluded.topic
     returning partition, next_offset`,
    [topic, distinct],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

/** Saves the partitions' next offsets, in one statement (their rows are locked by lockPositions). */
export async function savePositions(tx: Queryable, topic: string, positions: readonly { partition: number; next: bigint }[]): Promise<void> {
  if (positions.length === 0) return;
  await tx.query(
    `update funnel_positions f set next_offset = t.o, updated_at = now()
       from unnest($2::int[], $3::bigint[]) as t(p, o) where f.topic = $1 and f.partition = t.p`,
    [topic, positions.map((p) => p.partition), positions.map((p) => p.next.toString())],
  );
}

/** Stored positions of a topic's partitions. */
export async function storedPositions(db: Queryable, topic: string, partitions: number[]): Promise<Map<number, bigint>> {
  const { rows } = await db.query<{ partition: number; next_offset: string }>(
    'select partition, next_offset from funnel_positions where topic = $1 and partition = any($2::int[])',
    [topic, partitions],
  );
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

/** Sets stored positions (an operator's reset: `recruitment positions reset --group aggregator`). */
export async function setPositions(db: Queryable, topic: string, positions: Map<number, bigint>): Promise<void> {
  if (positions.size === 0) return;
  await db.query(
    `insert into funnel_positions (topic, partition, next_offset)
     select $1, p, o from unnest($2::int[], $3::bigint[]) as t(p, o)
     on conflict (topic, partition) do update set next_offset = excluded.next_offset, updated_at = now()`,
    [topic, [...positions.keys()], [...positions.values()].map(String)],
  );
}

/**
 * Records events as counted; returns the ids not counted before. Keyed by (occurred_at,
 * event_id) (migration 0022): an id names one body, so the pair says what the id says, and a
 * batch of recent events claims on the few index leaves of the recent end rather than on a
 * random leaf each. Ids counted before the migration that no funnel record held are kept
 * under -infinity and found there.
 */
export async function claimEvents(tx: Queryable, events: readonly { eventId: string; occurredAt: number }[]): Promise<Set<string>> {
  if (events.length === 0) return new Set();
  const { rows } = await tx.query<{ event_id: string }>(
    `insert into funnel_counted_events (occurred_at, event_id)
     select t.o, t.e from unnest($1::timestamptz[], $2::text[]) as t(o, e)
      where not exists (select from funnel_counted_events c where c.occurred_at = '-infinity' and c.event_id = t.e)
      order by 1, 2
     on conflict do nothing returning event_id`,
    [events.map((e) => new Date(e.occurredAt)), events.map((e) => e.eventId)],
  );
  return new Set(rows.map((r) => r.event_id));
}

/**
 * Adds increments to the hourly (UTC) and daily (org timezone) tables, to the monthly ones (the
 * month of the local day), to the per-org daily and monthly sums and to the per-mentor years
 * (funnel_yearly: the year of the local day, over campaigns), in one statement: one
 * upsert per distinct row, in key order, so concurrent batches lock rows in the same order.
 * Returns how many rows of the hourly and daily tables were written.
 */
export async function applyIncrements(tx: Queryable, increments: Increment[], defaultTimezone: string): Promise<{ hourly: number; daily: number }> {
  if (increments.length === 0) return { hourly: 0, daily: 0 };
  const counts = FUNNEL_COUNT_CATALOGUE.map((c, i) => `$${i + 5}::bigint[]`).join(', ');
  const tz = `$${FUNNEL_COUNT_CATALOGUE.length + 5}`;
  const { rows } = await tx.query<{ hourly: string; daily: string }>(
    `with inc as (
       select * from unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], ${counts})
         as t(org_id, mentor_id, campaign_id, slot, ${COUNT_COLUMNS})
     ), lcl as (
       -- Each increment's local day in its organization's timezone, cut once for the day and month tables.
       select inc.*, ${periodSql.localDay('inc.slot', `coalesce(s.timezone, ${tz})`)} as day
         from inc left join org_settings s on s.org_id = inc.org_id
     ), hourly as (
       insert into funnel_hourly as f (mentor_id, hour, campaign_id, org_id, ${COUNT_COLUMNS})
       select mentor_id, ${periodSql.utcHour('slot')}, campaign_id, org_id, ${SUM_COLUMNS}
         from inc group by 1, 2, 3, 4 order by 1, 2, 3, 4
       on conflict (mentor_id, hour, campaign_id, org_id) do update set ${ADD_COUNTS}
       returning 1
     ), daily as (
       insert into funnel_daily as f (mentor_id, day, campaign_id, org_id, ${COUNT_COLUMNS})
       select mentor_id, day, campaign_id, org_id, ${SUM_COLUMNS} from lcl group by 1, 2, 3, 4 order by 1, 2, 3, 4
       on conflict (mentor_id, day, campaign_id, org_id) do update set ${ADD_COUNTS}
       returning 1
     ), org_daily as (
       insert into funnel_org_daily as f (org_id, day, ${COUNT_COLUMNS})
       select org_id, day, ${SUM_COLUMNS} from lcl group by 1, 2 order by 1, 2
       on conflict (org_id, day) do update set ${ADD_COUNTS}
     ), monthly as (
       insert into funnel_monthly as f (mentor_id, month, campaign_id, org_id, ${COUNT_COLUMNS})
       select mentor_id, ${periodSql.monthOf('day')}, campaign_id, org_id, ${SUM_COLUMNS} from lcl group by 1, 2, 3, 4 order by 1, 2, 3, 4
       on conflict (mentor_id, month, campaign_id, org_id) do update set ${ADD_COUNTS}
     ), org_monthly as (
       insert into funnel_org_monthly as f (org_id, month, ${COUNT_COLUMNS})
       select org_id, ${periodSql.monthOf('day')}, ${SUM_COLUMNS} from lcl group by 1, 2 order by 1, 2
       on conflict (org_id, month) do update set ${ADD_COUNTS}
     ), yearly as (
       insert into funnel_yearly as f (org_id, year, mentor_id, ${COUNT_COLUMNS})
       select org_id, ${periodSql.yearOf('day')}, mentor_id, ${SUM_COLUMNS} from lcl group by 1, 2, 3 order by 1, 2, 3
       on conflict (org_id, year, mentor_id) do update set ${ADD_COUNTS}
     )
     select (select count(*) from hourly) as hourly, (select count(*) from daily) as daily`,
    [
      increments.map((i) => i.orgId), increments.map((i) => i.mentorId), increments.map((i) => i.campaignId), increments.map((i) => new Date(i.slot)),
      ...FUNNEL_COUNT_CATALOGUE.map((c) => increments.map((i) => i[c.name])), defaultTimezone,
    ],
  );
  return { hourly: Number(rows[0]?.hourly ?? 0), daily: Number(rows[0]?.daily ?? 0) };
}

/**
 * Counts funnel events into the tables, each event id once: claims the ids, then applies the
 * increments of those not counted before (a retraction subtracts). Returns the events counted
 * now and the rows written.
 */
export async function countFunnelEvents<E extends FunnelEvent & { eventId: string }>(
  tx: Queryable,
  events: E[],
  defaultTimezone: string,
): Promise<{ counted: E[]; rows: { hourly: number; daily: number } }> {
  const unique = new Map<string, E>();
  for (const e of events) if (!unique.has(e.eventId)) unique.set(e.eventId, e);
  const claimed = await claimEvents(tx, [...unique.values()]);
  const counted = [...unique.values()].filter((e) => claimed.has(e.eventId));
  return { counted, rows: await applyIncrements(tx, sumIncrements(counted), defaultTimezone) };
}
