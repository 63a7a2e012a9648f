import knexFactory, { type Knex } from 'knex';
import { migrationSource } from './migrations/index.js';

export type { Knex };

/**
 * A knex instance on the pg driver; nothing connects until the first query. A connection that
 * Postgres terminates while it sits idle (a restart, an admin) emits an error: it is noted and
 * the pool replaces the connection, instead of the error taking the process down.
 */
export function createKnex(databaseUrl: string, pool: { min: number; max: number } = { min: 0, max: 10 }): Knex {
  return knexFactory({
    client: 'pg',
    connection: databaseUrl,
    pool: {
      ...pool,
      afterCreate: (connection: { on(event: 'error', listener: (err: Error) => void): void }, done: (err: Error | null, connection: unknown) => void) => {
        connection.on('error', () => undefined); // the next query on it fails and knex discards it
        done(null, connection);
      },
    },
    migrations: { migrationSource, tableName: 'knex_migrations' },
  });
}

/** Creates the database named in the URL when it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} is not supported`);
  url.pathname = '/postgres';
  const admin = createKnex(url.toString(), { min: 0, max: 1 });
  try {
    const { rows } = await admin.raw<{ rows: unknown[] }>('select 1 from pg_database where datname = ?', [name]);
    if (rows.length === 0) await admin.raw(`create database "${name}"`).catch((err: { code?: string }) => {
      if (err.code !== '42P04') throw err; // created concurrently
    });
  } finally {
    await admin.destroy();
  }
}

export async function migrateLatest(db: Knex): Promise<string[]> {
  const [, applied] = (await db.migrate.latest()) as [number, string[]];
  return applied;
}
