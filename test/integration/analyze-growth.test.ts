import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { createPool } from '../../libs/runtime/connections.js';
import { createGrowthAnalyzer } from '../../libs/db/analyze-growth.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { INPUT_TOPICS } from '../../libs/events/topics.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';
import { BOUNDED_TABLES, GROWING_TABLES } from '../../services/ingest-worker/ingest-worker.js';
import { startIngestWorker, waitForCatchUp } from '../support/workers.js';
import { publishOutOfOrder } from '../support/publish-out-of-order.js';

/**
 * A worker's prepared statements keep the generic plan Postgres made after their first five
 * runs, for the sizes their tables had then. On a new database that is a plan for empty tables,
 * which reads the whole table for every key. The growth analyzer must have Postgres plan them
 * again once a table has grown, on the real server; analyze a table again only once it has
 * doubled; and leave large tables to autovacuum.
 */
let env: TestEnv;
let pool: pg.Pool;

beforeAll(async () => {
  env = await createTestEnv('analyze_growth');
  pool = createPool(env.config, env.log, 3);
  // Analyzed while empty, as the migrations leave a new database's tables.
  await pool.query('create table growth_a (id int primary key, v text not null); create table growth_b (id int primary key); analyze growth_a, growth_b');
});

afterAll(async () => {
  await pool?.end();
  await env?.close();
});

const stats = async () => {
  const { rows } = await pool.query<{ relname: string; analyzed: string; changed: string }>(
    "select relname, analyze_count as analyzed, n_mod_since_analyze as changed from pg_stat_user_tables where relname in ('growth_a', 'growth_b') order by relname",
  );
  return Object.fromEntries(rows.map((r) => [r.relname, { analyzed: Number(r.analyzed), changed: Number(r.changed) }]));
};

/** Inserts rows into growth_a and waits until Postgres' counts show them (a backend reports its counts within a second or so). */
async function grow(from: number, count: number): Promise<void> {
  const before = (await stats()).growth_a!.changed;
  await pool.query("insert into growth_a select i, 'v' || i from generate_series($1::int, $2::int) i", [from, from + count - 1]);
  for (let i = 0; i < 100 && (await stats()).growth_a!.changed < before + count; i++) await new Promise((r) => setTimeout(r, 200));
}

describe('createGrowthAnalyzer', () => {
  it('has a statement planned for empty tables planned again once its table has grown, then waits for it to double, and stops at maxRows', async () => {
    const client = await pool.connect();
    try {
      // As a lane's transaction does (KEY_PROBES_ONLY in apply-batch.ts): index probes, no hash or merge joins.
      await client.query('set enable_seqscan = off; set enable_hashjoin = off; set enable_mergejoin = off');
      const text = 'select t.v from unnest($1::int[]) as k(id) join growth_a t on t.id = k.id';
      for (let i = 0; i < 6; i++) await client.query({ name: 'probe', text, values: ['{1,2}'] });
      const plan = async () => (await client.query<{ 'QUERY PLAN': string }>("explain (costs off) execute probe('{1,2}')")).rows.map((r) => r['QUERY PLAN']).join('\n');
      const probes = /Index Cond: \(id = k\.id\)/;
      // The plan made for an empty table: its whole index, each row checked against every key.
      expect(await plan()).not.toMatch(probes);
      await grow(1, 500);
      const analyzer = createGrowthAnalyzer({ pool, tables: ['growth_a', 'growth_b'], log: env.log, minChanges: 1_000, maxRows: 30_000, lookEvery: 100, lookEveryMax: 100 });
      const start = await stats();
      // 500 rows changed: under minChanges, nothing analyzed.
      analyzer.wrote(100);
      await analyzer.idle();
      expect(await stats()).toEqual(start);

      // (Growth alone does not make the plan again, but is not asserted: with many other sessions
      // changing catalogs, as in a full test run, Postgres may reset a session's cached plans.)
      await grow(501, 19_500);
      analyzer.wrote(99);
      await analyzer.idle();
      expect((await stats()).growth_a!.analyzed).toBe(start.growth_a!.analyzed);
      analyzer.wrote(1);
      await analyzer.idle();
      // 20,000 rows changed: growth_a analyzed, growth_b (unchanged) not; the plan is made again for its size, a probe per key.
      expect(await stats()).toEqual({ growth_a: { analyzed: start.growth_a!.analyzed + 1, changed: 0 }, growth_b: start.growth_b });
      expect(await plan()).toMatch(probes);

      // 20,000 rows held: 19,000 more do not call for another ANALYZE, 20,000 do.
      await grow(20_001, 19_000);
      analyzer.wrote(100);
      await analyzer.idle();
      expect((await stats()).growth_a!.analyzed).toBe(start.growth_a!.analyzed + 1);
      await grow(39_001, 1_000);
      analyzer.wrote(100);
      await analyzer.idle();
      expect((await stats()).growth_a!.analyzed).toBe(start.growth_a!.analyzed + 2);

      // 40,000 rows held, over maxRows: left to autovacuum however much it grows.
      await grow(40_001, 50_000);
      analyzer.wrote(100);
      await analyzer.close();
      expect((await stats()).growth_a!.analyzed).toBe(start.growth_a!.analyzed + 2);
    } finally {
      client.release();
    }
  });

  it('looks half as often after each look that finds nothing to analyze, down to once every lookEveryMax records', async () => {
    let looks = 0;
    const counting = Object.assign(Object.create(pool) as pg.Pool, {
      query: (...args: Parameters<pg.Pool['query']>) => {
        looks++;
        return (pool.query as (...a: unknown[]) => unknown)(...args);
      },
    }) as pg.Pool;
    const analyzer = createGrowthAnalyzer({ pool: counting, tables: ['growth_b'], log: env.log, lookEvery: 100, lookEveryMax: 400 });
    const after = async (records: number) => {
      analyzer.wrote(records);
      await analyzer.idle();
      return looks;
    };
    // growth_b never changes: 100 records, a look; then 200; then 400, and 400 from then on.
    expect([await after(100), await after(199), await after(1), await after(399), await after(1), await after(399), await after(1)]).toEqual([1, 1, 2, 2, 3, 3, 4]);
    await analyzer.close();
  });

  it("every table the ingest worker writes is one it analyzes as it grows, or one that stays small", async () => {
    const producer = createEventProducer(env);
    await producer.connect();
    const worker = await startIngestWorker(env);
    try {
      await publishOutOfOrder(producer, sampleTraffic({ seed: 11, clicks: 400 }), 11);
      await waitForCatchUp(env.kafka, env.group('ingest'), INPUT_TOPICS.map((t) => env.topics[t]));
    } finally {
      await worker.stop();
      await producer.disconnect();
    }
    // Postgres' counts of rows written, per table (the worker's backends report them within a second or so of going idle).
    const written = async () =>
      (await pool.query<{ relname: string }>("select relname from pg_stat_user_tables where n_tup_ins + n_tup_upd + n_tup_del > 0 and relname not like 'knex%' and relname not like 'growth%' order by 1")).rows.map((r) => r.relname);
    const tables = await eventually(async () => {
      const now = await written();
      return ['clicks', 'installs', 'registrations', 'logins', 'referral_trackings', 'funnel_decisions'].every((t) => now.includes(t)) ? now : undefined;
    }, 30_000, "the worker's writes to be counted");
    expect(tables.filter((t) => !GROWING_TABLES.includes(t) && !BOUNDED_TABLES.includes(t))).toEqual([]);
  }, 120_000);
});
