/** Characters an element of an array literal must escape inside its double quotes. */
const NEEDS_ESCAPE = /["\\]/;
const ESCAPED = /["\\]/g;
/** The dates Postgres and toISOString write alike: years 1 to 9999 (toISOString writes others as ±YYYYYY). */
const FIRST_DATE = -62_135_596_800_000; // 0001-01-01T00:00:00Z (Date.UTC reads years below 100 as 19xx)
const LAST_DATE = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const quoted = (s: string): string => (NEEDS_ESCAPE.test(s) ? `"${s.replace(ESCAPED, '\\$&')}"` : `"${s}"`);

/**
 * The Postgres array literal of a one-dimensional array of strings, numbers, booleans, dates and
 * nulls, or undefined for anything else (node-postgres then writes it itself).
 *
 * node-postgres builds an array parameter by appending element after element to a string, each
 * element passed through two regular-expression replacements and a concatenation: for the
 * ingest worker's statements, a dozen arrays of a few thousand elements per transaction, that
 * was a fifth of all the memory the worker allocated (a sampling heap profile over 322k events)
 * and much of its garbage collection. Here the common case, strings that need no
 * escaping, is one join. Dates are written in UTC (ISO 8601), which a timestamptz reads as the
 * same instant node-postgres' local-time form does.
 */
export function arrayLiteral(values: readonly unknown[]): string | undefined {
  let plain = true;
  for (const v of values) {
    if (typeof v !== 'string' || NEEDS_ESCAPE.test(v)) {
      plain = false;
      break;
    }
  }
  if (plain) return values.length === 0 ? '{}' : `{"${values.join('","')}"}`;
  const parts = new Array<string>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) parts[i] = 'NULL';
    else if (typeof v === 'string') parts[i] = quoted(v);
    else if (typeof v === 'number' || typeof v === 'bigint') parts[i] = String(v);
    else if (typeof v === 'boolean') parts[i] = v ? 'true' : 'false';
    else if (v instanceof Date) {
      const t = v.getTime();
      if (!(t >= FIRST_DATE && t <= LAST_DATE)) return undefined;
      parts[i] = `"${v.toISOString()}"`;
    } else return undefined;
  }
  return `{${parts.join(',')}}`;
}

/** Query parameters with every array the literal above can write replaced by it. */
export function withArrayLiterals(values: readonly unknown[]): unknown[] {
  return values.map((v) => (Array.isArray(v) ? (arrayLiteral(v) ?? v) : v));
}
