import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../libs/config/config.js';
import { createKnex, ensureDatabase } from '../../libs/db/knex.js';
import { dropDatabase } from '../support/env.js';

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
});
