import type { Pool } from 'pg';
import type { Logger } from '../log/logger.js';

/** The fewest rows a table must have changed since its last ANALYZE before the worker analyzes it. */
export const ANALYZE_MIN_CHANGES = 1_000;
/**
 * A table the planner knows to hold this many rows or more is left to autovacuum. What flips a
 * plan is a table taken for empty (a few rows against a batch's keys); past a few thousand rows
 * the worker's plans keep their shape, and an ANALYZE of a larger table costs more (on this
 * machine 0.1–0.5 s from 30,000 rows up, as often as the table doubles).
 */
export const ANALYZE_MAX_ROWS = 10_000;
/**
 * How many records the worker writes between looks at its tables' statistics (one read of
 * pg_stat_user_tables, about 2 ms of Postgres): while a look finds tables to analyze. Each look
 * that finds none doubles the interval, up to ANALYZE_LOOK_EVERY_MAX, so at a steady rate on a
 * grown database the looks all but stop.
 */
export const ANALYZE_LOOK_EVERY = 2_000;
export const ANALYZE_LOOK_EVERY_MAX = 256_000;

/** A table's size as the planner knows it (pg_class' estimate at its last ANALYZE) and its rows changed since. */
export interface TableGrowth {
  table: string;
  rows: number;
  changed: number;
}

/**
 * The tables whose statistics no longer describe them: each that has changed by as many rows
 * as it held at its last ANALYZE (and by at least `minChanges`), while it holds fewer than
 * `maxRows`. So a new table is analyzed at a thousand rows, then each time it has about doubled,
 * until it holds ten thousand: a few times in all, each cheap. Autovacuum's rule,
 * with a scale factor of 1 and an end.
 */
export function tablesToAnalyze(tables: readonly TableGrowth[], minChanges = ANALYZE_MIN_CHANGES, maxRows = ANALYZE_MAX_ROWS): string[] {
  return tables.filter((t) => t.rows < maxRows && t.changed >= Math.max(minChanges, t.rows)).map((t) => t.table);
}

/**
 * Refreshes the planner's statistics of the tables a worker fills, while they grow from empty.
 *
 * A worker sends each statement as a prepared statement, and Postgres keeps a generic plan
 * for it after its first five runs, made for the tables' sizes at that moment, until an
 * ANALYZE of one of them makes it again. The migrations analyze a new database's tables while
 * they are empty, so a worker's first runs on it plan for tables of one row: a plan that reads
 * the whole table for every key of a batch (a nested loop with the table's whole index on the
 * outer side). As the table grows, each such statement takes seconds: on this machine a
 * catch-up's lanes took 2–15 s a statement and stalled for minutes. Autovacuum analyzes a table
 * once a minute at most, and not at all where it is off.
 *
 * So every `lookEvery` records written (`wrote`; less often while it finds nothing to do, see
 * ANALYZE_LOOK_EVERY), the worker reads its tables' sizes and rows
 * changed since their last ANALYZE (pg_stat_user_tables, Postgres' own counts, every writer's)
 * and analyzes those tablesToAnalyze names, in the background, on a pool connection outside any
 * lane's transaction:
 * `ANALYZE (SKIP_LOCKED)` takes a lock that no insert, read or row lock waits for, and gives way
 * to another worker's or autovacuum's ANALYZE of the same table. Every connection's plans on
 * those tables are made again at their next run. A failure is logged and tried again at the
 * next look.
 */
export function createGrowthAnalyzer(options: { pool: Pool; tables: readonly string[]; log: Logger; minChanges?: number; maxRows?: number; lookEvery?: number; lookEveryMax?: number }) {
  const { pool, tables, log } = options;
  const lookEvery = options.lookEvery ?? ANALYZE_LOOK_EVERY;
  const lookEveryMax = Math.max(lookEvery, options.lookEveryMax ?? ANALYZE_LOOK_EVERY_MAX);
  let interval = lookEvery;
  let since = 0;
  let running: Promise<void> | undefined;
  let closed = false;
  // The first records written call for a look: a database may have grown since its last ANALYZE while no worker ran.
  let lookAt = 0;

  /** Analyzes the tables due, if any; says whether there were. */
  async function look(): Promise<boolean> {
    const { rows } = await pool.query<{ table: string; rows: number; changed: string }>(
      `select c.relname as table, greatest(c.reltuples, 0)::float8 as rows, coalesce(s.n_mod_since_analyze, 0) as changed
         from pg_class c left join pg_stat_user_tables s on s.relid = c.oid
        where c.oid = any($1::regclass[])`,
      [tables],
    );
    const due = tablesToAnalyze(rows.map((r) => ({ table: r.table, rows: Number(r.rows), changed: Number(r.changed) })), options.minChanges, options.maxRows);
    if (due.length === 0) return false;
    const started = Date.now();
    await pool.query(`analyze (skip_locked) ${due.map((t) => `"${t.replaceAll('"', '""')}"`).join(', ')}`);
    log.info({ tables: due, ms: Date.now() - started }, 'analyzed tables that had grown since their statistics');
    return true;
  }

  function check(): void {
    if (running || closed) return;
    since = 0;
    running = look()
      .then((analyzed) => {
        interval = analyzed ? lookEvery : Math.min(lookEveryMax, interval * 2);
      })
      .catch((err: unknown) => log.warn({ err }, "could not refresh the tables' statistics; will try again at the next look"))
      .finally(() => {
        lookAt = interval;
        running = undefined;
      });
  }

  return {
    /** Counts records written (committed); looks at the tables' statistics every `lookEvery`, in the background. */
    wrote(records: number): void {
      if (records <= 0) return;
      since += records;
      if (since >= lookAt) check();
    },
    /** Resolves once no look is in flight. */
    async idle(): Promise<void> {
      while (running) await running;
    },
    /** Waits for a look in flight and starts no other. */
    async close(): Promise<void> {
      closed = true;
      await this.idle();
    },
  };
}

export type GrowthAnalyzer = ReturnType<typeof createGrowthAnalyzer>;
