import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../libs/config/config.js';
import { createKnex, ensureDatabase } from '../../libs/db/knex.js';
import { dropDatabase } from '../support/env.js';
import { claimEvents } from '../../libs/funnel/funnel-store.js';

const url = new URL(loadConfig().databaseUrl);
url.pathname = `/rt_t_migrations_${randomBytes(3).toString('hex')}`;
const databaseUrl = url.toString();

afterAll(() => dropDatabase(databaseUrl));

const tables = async (db: ReturnType<typeof createKnex>) =>
  (await db.raw<{ rows: { tablename: string }[] }>("select tablename from pg_tables where schemaname = 'public' order by 1")).rows.map((r) => r.tablename);

describe('migrations', () => {
  it('run up and down on an empty database, and up again', async () => {
    await ensureDatabase(databaseUrl);
    const db = createKnex(databaseUrl, { min: 0, max: 1 });
    try {
      expect(await tables(db)).toEqual([]);
      await db.migrate.latest();
      const created = await tables(db);
      expect(created).toEqual(expect.arrayContaining(['invite_links', 'clicks', 'referrals', 'referral_trackings']));

      while ((await db.migrate.currentVersion()) !== 'none') await db.migrate.down();
      expect(await tables(db)).toEqual(['knex_migrations', 'knex_migrations_lock']);

      await db.migrate.latest();
      expect(await tables(db)).toEqual(created);

      // An organization's timezone must be one Postgres knows.
      await db.raw("insert into org_settings (org_id, timezone) values ('o1', 'Asia/Kolkata')");
      await expect(db.raw("insert into org_settings (org_id, timezone) values ('o2', 'Mars/Olympus_Mons')")).rejects.toThrow(/time zone/);
    } finally {
      await db.destroy();
    }
  });

  it('0022, 0023, 0029 and 0030 keep every counted id, live decision and outbox row: counted ids with a funnel record under its time, others under -infinity; click and install decisions on their rows', async () => {
    await ensureDatabase(databaseUrl);
    const db = createKnex(databaseUrl, { min: 0, max: 1 });
    try {
      await db.migrate.latest();
      // Back to 0021: counted ids and funnel records keyed by id alone.
      for (let v = await db.migrate.currentVersion(); v !== '0021'; v = await db.migrate.currentVersion()) {
        expect(v, 'migration 0021 is no longer in the list').not.toBe('none');
        await db.migrate.down();
      }
      await db.raw('delete from funnel_counted_events');
      const at = Date.UTC(2026, 10, 3, 9, 15);
      await db.raw(
        `insert into referral_trackings (event_id, org_id, mentor_id, link_id, stage, unique_visitor, occurred_at, source_event_id)
         values ('logged', 'o1', 'm1', 'l1', 'CLICKED', true, ?, 'c1'), ('i1-live', 'o1', 'm1', 'l1', 'INSTALLED', false, ?, 'i1')`,
        [new Date(at), new Date(at)],
      );
      await db.raw("insert into funnel_counted_events (event_id) values ('logged'), ('foreign')");
      await db.raw("insert into funnel_decisions (stage, subject, revision, live_event_id) values ('CLICKED', 'c1', 0, 'logged'), ('CLICKED', 'c2', 1, null)");
      await db.raw(
        `insert into clicks (event_id, link_id, occurred_at, visitor_hash, is_bot, status, unique_visitor)
         values ('c1', 'l1', ?, 'v1', false, 'counted', true), ('c2', 'l1', ?, 'v2', false, 'rejected', false), ('c3', 'l1', ?, 'v3', true, 'bot', false)`,
        [new Date(at), new Date(at), new Date(at)],
      );
      await db.raw("insert into installs (event_id, device_id, occurred_at, status) values ('i1', 'd1', ?, 'counted'), ('i2', 'd2', ?, 'unattributed')", [new Date(at), new Date(at)]);
      await db.raw("insert into funnel_decisions (stage, subject, revision, live_event_id) values ('INSTALLED', 'i1', 2, 'i1-live'), ('REGISTERED', '2:o1:u1', 0, 'u1-live')");
      await db.raw("insert into ingest_outbox (event_ids) values ('{logged}')");
      await db.migrate.latest();
      const { rows } = await db.raw<{ rows: { event_id: string; occurred_at: Date }[] }>('select event_id, occurred_at from funnel_counted_events order by event_id');
      expect(rows.map((r) => [r.event_id, r.occurred_at.valueOf()])).toEqual([['foreign', -Infinity], ['logged', at]]);
      // 0023: the live decision and the outbox row find the funnel record by its time and id.
      const { rows: found } = await db.raw<{ rows: { via: string; n: number }[] }>(
        `select 'decision' via, count(*)::int n from clicks c join referral_trackings t on t.occurred_at = c.occurred_at and t.event_id = c.live_event_id
         union all
         select 'outbox', count(*)::int from ingest_outbox o cross join unnest(o.event_ids, o.occurred_ats) k(e, at) join referral_trackings t on t.occurred_at = k.at and t.event_id = k.e`,
      );
      expect(found).toEqual([{ via: 'decision', n: 1 }, { via: 'outbox', n: 1 }]);
      // 0029: a click's decision lives on its row; funnel_decisions keeps installs and users.
      const { rows: moved } = await db.raw<{ rows: unknown[] }>('select event_id, revision, live_event_id from clicks order by 1');
      expect(moved).toEqual([
        { event_id: 'c1', revision: 0, live_event_id: 'logged' },
        { event_id: 'c2', revision: 1, live_event_id: null },
        { event_id: 'c3', revision: null, live_event_id: null },
      ]);
      // 0030: an install's too; funnel_decisions keeps the users'.
      const { rows: installs } = await db.raw<{ rows: unknown[] }>('select event_id, revision, live_event_id from installs order by 1');
      expect(installs).toEqual([{ event_id: 'i1', revision: 2, live_event_id: 'i1-live' }, { event_id: 'i2', revision: null, live_event_id: null }]);
      expect((await db.raw<{ rows: unknown[] }>('select stage, subject from funnel_decisions')).rows).toEqual([{ stage: 'REGISTERED', subject: '2:o1:u1' }]);
      // And back: the downs of 0030 and 0029 (and those of later migrations) put them where 0028 kept them.
      while ((await db.migrate.currentVersion()) !== '0028') await db.migrate.down();
      const { rows: back } = await db.raw<{ rows: unknown[] }>('select stage, subject, revision, live_event_id, live_occurred_at from funnel_decisions order by 2');
      expect(back).toEqual([
        { stage: 'REGISTERED', subject: '2:o1:u1', revision: 0, live_event_id: 'u1-live', live_occurred_at: null },
        { stage: 'CLICKED', subject: 'c1', revision: 0, live_event_id: 'logged', live_occurred_at: new Date(at) },
        { stage: 'CLICKED', subject: 'c2', revision: 1, live_event_id: null, live_occurred_at: null },
        { stage: 'INSTALLED', subject: 'i1', revision: 2, live_event_id: 'i1-live', live_occurred_at: new Date(at) },
      ]);
      // A CLICKED decision whose live record is at another time than its click is not moved: the migration stops and says so.
      await db.raw('update funnel_decisions set live_occurred_at = live_occurred_at + interval \'1 hour\' where subject = \'c1\'');
      await expect(db.migrate.latest()).rejects.toThrow(/1 CLICKED decisions have a live event at another time/);
      expect(await db.migrate.currentVersion()).toBe('0028');
      const client = await db.client.acquireConnection();
      try {
        const claimed = await claimEvents(client, [
          { eventId: 'logged', occurredAt: at },
          { eventId: 'foreign', occurredAt: at + 60_000 },
          { eventId: 'new', occurredAt: at },
        ]);
        expect([...claimed]).toEqual(['new']);
      } finally {
        await db.client.releaseConnection(client);
      }
    } finally {
      await db.destroy();
    }
  });
});
