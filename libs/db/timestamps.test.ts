import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import pg from 'pg';
import { parseTimestamptz, PG_TYPES, TIMESTAMPTZ_OID } from './timestamps.js';

// node-postgres' own parser (postgres-date), which parseTimestamptz must agree with everywhere.
const reference = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date | number | null;
const same = (text: string) => {
  const want = reference(text);
  const got = parseTimestamptz(text);
  return want instanceof Date && got instanceof Date ? got.getTime() === want.getTime() || (Number.isNaN(got.getTime()) && Number.isNaN(want.getTime())) : Object.is(got, want);
};
const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** A timestamptz as Postgres writes it in text: fraction trimmed of trailing zeros, offset ±HH[:MM[:SS]]. */
function pgText(y: number, mo: number, d: number, h: number, mi: number, s: number, micros: number, offsetSeconds: number): string {
  const fraction = micros === 0 ? '' : `.${pad(micros, 6)}`.replace(/0+$/, '');
  const abs = Math.abs(offsetSeconds);
  const oh = Math.floor(abs / 3600), om = Math.floor((abs % 3600) / 60), os = abs % 60;
  const offset = `${offsetSeconds < 0 ? '-' : '+'}${pad(oh, 2)}${om || os ? `:${pad(om, 2)}` : ''}${os ? `:${pad(os, 2)}` : ''}`;
  return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}${fraction}${offset}`;
}

describe('parseTimestamptz', () => {
  it('reads what Postgres writes as the same instant as postgres-date', () => {
    expect(parseTimestamptz('2026-12-07 23:21:11.858+00')).toEqual(new Date('2026-12-07T23:21:11.858Z'));
    expect(parseTimestamptz('2026-12-07 23:21:11+00')).toEqual(new Date('2026-12-07T23:21:11Z'));
    expect(parseTimestamptz('2025-12-31 22:00:00.5+02')).toEqual(new Date('2025-12-31T20:00:00.500Z'));
    expect(parseTimestamptz('1969-12-31 23:59:59.999-05:30')).toEqual(new Date('1970-01-01T05:29:59.999Z'));
    expect(parseTimestamptz('2026-03-29 01:00:00+00:00:36')).toEqual(new Date(Date.UTC(2026, 2, 29, 0, 59, 24)));
    // Microseconds past the millisecond are cut, as Date.UTC cuts them.
    expect(parseTimestamptz('2026-12-07 23:21:11.858999+00')).toEqual(new Date('2026-12-07T23:21:11.858Z'));
  });

  it('agrees with postgres-date on every millisecond fraction, with every fraction length Postgres writes', () => {
    for (let ms = 0; ms < 1000; ms++) {
      for (const micros of [ms * 1000, ms * 1000 + 1, ms * 1000 + 999]) expect(same(pgText(2026, 12, 7, 23, 21, 11, micros, 0)), `${ms}`).toBe(true);
    }
  });

  it('agrees with postgres-date on any instant and offset of years 1000 to 9999', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 9999 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 28 }), fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 59 }), fc.integer({ min: 0, max: 999_999 }), fc.integer({ min: -15 * 3600, max: 15 * 3600 }),
        (y, mo, d, h, mi, s, micros, offset) => same(pgText(y, mo, d, h, mi, s, micros, offset)),
      ),
      { numRuns: 20_000 },
    );
  });

  it('leaves other years, BC, infinity and anything unexpected to postgres-date', () => {
    for (const text of ['0099-01-01 00:00:00+00', '0999-12-31 23:59:59.9+00', '12026-01-01 00:00:00+00', '2026-01-01 00:00:00+00 BC', 'infinity', '-infinity',
      '2026-01-01 00:00:00', '2026-01-01 00:00:00.+00', '2026-01-01T00:00:00+00', '2026-0a-01 00:00:00+00', '2026-01-01 00:00:00+0', '2026-01-01 00:00:00+00:0', 'x'.repeat(30)]) {
      expect(same(text), text).toBe(true);
    }
  });

  it('is what the services\' pools read timestamptz with, and nothing else', () => {
    expect(PG_TYPES.getTypeParser(TIMESTAMPTZ_OID, 'text')).toBe(parseTimestamptz);
    expect(PG_TYPES.getTypeParser(20, 'text')).toBe(pg.types.getTypeParser(20, 'text'));
    expect(PG_TYPES.getTypeParser(TIMESTAMPTZ_OID, 'binary')).toBe(pg.types.getTypeParser(TIMESTAMPTZ_OID, 'binary'));
  });
});
