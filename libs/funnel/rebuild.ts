import type { Pool, PoolClient } from 'pg';
import type { Logger } from '../log/logger.js';
import { ADD_COUNTS, FUNNEL_LOCK_KEY } from './funnel-store.js';
import { COUNT_COLUMNS, COUNT_EVENTS_SQL } from './increments.js';
import { periodSql } from './periods.js';
import { inTransaction } from '../db/transaction.js';
import { NOTIFY_ALL_SQL, WATCHED_TABLES, changeTriggersSql, truncateTriggerSql } from '../db/change-notices.js';

const TABLES = ['funnel_hourly', 'funnel_daily', 'funnel_org_daily', 'funnel_monthly', 'funnel_org_monthly', 'funnel_yearly', 'funnel_counted_events'] as const;

export interface RebuildResult {
  events: number;
  lateEvents: number;
  hourlyRows: number;
  dailyRows: number;
  seconds: number;
}

/**
 * Recomputes the funnel tables from the ingest facts (the funnel records in `referral_trackings`,
 * one per funnel event the ingest worker ever counted) and swaps them in atomically.
 *
 * All of it is one transaction. The bulk of the work runs without blocking anyone: new tables
 * are filled from one snapshot of the funnel records while the aggregator keeps consuming and
 * readers keep reading the old tables. Then the rebuild takes the funnel lock exclusively
 * (in-flight aggregator batches finish, new ones wait), adds the funnel records committed
 * since the snapshot, and renames the new tables into place. Readers see either the old
 * tables or the new ones, never a half-built one.
 *
 * Stored positions stay as they are, and stay consistent: every event the aggregator has
 * counted was a funnel record before it was published, so the rebuilt set of counted event
 * ids covers it, and any event still to come on the topic is counted once if it is new to the
 * rebuilt tables and skipped if the rebuild already counted it.
 */
/** The steps of a rebuild, in order, for progress reporting. */
export const REBUILD_STEPS = ['snapshot of the funnel records', 'counted events', 'hourly table', 'daily and monthly tables', 'waiting for in-flight batches', 'events logged since the snapshot', 'swap'] as const;

export async function rebuildFunnels(
  pool: Pool,
  options: { defaultTimezone: string; log: Logger; onStep?: (done: number, step: (typeof REBUILD_STEPS)[number]) => void },
): Promise<RebuildResult> {
  const started = Date.now();
  let done = 0;
  const step = () => options.onStep?.(done, REBUILD_STEPS[done++] as (typeof REBUILD_STEPS)[number]);
  const { events, lateEvents, final } = await inTransaction(pool, async (client) => {
    const { rows: lock } = await client.query<{ ok: boolean }>("select pg_try_advisory_xact_lock(hashtextextended('recruitment-tracking:rebuild', 0)) as ok");
    if (!lock[0]?.ok) throw new Error('another rebuild of the funnel tables is running');
    for (const t of TABLES) {
      await client.query(`create table ${t}_next (like ${t} including all)`);
      // LIKE copies no storage parameters: the fillfactor the aggregator's in-place updates use (migration 0016) is carried over.
      const { rows } = await client.query<{ options: string[] | null }>('select reloptions as options from pg_class where oid = $1::regclass', [t]);
      const stored = rows[0]?.options;
      if (stored && stored.length > 0) await client.query(`alter table ${t}_next set (${stored.join(', ')})`);
    }

    // Bulk: one snapshot of the funnel records, counted into the new tables.
    step();
    await client.query(`create temp table rebuild_source on commit drop as ${funnelRecordsSql('$1')}`, [options.defaultTimezone]);
    const events = await fill(client, 'rebuild_source', step);
    const built = await rowCounts(client);
    options.log.info({ events, ...built }, 'rebuild: new funnel tables filled; swapping them in');

    // Swap: no aggregator batch runs from here to commit.
    step();
    await client.query(`select pg_advisory_xact_lock(${FUNNEL_LOCK_KEY})`);
    step();
    await client.query(
      `create temp table rebuild_late on commit drop as ${funnelRecordsSql('$1', 'where not exists (select from funnel_counted_events_next n where n.occurred_at = t.occurred_at and n.event_id = t.event_id)')}`,
      [options.defaultTimezone],
    );
    const lateEvents = await fill(client, 'rebuild_late');
    const final = await rowCounts(client);
    step();
    await swapIn(client);
    // Every cached answer was read from the tables just dropped.
    await client.query(NOTIFY_ALL_SQL);
    return { events, lateEvents, final };
  });
  options.onStep?.(REBUILD_STEPS.length, 'swap');
  const result = { events: events + lateEvents, lateEvents, hourlyRows: final.hourly, dailyRows: final.daily, seconds: (Date.now() - started) / 1000 };
  options.log.info(result, 'rebuild: funnel tables replaced');
  return result;
}

/**
 * The funnel records (`referral_trackings t`, narrowed by `where`), each with its
 * 15-minute slot and the slot's local day in its organization's timezone, else in
 * `defaultTimezone` (an SQL expression), cut as the aggregator cuts them (periods.ts periodSql).
 * What the rebuild counts, and the bench's bulk fill (bench/lib/dashboard-data.ts) too.
 */
export function funnelRecordsSql(defaultTimezone: string, where = ''): string {
  const slot = periodSql.slotStart('t.occurred_at');
  return `select t.event_id, t.occurred_at, t.org_id, t.mentor_id, t.campaign_id, t.stage, t.unique_visitor, t.retracts_event_id,
      ${slot} as slot, ${periodSql.localDay(slot, `coalesce(s.timezone, ${defaultTimezone})`)} as day
    from referral_trackings t left join org_settings s on s.org_id = t.org_id ${where}`;
}

/** Counts the events of a source relation (funnelRecordsSql's columns) into the _next tables; returns how many there were. */
async function fill(client: PoolClient, source: string, step: () => void = () => undefined): Promise<number> {
  step();
  const { rowCount } = await client.query(`insert into funnel_counted_events_next (occurred_at, event_id) select occurred_at, event_id from ${source} on conflict do nothing`);
  step();
  await client.query(
    `insert into funnel_hourly_next as f (mentor_id, hour, campaign_id, org_id, ${COUNT_COLUMNS})
     select mentor_id, ${periodSql.utcHour('slot')}, campaign_id, org_id, ${COUNT_EVENTS_SQL}
       from ${source} group by 1, 2, 3, 4
     on conflict (mentor_id, hour, campaign_id, org_id) do update set ${ADD_COUNTS}`,
  );
  step();
  await client.query(
    `insert into funnel_daily_next as f (mentor_id, day, campaign_id, org_id, ${COUNT_COLUMNS})
     select mentor_id, day, campaign_id, org_id, ${COUNT_EVENTS_SQL}
       from ${source} group by 1, 2, 3, 4
     on conflict (mentor_id, day, campaign_id, org_id) do update set ${ADD_COUNTS}`,
  );
  await client.query(
    `insert into funnel_org_daily_next as f (org_id, day, ${COUNT_COLUMNS})
     select org_id, day, ${COUNT_EVENTS_SQL}
       from ${source} group by 1, 2
     on conflict (org_id, day) do update set ${ADD_COUNTS}`,
  );
  await client.query(
    `insert into funnel_monthly_next as f (mentor_id, month, campaign_id, org_id, ${COUNT_COLUMNS})
     select mentor_id, ${periodSql.monthOf('day')}, campaign_id, org_id, ${COUNT_EVENTS_SQL}
       from ${source} group by 1, 2, 3, 4
     on conflict (mentor_id, month, campaign_id, org_id) do update set ${ADD_COUNTS}`,
  );
  await client.query(
    `insert into funnel_org_monthly_next as f (org_id, month, ${COUNT_COLUMNS})
     select org_id, ${periodSql.monthOf('day')}, ${COUNT_EVENTS_SQL}
       from ${source} group by 1, 2
     on conflict (org_id, month) do update set ${ADD_COUNTS}`,
  );
  await client.query(
    `insert into funnel_yearly_next as f (org_id, year, mentor_id, ${COUNT_COLUMNS})
     select org_id, ${periodSql.yearOf('day')}, mentor_id, ${COUNT_EVENTS_SQL}
       from ${source} group by 1, 2, 3
     on conflict (org_id, year, mentor_id) do update set ${ADD_COUNTS}`,
  );
  return rowCount ?? 0;
}

async function rowCounts(client: PoolClient): Promise<{ hourly: number; daily: number }> {
  const { rows } = await client.query<{ hourly: string; daily: string }>(
    'select (select count(*) from funnel_hourly_next) as hourly, (select count(*) from funnel_daily_next) as daily',
  );
  return { hourly: Number(rows[0]?.hourly), daily: Number(rows[0]?.daily) };
}

/** Replaces each table by its _next twin, giving the twin's indexes (and constraints) the old names and its change-notice triggers. */
async function swapIn(client: PoolClient): Promise<void> {
  for (const table of TABLES) {
    if ((WATCHED_TABLES as readonly string[]).includes(table)) for (const sql of [...changeTriggersSql(table, `${table}_next`), truncateTriggerSql(table, `${table}_next`)]) await client.query(sql);
    const { rows } = await client.query<{ table: string; name: string; shape: string }>(
      `select tablename as table, indexname as name,
              regexp_replace(indexdef, '^CREATE (UNIQUE )?INDEX \\S+ ON \\S+', '\\1') as shape
         from pg_indexes where schemaname = current_schema() and tablename in ($1, $2)`,
      [table, `${table}_next`],
    );
    const oldByShape = new Map(rows.filter((r) => r.table === table).map((r) => [r.shape, r.name]));
    await client.query(`drop table ${table}`);
    await client.query(`alter table ${table}_next rename to ${table}`);
    for (const r of rows.filter((x) => x.table === `${table}_next`)) {
      const name = oldByShape.get(r.shape);
      if (name && name !== r.name) await client.query(`alter index "${r.name}" rename to "${name}"`);
    }
  }
}
