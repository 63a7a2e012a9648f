import type avro from 'avsc';
import { PoisonRecordError } from './poison-record-error.js';

/**
 * Walks Avro binary against its writer schema without building a value, and refuses it
 * (PoisonRecordError) unless every declared length and count fits in the bytes that carry it.
 * avsc trusts what the bytes declare: an array block that claims 4,294,967,295 items makes it
 * allocate until the process dies. Run this first, and avsc only ever reads what is there.
 *
 * What it refuses, before anything is allocated:
 * - a string, bytes or fixed longer than the bytes left;
 * - an array or map block declaring more items than the bytes left could hold (each item
 *   takes at least its type's smallest encoding, and at least one byte), or, over the whole
 *   record, more items than the record has bytes (so an array of nulls stays small too);
 * - a negative block count whose byte size is negative, past the end, or not what its items take;
 * - a union or enum index out of range, a boolean other than 0 or 1;
 * - an int varint over 5 bytes or outside 32 bits, a long varint over 10 bytes or beyond
 *   ±(2^53 - 2) (what avsc reads into a number exactly), a float or double cut off;
 * - records nested deeper than MAX_DEPTH (a recursive writer schema);
 * - more steps (fields, items, branches) than STEPS_PER_BYTE per byte of the record, plus
 *   STEPS_FREE: nulls and records take no bytes, so a writer schema of records nested two by
 *   two 40 deep (2.6 kB) made an 8-byte record a walk of 2^40 fields, and the worker's event
 *   loop froze on it for hours;
 * - anything cut off, and bytes left over after the record.
 */
export type AvroScan = (body: Buffer) => void;

/** Deepest nesting of records, arrays, maps and unions a value may have. */
export const MAX_DEPTH = 64;

/**
 * The steps a record may take: STEPS_PER_BYTE per byte and STEPS_FREE besides. Our own records
 * take one or two steps a byte (a field of a few bytes, a union's index and its branch); a
 * 1 MiB record may still take 16 million, a few tens of milliseconds.
 */
export const STEPS_PER_BYTE = 16;
export const STEPS_FREE = 4096;

class Cursor {
  pos = 0;
  items = 0;
  depth = 0;
  steps = 0;
  readonly maxSteps: number;
  constructor(readonly buf: Buffer) {
    this.maxSteps = STEPS_PER_BYTE * buf.length + STEPS_FREE;
  }
  left(): number {
    return this.buf.length - this.pos;
  }
}

/** A problem found at a byte offset; the steps above it add the field path on the way out. */
class ScanFailure extends Error {
  path: string[] = [];
}

const fail = (c: Cursor, what: string): never => {
  throw new ScanFailure(`${what} (at byte ${c.pos})`);
};

/**
 * A zig-zag varint of at most `maxBytes` bytes. Float arithmetic keeps values past 2^53
 * approximately, which is all the range checks need.
 */
function readVarint(c: Cursor, maxBytes: number, what: string): number {
  let n = 0;
  let scale = 1;
  for (let i = 0; i < maxBytes; i++) {
    if (c.pos >= c.buf.length) fail(c, `${what} is cut off`);
    const b = c.buf[c.pos++] as number;
    n += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return n % 2 === 1 ? -(n + 1) / 2 : n / 2;
    scale *= 128;
  }
  return fail(c, `${what} is a varint longer than ${maxBytes} bytes`);
}

/** The largest long avsc reads into a number without losing precision (2^53 - 2). */
const MAX_LONG = 9007199254740990;

function readLong(c: Cursor, what: string): number {
  const start = c.pos;
  const n = readVarint(c, 10, what);
  if (n > MAX_LONG || n < -MAX_LONG) {
    c.pos = start;
    fail(c, `${what} is beyond ±2^53`);
  }
  return n;
}

/** A length or byte size: never negative, never more than the bytes left after it. */
function readLength(c: Cursor, what: string): number {
  const start = c.pos;
  const n = readLong(c, what);
  if (n < 0 || n > c.left()) {
    const left = c.left();
    c.pos = start;
    fail(c, n < 0 ? `${what} ${n} is negative` : `${what} ${n} exceeds the ${left} bytes left`);
  }
  return n;
}

type Step = (c: Cursor) => void;

/** A string or bytes: its length, then that many bytes. */
const lengthPrefixed = (what: string): Step => (c) => {
  const n = readLength(c, `${what} length`);
  c.pos += n;
};

/** Builds the scan for a writer type once; the result is called per record. */
export function compileAvroScan(writer: avro.Type): AvroScan {
  const steps = new Map<avro.Type, Step>();
  const minSizes = new Map<avro.Type, number>();

  /** The fewest bytes a value of the type takes (a lower bound; 0 inside a cycle). */
  function minSize(type: avro.Type): number {
    const known = minSizes.get(type);
    if (known !== undefined) return known;
    minSizes.set(type, 0);
    const t = type as unknown as { typeName: string; fields?: { type: avro.Type }[]; types?: avro.Type[]; size?: number; underlyingType?: avro.Type };
    let size: number;
    if (t.typeName === 'null') size = 0;
    else if (t.typeName === 'float') size = 4;
    else if (t.typeName === 'double') size = 8;
    else if (t.typeName === 'fixed') size = t.size ?? 0;
    else if (t.typeName === 'record' || t.typeName === 'error') size = (t.fields ?? []).reduce((sum, f) => sum + minSize(f.type), 0);
    else if (t.typeName.startsWith('union:')) size = 1 + Math.min(...(t.types ?? []).map(minSize));
    else if (t.typeName.startsWith('logical:') && t.underlyingType) size = minSize(t.underlyingType);
    else size = 1; // boolean, int, long, string, bytes, enum, array, map
    minSizes.set(type, size);
    return size;
  }

  function stepFor(type: avro.Type): Step {
    const known = steps.get(type);
    if (known) return known;
    // A recursive record refers to itself: the entry is in place before its fields compile.
    const slot: { step?: Step } = {};
    steps.set(type, (c) => (slot.step as Step)(c));
    slot.step = compile(type);
    steps.set(type, slot.step);
    return slot.step;
  }

  function nested(c: Cursor, label: string, step: Step): void {
    if (++c.depth > MAX_DEPTH) fail(c, `nested deeper than ${MAX_DEPTH}`);
    if (++c.steps > c.maxSteps) fail(c, `more than ${c.maxSteps} fields, items and branches for ${c.buf.length} bytes`);
    try {
      step(c);
    } catch (err) {
      if (err instanceof ScanFailure) err.path.unshift(label);
      throw err;
    }
    c.depth--;
  }

  /** Array and map blocks: a count (negative: followed by the block's byte size), items, until a count of 0. */
  function blocks(item: Step, itemSize: number, label: (i: number) => string): Step {
    const each = Math.max(itemSize, 1);
    return (c) => {
      let index = 0;
      for (;;) {
        const start = c.pos;
        let count = readLong(c, 'block count');
        if (count === 0) return;
        let end = -1;
        if (count < 0) {
          count = -count;
          const size = readLength(c, 'block byte size');
          end = c.pos + size;
        }
        if (count * each > c.left()) {
          const left = c.left();
          c.pos = start;
          fail(c, `block declares ${count} items, more than the ${left} bytes left can hold`);
        }
        c.items += count;
        if (c.items > c.buf.length) fail(c, `${c.items} items in all, more than the record's ${c.buf.length} bytes`);
        for (let i = 0; i < count; i++, index++) nested(c, label(index), item);
        if (end >= 0 && c.pos !== end) fail(c, `block byte size says it ends at byte ${end}`);
      }
    };
  }

  function compile(type: avro.Type): Step {
    const t = type as unknown as {
      typeName: string;
      fields?: { name: string; type: avro.Type }[];
      types?: avro.Type[];
      symbols?: string[];
      size?: number;
      itemsType?: avro.Type;
      valuesType?: avro.Type;
      underlyingType?: avro.Type;
    };
    switch (t.typeName) {
      case 'null':
        return () => undefined;
      case 'boolean':
        return (c) => {
          if (c.pos >= c.buf.length) fail(c, 'boolean is cut off');
          if ((c.buf[c.pos] as number) > 1) fail(c, `boolean byte ${c.buf[c.pos]} is neither 0 nor 1`);
          c.pos++;
        };
      case 'int':
        return (c) => {
          const start = c.pos;
          const n = readVarint(c, 5, 'int');
          if (n > 2147483647 || n < -2147483648) {
            c.pos = start;
            fail(c, `int ${n} is outside 32 bits`);
          }
        };
      case 'long':
        return (c) => void readLong(c, 'long');
      case 'float':
      case 'double': {
        const size = t.typeName === 'float' ? 4 : 8;
        return (c) => {
          if (c.left() < size) fail(c, `${t.typeName} is cut off`);
          c.pos += size;
        };
      }
      case 'string':
      case 'bytes':
        return lengthPrefixed(t.typeName);
      case 'fixed': {
        const size = t.size ?? 0;
        return (c) => {
          if (c.left() < size) fail(c, `fixed of ${size} bytes is cut off`);
          c.pos += size;
        };
      }
      case 'enum': {
        const count = (t.symbols ?? []).length;
        return (c) => {
          const start = c.pos;
          const index = readLong(c, 'enum index');
          if (index < 0 || index >= count) {
            c.pos = start;
            fail(c, `enum index ${index} is not one of the ${count} symbols`);
          }
        };
      }
      case 'union:unwrapped':
      case 'union:wrapped': {
        const branches = (t.types ?? []).map(stepFor);
        return (c) => {
          const start = c.pos;
          const index = readLong(c, 'union index');
          const branch = branches[index];
          if (!branch) {
            c.pos = start;
            fail(c, `union index ${index} is not one of the ${branches.length} branches`);
          }
          nested(c, `<${index}>`, branch as Step);
        };
      }
      case 'record':
      case 'error': {
        const fields = (t.fields ?? []).map((f) => ({ name: f.name, step: stepFor(f.type) }));
        return (c) => {
          for (const f of fields) nested(c, f.name, f.step);
        };
      }
      case 'array': {
        const items = t.itemsType as avro.Type;
        return blocks(stepFor(items), minSize(items), (i) => `[${i}]`);
      }
      case 'map': {
        const values = t.valuesType as avro.Type;
        const key = lengthPrefixed('map key');
        const value = stepFor(values);
        const entry: Step = (c) => {
          key(c);
          value(c);
        };
        return blocks(entry, 1 + minSize(values), (i) => `{${i}}`);
      }
      default:
        if (t.typeName.startsWith('logical:') && t.underlyingType) return stepFor(t.underlyingType);
        throw new PoisonRecordError(`cannot scan Avro type ${t.typeName}`);
    }
  }

  const root = stepFor(writer);
  return (body) => {
    const c = new Cursor(body);
    try {
      root(c);
      if (c.pos !== body.length) fail(c, `${body.length - c.pos} bytes left over after the record`);
    } catch (err) {
      if (err instanceof ScanFailure) {
        const where = err.path.filter((p) => !p.startsWith('<')).join('.').replace(/\.\[/g, '[').replace(/\.\{/g, '{');
        throw new PoisonRecordError(where ? `${where}: ${err.message}` : err.message);
      }
      throw err;
    }
  };
}
