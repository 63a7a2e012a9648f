import pg from 'pg';

/** Postgres' type oid of `timestamptz`. */
export const TIMESTAMPTZ_OID = 1184;

const DIGIT_0 = 48;
/** The value of the decimal digits of `text` from `from` to `to` (exclusive), or NaN if any is not a digit. */
function digits(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = text.charCodeAt(i) - DIGIT_0;
    if (d < 0 || d > 9) return Number.NaN;
    n = n * 10 + d;
  }
  return n;
}

const slowParse = pg.types.getTypeParser(TIMESTAMPTZ_OID, 'text') as (text: string) => Date | number | null;

/**
 * A `timestamptz` as Postgres sends it in text (DateStyle ISO, any TimeZone), as a Date: the
 * same Date node-postgres' own parser (postgres-date) gives, without its regular expressions,
 * their match arrays and a `split` per value. A worker's lane reads about a thousand of them per
 * thousand events (touches, installs, registrations, logins, published records): the regular
 * expressions' garbage was 2.5% of everything the ingest worker allocated. Handles the form
 * `YYYY-MM-DD HH:MM:SS[.fraction]±HH[:MM[:SS]]`, which is every value of years 1000 to 9999;
 * anything else (other years, BC, infinity) goes to node-postgres' parser. A fraction past
 * milliseconds is cut, as Date.UTC cuts it there.
 */
export function parseTimestamptz(text: string): Date | number | null {
  const n = text.length;
  if (n < 22 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return slowParse(text);
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 7);
  const day = digits(text, 8, 10);
  const hour = digits(text, 11, 13);
  const minute = digits(text, 14, 16);
  const second = digits(text, 17, 19);
  let i = 19;
  let ms = 0;
  if (text.charCodeAt(i) === 46) {
    const start = ++i;
    while (i < n && text.charCodeAt(i) >= DIGIT_0 && text.charCodeAt(i) <= DIGIT_0 + 9) i++;
    if (i === start) return slowParse(text);
    const kept = Math.min(3, i - start);
    ms = digits(text, start, start + kept) * (kept === 1 ? 100 : kept === 2 ? 10 : 1);
  }
  const sign = text.charCodeAt(i);
  if (sign !== 43 && sign !== 45) return slowParse(text);
  // ±HH, ±HH:MM or ±HH:MM:SS, and nothing after it.
  const rest = n - i - 1;
  if (rest !== 2 && rest !== 5 && rest !== 8) return slowParse(text);
  if ((rest >= 5 && text.charCodeAt(i + 3) !== 58) || (rest === 8 && text.charCodeAt(i + 6) !== 58)) return slowParse(text);
  const offsetSeconds = digits(text, i + 1, i + 3) * 3600 + (rest >= 5 ? digits(text, i + 4, i + 6) * 60 : 0) + (rest === 8 ? digits(text, i + 7, i + 9) : 0);
  const at = Date.UTC(year, month - 1, day, hour, minute, second, ms) - (sign === 45 ? -1 : 1) * offsetSeconds * 1000;
  if (year < 1000 || Number.isNaN(at)) return slowParse(text);
  return new Date(at);
}

/**
 * The types every pool of the services reads with (createPool): node-postgres' own, but
 * `timestamptz` through parseTimestamptz.
 */
export const PG_TYPES = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === TIMESTAMPTZ_OID && format !== 'binary' ? parseTimestamptz : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};
