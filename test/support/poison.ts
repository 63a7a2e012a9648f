import avro from 'avsc';
import type { KafkaMessage } from '../../libs/kafka/client.js';
import { decodeBatch } from '../../libs/kafka/decode-batch.js';
import type { EventCodec, RecordOf, RecordTopic } from '../../libs/events/codec.js';
import { schemaOf } from '../../libs/events/schemas.js';
import { TOPICS, type RecordName } from '../../libs/events/topics.js';

/** Paths of every timestamp-millis field of a record schema, nested records included. */
export function timestampPaths(schema: { fields?: { name: string; type: unknown }[] }, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const field of schema.fields ?? []) {
    const branches = Array.isArray(field.type) ? field.type : [field.type];
    for (const branch of branches) {
      const t = branch as { type?: string; logicalType?: string; fields?: { name: string; type: unknown }[] };
      if (t.logicalType === 'timestamp-millis') out.push([...prefix, field.name]);
      else if (t.type === 'record') out.push(...timestampPaths(t, [...prefix, field.name]));
    }
  }
  return out;
}

/** A copy of a record with the field at `path` set to `value`. */
export function withField(record: unknown, path: string[], value: unknown): unknown {
  const [head, ...rest] = path as [string, ...string[]];
  const obj = record as Record<string, unknown>;
  return { ...obj, [head]: rest.length ? withField(obj[head], rest, value) : value };
}

/** Paths of the string fields of a record schema (optional ones included), nested records included. */
function stringPaths(schema: { fields?: { name: string; type: unknown }[] }, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const field of schema.fields ?? []) {
    const branches = Array.isArray(field.type) ? field.type : [field.type];
    for (const branch of branches) {
      const t = branch as string | { type?: string; fields?: { name: string; type: unknown }[] };
      if (t === 'string') out.push([...prefix, field.name]);
      else if (typeof t === 'object' && t.type === 'record') out.push(...stringPaths(t, [...prefix, field.name]));
    }
  }
  return out;
}

/** Avro's zig-zag varint of an integer of any size. */
export function varint(n: bigint): number[] {
  let z = n >= 0n ? n << 1n : ((-n) << 1n) - 1n;
  const out: number[] = [];
  do {
    let b = Number(z & 0x7fn);
    z >>= 7n;
    if (z > 0n) b |= 0x80;
    out.push(b);
  } while (z > 0n);
  return out;
}

/** Times no calendar this pipeline keeps holds: past year 9999, before 1970, the largest long avsc reads. */
const OUT_OF_CALENDAR = [9_000_000_000_000_000, 9_007_199_254_740_990, Date.UTC(10000, 0, 1), -1, -9_000_000_000_000_000, Date.UTC(1969, 11, 31)];

export type Damage =
  | 'bit flips'
  | 'truncated'
  | 'huge length'
  | 'array bomb'
  | 'time past the calendar'
  | 'unknown schema id'
  | "another record's schema id"
  | 'empty value'
  | 'null value'
  | 'absurdly long string'
  | 'empty id'
  | 'NUL in a string'
  | 'wrong magic byte'
  | 'trailing bytes'
  | 'random bytes';

export const DAMAGES: readonly Damage[] = [
  'bit flips', 'truncated', 'huge length', 'array bomb', 'time past the calendar', 'unknown schema id', "another record's schema id",
  'empty value', 'null value', 'absurdly long string', 'empty id', 'NUL in a string', 'wrong magic byte', 'trailing bytes', 'random bytes',
];

/** Damage no record survives, whatever it was: each of these must be refused. */
export const CERTAIN_POISON: ReadonlySet<Damage> = new Set<Damage>([
  'truncated', 'huge length', 'array bomb', 'time past the calendar', 'unknown schema id', "another record's schema id",
  'empty value', 'null value', 'NUL in a string', 'wrong magic byte', 'trailing bytes',
]);

/**
 * Damages a valid record of a topic the way a broken producer or an attacker would, as wire
 * bytes. `schemaIds` are the registered ids of this environment's subjects (for a record
 * written with another topic's schema). Some damage leaves a record that still decodes and
 * validates: classify() tells which.
 */
export function damage<T extends RecordTopic>(
  kind: Damage,
  topic: T,
  record: RecordOf<T>,
  wire: Buffer,
  rnd: () => number,
  schemaIds: Map<RecordTopic, number>,
): Buffer | null {
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(rnd() * xs.length)] as X;
  const schema = schemaOf(TOPICS[topic].record as RecordName) as { fields?: { name: string; type: unknown }[] };
  const type = avro.Type.forSchema(schema as avro.Schema);
  const header = wire.subarray(0, 5);
  const encode = (value: unknown) => Buffer.concat([header, type.toBuffer(value)]);
  switch (kind) {
    case 'bit flips': {
      const out = Buffer.from(wire);
      for (let i = int(1, 3); i > 0; i--) {
        const at = int(5, out.length - 1);
        out[at] = (out[at] as number) ^ (1 << int(0, 7));
      }
      return out;
    }
    case 'truncated':
      return wire.subarray(0, int(0, wire.length - 1));
    case 'huge length':
      // Every input record starts with a string: its length now claims far more than is there.
      return Buffer.concat([header, Buffer.from(varint(BigInt(int(1_000, 2 ** 31)) * BigInt(int(1, 2 ** 20)))), wire.subarray(6)]);
    case 'array bomb': {
      // A CoordinatorScope declaring 4,294,967,295 mentors in a few bytes; on other topics, any
      // first-field count past what the bytes carry.
      if (topic !== 'coordinatorScopes') return Buffer.concat([header, Buffer.from(varint(4_294_967_295n)), wire.subarray(6, 12)]);
      const s = record as RecordOf<'coordinatorScopes'>;
      const str = (x: string) => [...varint(BigInt(Buffer.byteLength(x))), ...Buffer.from(x)];
      return Buffer.concat([header, Buffer.from([...str(s.orgId), ...str(s.coordinatorId), ...varint(pick([4_294_967_295n, -4_294_967_295n, 2n ** 62n])), ...str('m')])]);
    }
    case 'time past the calendar':
      return encode(withField(record, pick(timestampPaths(schema)), pick(OUT_OF_CALENDAR)));
    case 'unknown schema id': {
      const out = Buffer.from(wire);
      out.writeInt32BE(pick([int(1_000_000, 2 ** 31 - 1), -int(1, 2 ** 31), 0]), 1);
      return out;
    }
    case "another record's schema id": {
      const out = Buffer.from(wire);
      out.writeInt32BE(pick([...schemaIds].filter(([t]) => t !== topic).map(([, id]) => id)), 1);
      return out;
    }
    case 'empty value':
      return Buffer.alloc(0);
    case 'null value':
      return null;
    case 'absurdly long string':
      return encode(withField(record, pick(stringPaths(schema)), 'x'.repeat(int(300, 200_000))));
    case 'empty id':
      return encode(withField(record, pick(stringPaths(schema)), pick(['', ' ', '\t\n'])));
    case 'NUL in a string':
      return encode(withField(record, pick(stringPaths(schema)), `a\u0000b`));
    case 'wrong magic byte': {
      const out = Buffer.from(wire);
      out[0] = int(1, 255);
      return out;
    }
    case 'trailing bytes':
      return Buffer.concat([wire, Buffer.from(Array.from({ length: int(1, 8) }, () => int(0, 255)))]);
    case 'random bytes':
      return Buffer.concat([header, Buffer.from(Array.from({ length: int(0, 64) }, () => int(0, 255)))]);
  }
}

/**
 * What the ingest worker will make of a value: the dead letter it becomes (error class and
 * reason), or null when it decodes to a valid record. The same decodeBatch the worker runs.
 */
export async function classify<T extends RecordTopic>(
  codec: EventCodec,
  topic: T,
  value: Buffer | null,
  validate: (record: RecordOf<T>) => string | null,
): Promise<{ errorClass: string; reason: string } | null> {
  const message = { key: null, value, offset: '0', timestamp: '0', attributes: 0, headers: {} } as KafkaMessage;
  const { dead } = await decodeBatch(codec, topic, [message], validate);
  const first = dead[0];
  return first ? { errorClass: first.error.name, reason: first.error.message } : null;
}
