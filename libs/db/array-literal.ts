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

/**
 * Element types an array parameter can be sent as in Postgres' binary array format, by the cast
 * its statement gives it (`$1::text[]`), with their type OIDs: Postgres checks the element type
 * written in the array against the parameter's, so a wrong guess is an error, never a wrong value.
 */
const BINARY_ELEMENTS = { text: 25, timestamptz: 1184, bool: 16, boolean: 16, int: 23, int4: 23, integer: 23, bigint: 20, int8: 20 } as const;
export type BinaryElement = keyof typeof BINARY_ELEMENTS;

/** Postgres' epoch (2000-01-01 UTC) in Unix milliseconds: its timestamps count microseconds from there. */
const POSTGRES_EPOCH_MS = 946_684_800_000;
const TWO_32 = 2 ** 32;
const MAX_EXACT_MS = Math.floor(Number.MAX_SAFE_INTEGER / 1000);
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Bytes of one non-null element of `element` in the binary format, or -1 when `v` is not one Postgres would read back as given. */
function elementSize(element: BinaryElement, v: unknown): number {
  switch (element) {
    case 'text':
      return typeof v === 'string' ? Buffer.byteLength(v) : -1;
    case 'timestamptz': {
      if (!(v instanceof Date)) return -1;
      const t = v.getTime();
      return t >= FIRST_DATE && t <= LAST_DATE ? 8 : -1;
    }
    case 'bool':
    case 'boolean':
      return typeof v === 'boolean' ? 1 : -1;
    case 'int':
    case 'int4':
    case 'integer':
      return Number.isInteger(v) && (v as number) >= INT32_MIN && (v as number) <= INT32_MAX ? 4 : -1;
    case 'bigint':
    case 'int8':
      return Number.isSafeInteger(v) || (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX) ? 8 : -1;
  }
}

/** Writes a signed 64-bit integer given as a number (exact up to 2^53) or a bigint. */
function writeInt64(buffer: Buffer, value: number | bigint, at: number): void {
  if (typeof value === 'bigint' || !Number.isSafeInteger(value)) {
    buffer.writeBigInt64BE(BigInt(value), at);
    return;
  }
  const high = Math.floor(value / TWO_32);
  buffer.writeInt32BE(high, at);
  buffer.writeUInt32BE(value - high * TWO_32, at + 4);
}

/**
 * A one-dimensional array in Postgres' binary array format (what `array_recv` reads: dimensions,
 * a null flag, the element type, then each element's length and bytes), or undefined when an
 * element is not of `element` (the caller then sends the text literal).
 *
 * The text literal costs twice: here a string as long as the array (a few hundred kilobytes for
 * a batch's ids, which V8 allocates straight into its old generation, collected only by a full
 * collection), and in Postgres a parse of every element, quotes and all, and of every instant
 * from its ISO 8601 text. In binary each element is its length and its bytes: five arrays of
 * 4,000 elements (three of ids, two of instants) took 19–22 ms a round trip against 40–44 ms as
 * literals, of which encoding 3–4 ms against 8–9 (on this machine's Postgres).
 */
export function binaryArray(values: readonly unknown[], element: BinaryElement): Buffer | undefined {
  let size = values.length === 0 ? 12 : 20;
  let nulls = 0;
  const sizes = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      sizes[i] = -1;
      nulls = 1;
      size += 4;
      continue;
    }
    const bytes = elementSize(element, v);
    if (bytes < 0) return undefined;
    sizes[i] = bytes;
    size += 4 + bytes;
  }
  const buffer = Buffer.allocUnsafe(size);
  buffer.writeInt32BE(values.length === 0 ? 0 : 1, 0);
  buffer.writeInt32BE(nulls, 4);
  buffer.writeInt32BE(BINARY_ELEMENTS[element], 8);
  if (values.length === 0) return buffer;
  buffer.writeInt32BE(values.length, 12);
  buffer.writeInt32BE(1, 16); // lower bound
  let at = 20;
  for (let i = 0; i < values.length; i++) {
    const bytes = sizes[i]!;
    buffer.writeInt32BE(bytes, at);
    at += 4;
    if (bytes < 0) continue;
    const v = values[i];
    if (element === 'text') buffer.write(v as string, at, bytes, 'utf8');
    else if (element === 'timestamptz') {
      // Exact as a double within 285 years of 2000; instants further away go through a bigint.
      const ms = (v as Date).getTime() - POSTGRES_EPOCH_MS;
      writeInt64(buffer, Math.abs(ms) <= MAX_EXACT_MS ? ms * 1000 : BigInt(ms) * 1000n, at);
    }
    else if (bytes === 1) buffer[at] = v ? 1 : 0;
    else if (bytes === 4) buffer.writeInt32BE(v as number, at);
    else writeInt64(buffer, v as number | bigint, at);
    at += bytes;
  }
  return buffer;
}

const CAST = /\$(\d+)::([a-z][a-z0-9_]*)(\[\])?/gi;

/**
 * The parameters of a statement text that are cast to an array of a type binaryArray writes
 * (`$2::timestamptz[]`), by position (0-based). A parameter cast to anything else anywhere in
 * the text is left out: its type is then not certain from the text alone.
 */
export function binaryArrayCasts(text: string): Map<number, BinaryElement> {
  const casts = new Map<number, string>();
  const mixed = new Set<number>();
  for (const [, n, type, array] of text.matchAll(CAST)) {
    const position = Number(n) - 1;
    const cast = `${type!.toLowerCase()}${array ?? ''}`;
    if ((casts.get(position) ?? cast) !== cast) mixed.add(position);
    casts.set(position, cast);
  }
  const binary = new Map<number, BinaryElement>();
  for (const [position, cast] of casts) {
    const element = cast.slice(0, -2);
    if (!mixed.has(position) && cast.endsWith('[]') && Object.hasOwn(BINARY_ELEMENTS, element)) binary.set(position, element as BinaryElement);
  }
  return binary;
}

/**
 * Query parameters with each array sent in binary where the statement casts it to an array type
 * binaryArray writes and every element is of that type, else as a text literal (arrayLiteral),
 * else as given (node-postgres writes it).
 */
export function withArrayParameters(values: readonly unknown[], binary: ReadonlyMap<number, BinaryElement>): unknown[] {
  return values.map((v, i) => {
    if (!Array.isArray(v)) return v;
    const element = binary.get(i);
    return (element && binaryArray(v, element)) ?? arrayLiteral(v) ?? v;
  });
}
