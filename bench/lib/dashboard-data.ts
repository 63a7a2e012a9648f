/**
 * Fills a database as the pipeline would, for part 3 (and a smaller one, for part 2's trials to
 * run on): the ingest facts of the dashboard traffic (dashboard-traffic.ts) written in bulk,
 * then the funnel tables counted from the funnel records.
 *
 * Method: rows are computed in Node with the ingest worker's own decision functions and written
 * with COPY ... FROM STDIN (through psql, one stream per table) while the indexes and key
 * constraints of the loaded tables are dropped. The funnel tables are counted from the funnel
 * records with the rebuild's own SQL (libs/funnel/rebuild.ts funnelRecordsSql: the 15-minute slots and
 * local days of libs/funnel/periods.ts; libs/funnel/increments.ts COUNT_EVENTS_SQL), also
 * without their keys: the rebuild itself (`recruitment rebuild`) maintains the primary key of
 * 13M counted event ids row by row and takes several minutes at this size. Keys and indexes are then recreated from their own
 * definitions (so the schema is exactly the migrations'), and VACUUM ANALYZE. The result is
 * cached as a database named for the generator version, the shape and the visitor-hash key; a
 * later run copies it (CREATE DATABASE ... TEMPLATE) instead of generating it again.
 */
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { createKnex, ensureDatabase, migrateLatest } from '../../libs/db/knex.js';
import { migrationSource } from '../../libs/db/migrations/index.js';
import { dropDatabase } from '../../test/support/env.js';
import { COUNT_COLUMNS, COUNT_EVENTS_SQL, FUNNEL_COUNT_CATALOGUE } from '../../libs/funnel/increments.js';
import { periodSql } from '../../libs/funnel/periods.js';
import { funnelRecordsSql } from '../../libs/funnel/rebuild.js';
import { memberSubject } from '../../libs/domain/event-ids.js';
import { createGenerator, emptyRows, linksAndScopes, GENERATOR_VERSION, type FactRows, type Shape } from './dashboard-traffic.js';
import { copyInstant as at, copyValue as esc } from './copy-in.js';

const LOADED = ['clicks', 'installs', 'registrations', 'logins', 'referrals', 'referral_trackings', 'funnel_decisions', 'funnel_counted_events', 'funnel_hourly', 'funnel_daily', 'funnel_monthly'];

const withDatabase = (url: string, name: string) => {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
};

async function admin<T>(baseUrl: string, f: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: withDatabase(baseUrl, 'postgres') });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end();
  }
}

export function cachedName(shape: Shape, visitorHashKey: string): string {
  const key = createHash('sha256').update(JSON.stringify({ GENERATOR_VERSION, shape, visitorHashKey })).digest('hex').slice(0, 10);
  return `rt_bench_dashboards_v${GENERATOR_VERSION}_${shape.clicks}_${key}`;
}

/**
 * A COPY ... FROM STDIN per table, fed through psql (the stack's own client, see
 * infra/scripts/up.sh): text format, one line per row.
 */
function copyStream(url: string, table: string, columns: string) {
  const child = spawn('psql', [url, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `copy ${table} (${columns}) from stdin`], { stdio: ['pipe', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    async write(text: string): Promise<void> {
      if (!child.stdin.write(text)) await new Promise((r) => child.stdin.once('drain', r));
    },
    async end(): Promise<void> {
      child.stdin.end();
      const code = await exited;
      if (code !== 0) throw new Error(`copy into ${table} failed (psql exit ${code})`);
    },
  };
}


const TABLES = {
  clicks: 'event_id, link_id, occurred_at, visitor_hash, device_id, platform, is_bot, status, unique_visitor, revision, live_event_id',
  installs: 'event_id, device_id, link_id, platform, occurred_at, attributed_link_id, status, revision, live_event_id',
  registrations: 'event_id, user_id, org_id, link_id, device_id, display_name, occurred_at, status',
  logins: 'event_id, user_id, occurred_at',
  referrals: 'referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, device_id, clicked_at, installed_at, registered_at, activated_at, registration_event_id',
  referral_trackings: 'event_id, org_id, mentor_id, link_id, campaign_id, referral_id, user_id, stage, unique_visitor, occurred_at, source_event_id, retracts_event_id',
  funnel_decisions: 'stage, subject, revision, live_event_id, live_occurred_at',
} as const;

/** The rows of a chunk as COPY text, per table. */
function copyText(rows: FactRows): Record<keyof typeof TABLES, string> {
  const lines = (n: number, line: (i: number) => string | null) => {
    let out = '';
    for (let i = 0; i < n; i++) {
      const text = line(i);
      if (text !== null) out += text + '\n';
    }
    return out;
  };
  const c = rows.clicks;
  const i = rows.installs;
  const g = rows.registrations;
  const l = rows.logins;
  const f = rows.referrals;
  const t = rows.funnelRecords;
  return {
    clicks: lines(c.e.length, (k) => [esc(c.e[k]!), esc(c.l[k]!), at(c.o[k]!), esc(c.v[k]!), esc(c.d[k]!), esc(c.p[k]!), c.b[k] ? 't' : 'f', esc(c.s[k]!), c.u[k] ? 't' : 'f', c.w[k] ? '0' : '\\N', esc(c.w[k]!)].join('\t')),
    installs: lines(i.e.length, (k) => [esc(i.e[k]!), esc(i.d[k]!), esc(i.l[k]!), esc(i.p[k]!), at(i.o[k]!), esc(i.a[k]!), esc(i.s[k]!), i.w[k] ? '0' : '\\N', esc(i.w[k]!)].join('\t')),
    registrations: lines(g.e.length, (k) => [esc(g.e[k]!), esc(g.u[k]!), esc(g.o[k]!), esc(g.l[k]!), esc(g.d[k]!), esc(g.n[k]!), at(g.t[k]!), esc(g.s[k]!)].join('\t')),
    logins: lines(l.e.length, (k) => [esc(l.e[k]!), esc(l.u[k]!), at(l.t[k]!)].join('\t')),
    referrals: lines(f.r.length, (k) => [esc(f.r[k]!), esc(f.u[k]!), esc(f.o[k]!), esc(f.m[k]!), esc(f.l[k]!), esc(f.c[k]!), esc(f.by[k]!), esc(f.n[k]!), esc(f.d[k]!), at(f.ca[k]!), at(f.ia[k]!), at(f.ra[k]!), at(f.aa[k]!), esc(f.re[k]!)].join('\t')),
    referral_trackings: lines(t.length, (k) => {
      const r = t[k]!;
      return [esc(r.eventId), esc(r.orgId), esc(r.mentorId), esc(r.linkId), esc(r.campaignId), esc(r.referralId), esc(r.userId), r.stage, r.uniqueVisitor ? 't' : 'f', at(r.occurredAt), esc(r.sourceEventId), esc(r.retractsEventId)].join('\t');
    }),
    // Every event is revision 0 of its subject, the user in the org (a click's or an install's is on its row).
    funnel_decisions: lines(t.length, (k) => {
      const r = t[k]!;
      if (r.stage === 'CLICKED' || r.stage === 'INSTALLED') return null;
      return [r.stage, esc(memberSubject(r.userId as string, r.orgId)), '0', esc(r.eventId), at(r.occurredAt)].join('\t');
    }),
  };
}

/** Runs lists of statements side by side, one session per list (two cores: two lists). */
async function parallel(pool: pg.Pool, lists: string[][]): Promise<void> {
  await Promise.all(lists.map(async (list) => {
    const c = await pool.connect();
    try {
      await c.query("set maintenance_work_mem = '512MB'");
      await c.query("set work_mem = '256MB'");
      for (const stmt of list) await c.query(stmt);
    } finally {
      c.release();
    }
  }));
}

/** Generates the dashboard data into a new database `name`; returns how many clicks it holds. */
export async function generate(url: string, shape: Shape, visitorHashKey: string, progress: (line: string) => void, defaultTimezone = process.env.DEFAULT_TIMEZONE ?? 'Europe/Oslo'): Promise<void> {
  await ensureDatabase(url);
  const knex = createKnex(url, { min: 0, max: 1 });
  await migrateLatest(knex);
  await knex.destroy();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    const { links, scopes } = linksAndScopes(shape);
    await pool.query(
      `insert into invite_links (link_id, org_id, mentor_id, campaign_id, created_at, expires_at, revoked_at)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[])`,
      [links.map((l) => l.linkId), links.map((l) => l.orgId), links.map((l) => l.mentorId), links.map((l) => l.campaignId ?? null), links.map((l) => new Date(l.createdAt)), links.map(() => null), links.map(() => null)],
    );
    await pool.query(
      `insert into coordinator_scopes (coordinator_id, org_id, mentor_ids, updated_at)
       select c, o, array(select jsonb_array_elements_text(m)), u from unnest($1::text[], $2::text[], $3::jsonb[], $4::timestamptz[]) as x(c, o, m, u)`,
      [scopes.map((s) => s.coordinatorId), scopes.map((s) => s.orgId), scopes.map((s) => JSON.stringify(s.mentorIds)), scopes.map((s) => new Date(s.updatedAt))],
    );
    // Keys and indexes go while the rows load, and come back from their own definitions.
    const { rows: constraints } = await pool.query<{ t: string; name: string; def: string }>(
      `select conrelid::regclass::text t, conname as name, pg_get_constraintdef(oid) def from pg_constraint
        where conrelid::regclass::text = any($1) and contype in ('p', 'u')`,
      [LOADED],
    );
    const { rows: indexes } = await pool.query<{ name: string; def: string }>(
      `select indexname as name, indexdef def from pg_indexes where schemaname = current_schema() and tablename = any($1) and indexname <> all($2)`,
      [LOADED, constraints.map((c) => c.name)],
    );
    for (const i of indexes) await pool.query(`drop index "${i.name}"`);
    for (const c of constraints) await pool.query(`alter table ${c.t} drop constraint "${c.name}"`);

    const generator = createGenerator(shape, visitorHashKey);
    const started = Date.now();
    const streams = Object.fromEntries(Object.entries(TABLES).map(([table, columns]) => [table, copyStream(url, table, columns)])) as Record<keyof typeof TABLES, ReturnType<typeof copyStream>>;
    let clicks = 0;
    let p = 0;
    let lastReport = Date.now();
    while (clicks < shape.clicks) {
      const rows = emptyRows();
      for (let n = 0; n < 10_000 && clicks < shape.clicks; n++) clicks += generator.facts(p++, rows);
      const text = copyText(rows);
      await Promise.all((Object.keys(TABLES) as (keyof typeof TABLES)[]).map((t) => streams[t].write(text[t])));
      if (Date.now() - lastReport > 30_000) {
        lastReport = Date.now();
        progress(`generating: ${clicks} of ${shape.clicks} clicks (${Math.round(clicks / ((Date.now() - started) / 1000))}/s)`);
      }
    }
    for (const s of Object.values(streams)) await s.end();
    progress(`${clicks} clicks of ${p} people written in ${Math.round((Date.now() - started) / 1000)} s; counting the funnel tables`);
    const counting = Date.now();
    // The funnel records as the rebuild reads them: each event with its 15-minute slot and local day, cut as the aggregator cuts them.
    const source = funnelRecordsSql(`'${defaultTimezone.replace(/'/g, "''")}'`);
    await parallel(pool, [
      ['insert into funnel_counted_events (occurred_at, event_id) select occurred_at, event_id from referral_trackings'],
      [
        `insert into funnel_hourly (mentor_id, hour, campaign_id, org_id, ${COUNT_COLUMNS})
         select mentor_id, ${periodSql.utcHour('slot')}, campaign_id, org_id, ${COUNT_EVENTS_SQL} from (${source}) src group by 1, 2, 3, 4`,
        `insert into funnel_daily (mentor_id, day, campaign_id, org_id, ${COUNT_COLUMNS})
         select mentor_id, day, campaign_id, org_id, ${COUNT_EVENTS_SQL} from (${source}) src group by 1, 2, 3, 4`,
      ],
    ]);
    const sums = FUNNEL_COUNT_CATALOGUE.map((c) => `sum(${c.column})`).join(', ');
    await parallel(pool, [
      [
        `insert into funnel_org_daily (org_id, day, ${COUNT_COLUMNS}) select org_id, day, ${sums} from funnel_daily group by 1, 2`,
        `insert into funnel_org_monthly (org_id, month, ${COUNT_COLUMNS}) select org_id, ${periodSql.monthOf('day')}, ${sums} from funnel_org_daily group by 1, 2`,
      ],
      [
        `insert into funnel_monthly (mentor_id, month, campaign_id, org_id, ${COUNT_COLUMNS}) select mentor_id, ${periodSql.monthOf('day')}, campaign_id, org_id, ${sums} from funnel_daily group by 1, 2, 3, 4`,
        `insert into funnel_yearly (org_id, year, mentor_id, ${COUNT_COLUMNS}) select org_id, ${periodSql.yearOf('month')}, mentor_id, ${sums} from funnel_monthly group by 1, 2, 3`,
      ],
    ]);
    progress(`funnel tables counted in ${Math.round((Date.now() - counting) / 1000)} s; building keys and indexes`);
    const build = Date.now();
    const ddl = [...constraints.map((c) => `alter table ${c.t} add constraint "${c.name}" ${c.def}`), ...indexes.map((i) => i.def)];
    await parallel(pool, [ddl.filter((_, k) => k % 2 === 0), ddl.filter((_, k) => k % 2 === 1)]);
    progress(`keys and indexes built in ${Math.round((Date.now() - build) / 1000)} s; vacuum analyze`);
    await pool.query('vacuum analyze');
  } finally {
    await pool.end();
  }
}

/**
 * A database of the dashboard data of this shape, fresh for this run (a copy of the cached
 * one, generated first if there is none). `fresh` says whether it had to be generated.
 *
 * The cache stays at the schema it was generated with: this run's later migrations are applied
 * to its copy, so branches with different migrations can share one cache. A cache that holds a
 * migration this source does not know (migrated in place by another branch's bench before
 * copies were migrated instead) cannot be used here: one of its own name is generated beside it.
 */
export async function dashboardDatabase(baseUrl: string, shape: Shape, visitorHashKey: string, working: string, progress: (line: string) => void): Promise<{ url: string; generatedSeconds: number | null; copySeconds: number; cached: string }> {
  const known = new Set(await migrationSource.getMigrations([]));
  let cached = cachedName(shape, visitorHashKey);
  const state = async () => {
    const complete = await admin(baseUrl, async (c) => {
      const { rows } = await c.query<{ d: string | null }>('select shobj_description(oid, \'pg_database\') d from pg_database where datname = $1', [cached]);
      return rows[0]?.d === 'complete';
    });
    if (!complete) return 'missing';
    const client = new pg.Client({ connectionString: withDatabase(baseUrl, cached) });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>('select name from knex_migrations');
      const unknown = rows.map((r) => r.name).filter((n) => !known.has(n));
      if (unknown.length > 0) progress(`the cached database ${cached} holds migrations this source lacks (${unknown.join(', ')})`);
      return unknown.length > 0 ? 'foreign' : 'usable';
    } finally {
      await client.end();
    }
  };
  let found = await state();
  if (found === 'foreign') {
    cached = `${cached}_${createHash('sha256').update([...known].sort().join(',')).digest('hex').slice(0, 6)}`;
    found = await state();
  }
  let generatedSeconds: number | null = null;
  if (found !== 'usable') {
    const started = Date.now();
    await admin(baseUrl, (c) => c.query(`drop database if exists "${cached}" with (force)`));
    await generate(withDatabase(baseUrl, cached), shape, visitorHashKey, progress);
    await admin(baseUrl, (c) => c.query(`comment on database "${cached}" is 'complete'`));
    generatedSeconds = Math.round((Date.now() - started) / 1000);
    // The caches of this size but another shape go: part 3's moves with the month (a 10M cache
    // takes about 15 GB), and a shape no source asks for any more would stay for good.
    const base = cachedName(shape, visitorHashKey);
    const stale = await admin(baseUrl, async (c) => (await c.query<{ name: string }>('select datname as name from pg_database where datname like $1 and left(datname, length($2)) <> $2', [`rt\\_bench\\_dashboards\\_v%\\_${shape.clicks}\\_%`, base])).rows);
    for (const { name } of stale) {
      progress(`dropping ${name}, a cache of another shape of ${shape.clicks} clicks`);
      await admin(baseUrl, (c) => c.query(`drop database if exists "${name}" with (force)`));
    }
  } else {
    progress(`using the cached database ${cached}`);
  }
  const started = Date.now();
  await dropDatabase(withDatabase(baseUrl, working));
  await admin(baseUrl, (c) => c.query(`create database "${working}" template "${cached}" strategy file_copy`));
  const copySeconds = Math.round((Date.now() - started) / 1000);
  await renewIdentity(withDatabase(baseUrl, working));
  await migrateCopy(withDatabase(baseUrl, working), progress);
  return { url: withDatabase(baseUrl, working), generatedSeconds, copySeconds, cached };
}

/**
 * A copy is a store of its own: it gets a new epoch (store_identity), so that what the ingest
 * worker keeps outside the database under the epoch (its Redis markers of events done) is
 * never taken from another copy of the same cache for its own. Without this, a run whose
 * events repeat the ids of an earlier run on another copy would see them dropped as duplicates.
 */
async function renewIdentity(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('update store_identity set epoch = gen_random_uuid()');
  } finally {
    await client.end();
  }
}

/**
 * The copy of a cache generated before a later migration gets it (a new table is backfilled
 * from its sources), and is vacuumed and analyzed as a generated one is, so every run starts
 * with the same statistics and visibility map.
 */
async function migrateCopy(url: string, progress: (line: string) => void): Promise<void> {
  const knex = createKnex(url, { min: 0, max: 1 });
  try {
    const [, pending] = (await knex.migrate.list()) as [unknown[], unknown[]];
    if (pending.length === 0) return;
    const started = Date.now();
    await migrateLatest(knex);
    await knex.raw('vacuum analyze');
    progress(`copy migrated (${pending.length} migrations) and vacuumed in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    await knex.destroy();
  }
}

/** Drops a working copy, and the ingest worker's Redis markers of its store (see dropDatabase). */
export async function dropWorking(baseUrl: string, working: string): Promise<void> {
  await dropDatabase(withDatabase(baseUrl, working));
}


/**
 * Reads every table and index of a database once (pg_prewarm's `read` mode: through the
 * operating system's page cache), so a run measures queries on a database in memory, as a
 * production one of this size would be on a machine sized for it, and not the first touch of
 * pages of a copy made a minute before (the cache and its working copy together are larger
 * than this machine's page cache). Returns the seconds it took, or null when the extension
 * is not installed (the run then starts cold, and says so).
 */
export async function prewarm(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rowCount } = await client.query("select 1 from pg_available_extensions where name = 'pg_prewarm'");
    if (!rowCount) return null;
    const started = Date.now();
    await client.query('create extension if not exists pg_prewarm');
    await client.query(
      `select pg_prewarm(c.oid, 'read') from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = current_schema() and c.relkind in ('r', 'i', 'm', 't') order by pg_relation_size(c.oid)`,
    );
    return Math.round((Date.now() - started) / 1000);
  } finally {
    await client.end();
  }
}
