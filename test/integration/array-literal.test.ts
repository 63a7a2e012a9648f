import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type pg from 'pg';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { createPool } from '../../libs/runtime/connections.js';
import { arrayLiteral, binaryArray } from '../../libs/db/array-literal.js';
import { preparedStatements } from '../../libs/db/prepared-statements.js';

/**
 * The array literals the services send instead of node-postgres' own (arrayLiteral) must make
 * Postgres read exactly the array given: every element, every null, every quote and backslash,
 * every instant. Checked against the real Postgres, which parses the literal and sends the
 * array back.
 */
let env: TestEnv;
let pool: pg.Pool;

beforeAll(async () => {
  env = await createTestEnv('array_literal');
  pool = createPool(env.config, env.log, 2);
});

afterAll(async () => {
  await pool?.end();
  await env?.close();
});

// Postgres text holds any character but NUL.
const text = fc.oneof(fc.string({ unit: 'binary', maxLength: 24 }), fc.constantFrom('', 'NULL', 'null', '"', '\\', '\\"', ',', '{}', ' a ', '\\\\x00')).map((s) => s.replaceAll('\0', ''));
const FIRST = -62_135_596_800_000;
const LAST = 253_402_300_799_999;

describe('arrayLiteral', () => {
  // (A lone surrogate goes out as U+FFFD, as it does in any string parameter.)
  it('is read by Postgres as exactly the array given: text with nulls, quotes and backslashes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { nil: null }), { maxLength: 30 }), async (values) => {
        const literal = arrayLiteral(values);
        expect(literal).toBeTypeOf('string');
        const { rows } = await pool.query<{ a: (string | null)[] }>('select $1::text[] as a', [literal]);
        expect(rows[0]!.a).toEqual(values.map((v) => (v === null ? null : Buffer.from(v).toString())));
      }),
      { numRuns: 400 },
    );
  });

  it('writes numbers, booleans and instants as Postgres reads them, and leaves dates it cannot write to node-postgres', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.integer({ min: FIRST, max: LAST }), { nil: null }), { maxLength: 20 }),
        fc.array(fc.boolean(), { maxLength: 10 }),
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 10 }),
        async (instants, flags, doubles) => {
          const dates = instants.map((t) => (t === null ? null : new Date(t)));
          const { rows } = await pool.query<{ d: (Date | null)[]; b: boolean[]; f: number[] }>('select $1::timestamptz[] as d, $2::bool[] as b, $3::float8[] as f', [arrayLiteral(dates), arrayLiteral(flags), arrayLiteral(doubles)]);
          expect(rows[0]!.d.map((d) => d?.getTime() ?? null)).toEqual(instants);
          expect(rows[0]!.b).toEqual(flags);
          expect(rows[0]!.f.map(Number)).toEqual(doubles.map((x) => (Object.is(x, -0) ? 0 : x)));
        },
      ),
      { numRuns: 200 },
    );
    expect(arrayLiteral([new Date(FIRST - 1)])).toBeUndefined();
    expect(arrayLiteral([new Date(LAST + 1)])).toBeUndefined();
    expect(arrayLiteral([new Date(Number.NaN)])).toBeUndefined();
    expect(arrayLiteral([['nested']])).toBeUndefined();
    expect(arrayLiteral([{ an: 'object' }])).toBeUndefined();
  });

  it('is what the prepared statements send, and an array it cannot write still reaches Postgres through node-postgres', async () => {
    const tx = preparedStatements(pool);
    const { rows } = await tx.query<{ a: string[]; n: number; d: Date[] }>(
      'select $1::text[] as a, cardinality($2::int[][]) as n, $3::timestamptz[] as d',
      [['a"b', 'c\\d', null], [[1, 2], [3, 4]], [new Date(Date.UTC(10000, 0, 1))]],
    );
    expect(rows[0]).toEqual({ a: ['a"b', 'c\\d', null], n: 4, d: [new Date(Date.UTC(10000, 0, 1))] });
  });
});

describe('binaryArray', () => {
  it('is read by Postgres as exactly the array given: text of any characters, with nulls', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.option(text, { nil: null }), { maxLength: 30 }), async (values) => {
        const { rows } = await pool.query<{ a: (string | null)[]; same: boolean }>('select $1::text[] as a, $1::text[] = $2::text[] as same', [binaryArray(values, 'text'), arrayLiteral(values)]);
        expect(rows[0]!.a).toEqual(values.map((v) => (v === null ? null : Buffer.from(v).toString())));
        expect(rows[0]!.same).toBe(true);
      }),
      { numRuns: 400 },
    );
  });

  it('writes instants of every year from 1 to 9999 to the microsecond Postgres reads, and booleans and integers as given', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(fc.integer({ min: FIRST, max: LAST }), { nil: null }), { maxLength: 20 }),
        fc.array(fc.option(fc.boolean(), { nil: null }), { maxLength: 10 }),
        fc.array(fc.integer(), { maxLength: 10 }),
        fc.array(fc.oneof(fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })), { maxLength: 10 }),
        async (instants, flags, ints, bigs) => {
          const dates = instants.map((t) => (t === null ? null : new Date(t)));
          const { rows } = await pool.query<{ d: (Date | null)[]; ms: (string | null)[]; b: (boolean | null)[]; i: number[]; g: string[] }>(
            "select $1::timestamptz[] as d, array(select (extract(epoch from x) * 1000)::numeric::text from unnest($1::timestamptz[]) x) as ms, $2::bool[] as b, $3::int[] as i, $4::bigint[]::text[] as g",
            [binaryArray(dates, 'timestamptz'), binaryArray(flags, 'bool'), binaryArray(ints, 'int'), binaryArray(bigs, 'bigint')],
          );
          // Read back through Postgres' own arithmetic as well as node-postgres' parser of its text.
          expect(rows[0]!.d.map((d) => d?.getTime() ?? null)).toEqual(instants);
          expect(rows[0]!.ms.map((m) => (m === null ? null : Number(m)))).toEqual(instants);
          expect(rows[0]!.b).toEqual(flags);
          expect(rows[0]!.i).toEqual(ints);
          expect(rows[0]!.g).toEqual(bigs.map(String));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('leaves to the text literal what it cannot write, and a wrong element type is refused by Postgres, never read as another value', async () => {
    expect(binaryArray(['1', 2], 'text')).toBeUndefined();
    expect(binaryArray([new Date(FIRST - 1)], 'timestamptz')).toBeUndefined();
    expect(binaryArray([new Date(Number.NaN)], 'timestamptz')).toBeUndefined();
    expect(binaryArray(['2026-01-01'], 'timestamptz')).toBeUndefined();
    expect(binaryArray([2 ** 31], 'int')).toBeUndefined();
    expect(binaryArray([1.5], 'bigint')).toBeUndefined();
    expect(binaryArray(['1'], 'bigint')).toBeUndefined();
    expect(binaryArray([2n ** 63n], 'bigint')).toBeUndefined();
    const { rows } = await pool.query<{ n: number; t: string[] }>('select cardinality($1::text[]) as n, $1::text[] as t', [binaryArray([], 'text')]);
    expect(rows[0]).toEqual({ n: 0, t: [] });
    await expect(pool.query('select $1::bigint[]', [binaryArray(['1'], 'text')])).rejects.toMatchObject({ code: '42804' });
    // NUL, which no Postgres text holds, is refused as it is in a literal (SQLSTATE class 22: the ingest worker dead-letters the record).
    await expect(pool.query('select $1::text[]', [binaryArray(['a\0b'], 'text')])).rejects.toMatchObject({ code: '22021' });
    await expect(pool.query('select $1::text[]', [arrayLiteral(['a\0b'])])).rejects.toMatchObject({ code: '22021' });
  });

  it('is what the prepared statements send for arrays their text casts, the literal for the rest', async () => {
    const tx = preparedStatements(pool);
    const at = new Date(Date.UTC(2026, 11, 4, 12, 30, 15, 123));
    const { rows } = await tx.query<{ a: string[]; d: Date[]; g: string[]; o: string[] }>(
      'select $1::text[] as a, $2::timestamptz[] as d, $3::bigint[]::text[] as g, $4::text[] as o from (select $1::text[] as again) x',
      [['x', null], [at], ['9007199254740993'], ['y']],
    );
    expect(rows[0]).toEqual({ a: ['x', null], d: [at], g: ['9007199254740993'], o: ['y'] });
  });
});
