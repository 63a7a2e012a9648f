/**
 * Fills a database for part 3 as the pipeline would: the ingest facts of the dashboard traffic
 * (dashboard-traffic.ts) written in bulk, then the funnel tables computed from the stage log by
 * the project's rebuild (libs/funnel/rebuild.ts, `recruitment rebuild`).
 *
 * Method: rows are computed in Node with the ingest worker's own decision functions and written
 * with multi-row INSERT ... SELECT FROM unnest(...) (the worker's own write shape), 20k people
 * per statement, while the indexes and key constraints of the loaded tables are dropped; they
 * are then recreated from their own definitions (so the schema is exactly the migrations'),
 * the rebuild runs, and VACUUM ANALYZE. The result is cached as a database named for the
 * generator version, the shape and the visitor-hash key; a later run copies it (CREATE DATABASE
 * ... TEMPLATE) instead of generating it again.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { createKnex, ensureDatabase, migrateLatest } from '../../libs/db/knex.js';
import { createLogger } from '../../libs/log/logger.js';
import { rebuildFunnels } from '../../libs/funnel/rebuild.js';
import { createGenerator, emptyRows, linksAndScopes, GENERATOR_VERSION, type FactRows, type Shape } from './dashboard-traffic.js';

const LOADED = ['clicks', 'installs', 'registrations', 'logins', 'referrals', 'referral_trackings', 'funnel_decisions'];

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

async function insertRows(client: pg.PoolClient | pg.Client, rows: FactRows): Promise<void> {
  const q = (sql: string, params: unknown[]) => client.query(sql, params);
  const c = rows.clicks;
  await q(
    `insert into clicks (event_id, link_id, occurred_at, visitor_hash, device_id, platform, is_bot, status, unique_visitor)
     select * from unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::text[], $9::bool[])`,
    [c.e, c.l, c.o, c.v, c.d, c.p, c.b, c.s, c.u],
  );
  const i = rows.installs;
  if (i.e.length) {
    await q(
      `insert into installs (event_id, device_id, link_id, platform, occurred_at, attributed_link_id, status)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[], $7::text[])`,
      [i.e, i.d, i.l, i.p, i.o, i.a, i.s],
    );
  }
  const g = rows.registrations;
  if (g.e.length) {
    await q(
      `insert into registrations (event_id, user_id, org_id, link_id, device_id, display_name, occurred_at, status)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[])`,
      [g.e, g.u, g.o, g.l, g.d, g.n, g.t, g.s],
    );
  }
  const l = rows.logins;
  if (l.e.length) await q('insert into logins (event_id, user_id, occurred_at) select * from unnest($1::text[], $2::text[], $3::timestamptz[])', [l.e, l.u, l.t]);
  const f = rows.referrals;
  if (f.r.length) {
    await q(
      `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, device_id,
                              clicked_at, installed_at, registered_at, activated_at, registration_event_id)
       select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                            $10::timestamptz[], $11::timestamptz[], $12::timestamptz[], $13::timestamptz[], $14::text[])`,
      [f.r, f.u, f.o, f.m, f.l, f.c, f.by, f.n, f.d, f.ca, f.ia, f.ra, f.aa, f.re],
    );
  }
  const t = rows.trackings;
  if (t.length) {
    const col = <T>(fn: (r: (typeof t)[number]) => T) => t.map(fn);
    await q(
      `insert into referral_trackings
         (event_id, org_id, mentor_id, link_id, campaign_id, referral_id, user_id, stage, unique_visitor, occurred_at, source_event_id, retracts_event_id, published_at)
       select *, now() from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bool[],
                            $10::timestamptz[], $11::text[], $12::text[])`,
      [col((r) => r.eventId), col((r) => r.orgId), col((r) => r.mentorId), col((r) => r.linkId), col((r) => r.campaignId), col((r) => r.referralId),
        col((r) => r.userId), col((r) => r.stage), col((r) => r.uniqueVisitor), col((r) => new Date(r.occurredAt)), col((r) => r.sourceEventId), col((r) => r.retractsEventId)],
    );
    // Every event is revision 0 of its subject: the click or install event, else the user.
    await q(
      `insert into funnel_decisions (stage, subject, revision, live_event_id) select s, j, 0, e from unnest($1::text[], $2::text[], $3::text[]) as x(s, j, e)`,
      [col((r) => r.stage), col((r) => (r.stage === 'CLICKED' || r.stage === 'INSTALLED' ? r.sourceEventId : (r.userId as string))), col((r) => r.eventId)],
    );
  }
}

/** Generates the dashboard data into a new database `name`; returns how many clicks it holds. */
export async function generate(url: string, shape: Shape, visitorHashKey: string, progress: (line: string) => void): Promise<void> {
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
    let clicks = 0;
    let p = 0;
    let inFlight: Promise<void> = Promise.resolve();
    let lastReport = Date.now();
    const client = await pool.connect();
    try {
      while (clicks < shape.clicks) {
        const rows = emptyRows();
        for (let n = 0; n < 20_000 && clicks < shape.clicks; n++) clicks += generator.facts(p++, rows);
        await inFlight; // one statement in Postgres while the next chunk is computed here
        inFlight = insertRows(client, rows);
        if (Date.now() - lastReport > 30_000) {
          lastReport = Date.now();
          progress(`part 3: generating: ${clicks} of ${shape.clicks} clicks (${Math.round(clicks / ((Date.now() - started) / 1000))}/s)`);
        }
      }
      await inFlight;
    } finally {
      client.release();
    }
    progress(`part 3: ${clicks} clicks of ${p} people written in ${Math.round((Date.now() - started) / 1000)} s; building keys and indexes`);
    const build = Date.now();
    const ddl = [...constraints.map((c) => `alter table ${c.t} add constraint "${c.name}" ${c.def}`), ...indexes.map((i) => i.def)];
    // Two sessions build side by side (two cores).
    const queue = [...ddl];
    await Promise.all([0, 1].map(async () => {
      const c = await pool.connect();
      try {
        await c.query("set maintenance_work_mem = '512MB'");
        for (let stmt = queue.shift(); stmt; stmt = queue.shift()) await c.query(stmt);
      } finally {
        c.release();
      }
    }));
    progress(`part 3: keys and indexes built in ${Math.round((Date.now() - build) / 1000)} s; rebuilding the funnel tables`);
    const rebuilt = await rebuildFunnels(pool, { defaultTimezone: process.env.DEFAULT_TIMEZONE ?? 'Europe/Oslo', log: createLogger({ name: 'bench', level: 'error' }) });
    progress(`part 3: funnel tables rebuilt from ${rebuilt.events} funnel events in ${Math.round(rebuilt.seconds)} s; vacuum analyze`);
    await pool.query('vacuum analyze');
  } finally {
    await pool.end();
  }
}

/**
 * A database of the dashboard data of this shape, fresh for this run (a copy of the cached
 * one, generated first if there is none). `fresh` says whether it had to be generated.
 */
export async function dashboardDatabase(baseUrl: string, shape: Shape, visitorHashKey: string, working: string, progress: (line: string) => void): Promise<{ url: string; generatedSeconds: number | null; copySeconds: number; cached: string }> {
  const cached = cachedName(shape, visitorHashKey);
  const complete = await admin(baseUrl, async (c) => {
    const { rows } = await c.query<{ d: string | null }>('select shobj_description(oid, \'pg_database\') d from pg_database where datname = $1', [cached]);
    return rows[0]?.d === 'complete';
  });
  let generatedSeconds: number | null = null;
  if (!complete) {
    const started = Date.now();
    await admin(baseUrl, (c) => c.query(`drop database if exists "${cached}" with (force)`));
    await generate(withDatabase(baseUrl, cached), shape, visitorHashKey, progress);
    await admin(baseUrl, (c) => c.query(`comment on database "${cached}" is 'complete'`));
    generatedSeconds = Math.round((Date.now() - started) / 1000);
  } else progress(`part 3: using the cached database ${cached}`);
  const started = Date.now();
  await admin(baseUrl, async (c) => {
    await c.query(`drop database if exists "${working}" with (force)`);
    await c.query(`create database "${working}" template "${cached}" strategy file_copy`);
  });
  return { url: withDatabase(baseUrl, working), generatedSeconds, copySeconds: Math.round((Date.now() - started) / 1000), cached };
}

export async function dropWorking(baseUrl: string, working: string): Promise<void> {
  await admin(baseUrl, (c) => c.query(`drop database if exists "${working}" with (force)`));
}

