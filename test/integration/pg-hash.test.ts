import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../libs/config/config.js';
import { bucketOf, hashTextExtended } from '../../libs/db/pg-hash.js';
import { BUCKETS_PER_KIND } from '../../libs/db/migrations/0015_lock_buckets.js';

/**
 * The ingest worker deals a fetch into lanes by the lock buckets its records fall in, computed
 * in the process (libs/db/pg-hash.ts) while the locks themselves are taken by Postgres'
 * hashtextextended: a difference would make lanes wait for each other again. Compared here
 * with the real Postgres on every length around the hash's 12-byte blocks, multi-byte UTF-8,
 * and the ids the services see. Reads only: it needs no database of its own.
 */
let client: pg.Client;

beforeAll(async () => {
  const url = new URL(loadConfig(process.env).databaseUrl);
  url.pathname = '/postgres';
  client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
});

afterAll(async () => {
  await client.end();
});

async function postgresHashes(texts: string[]): Promise<{ hash: string; bucket: number }[]> {
  const { rows } = await client.query<{ hash: string; bucket: number }>(
    `select hashtextextended(k, 0)::text as hash, (hashtextextended(k, 0) & ${BUCKETS_PER_KIND - 1})::int as bucket from unnest($1::text[]) with ordinality u(k, n) order by n`,
    [texts],
  );
  return rows;
}

const asInt8 = (text: string) => {
  const { high, low } = hashTextExtended(text);
  return BigInt.asIntN(64, (BigInt(high) << 32n) | BigInt(low)).toString();
};

describe("hashtextextended(text, 0) computed in the process", () => {
  it('equals Postgres on every length from 0 to 40 bytes, on multi-byte text and on ids as the services see them', async () => {
    const texts = [
      ...Array.from({ length: 41 }, (_, n) => 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'.slice(0, n)),
      'é', '漢字', '🙂🙂🙂', 'ünïcødé-dévice-ïd', '\u0001\u007f',
      'dev-0f9c2a7e-5b1d-4c1e-9a77-3e2f1b0c9d88', 'link-000123', 'user-42', 'mentor-4999',
    ];
    const expected = await postgresHashes(texts);
    expect(texts.map(asInt8)).toEqual(expected.map((r) => r.hash));
    expect(texts.map((t) => bucketOf(t, BUCKETS_PER_KIND))).toEqual(expected.map((r) => r.bucket));
  });

  it('equals Postgres on arbitrary strings', async () => {
    // Strings without NUL (text cannot hold one); each run checks a thousand at once.
    const text = fc.string({ unit: 'binary', maxLength: 60 }).map((s) => s.split(String.fromCharCode(0)).join(''));
    await fc.assert(
      fc.asyncProperty(fc.array(text, { minLength: 1, maxLength: 1_000 }), async (texts) => {
        const expected = await postgresHashes(texts);
        expect(texts.map(asInt8)).toEqual(expected.map((r) => r.hash));
      }),
      { numRuns: 20 },
    );
  });
});
