import { describe, expect, it } from 'vitest';
import avro from 'avsc';
import fc from 'fast-check';
import { createRecordReader } from './read-record.js';
import { PoisonRecordError } from './poison-record-error.js';
import { MAX_DEPTH } from './scan-avro.js';
import { schemaOf } from './schemas.js';
import { RECORD_NAMES, TOPICS, type RecordName } from './topics.js';
import { FIXTURES } from './fixtures.js';
import type { RecordTopic } from './codec.js';

const typeOf = (name: RecordName): avro.Type => avro.Type.forSchema(schemaOf(name) as avro.Schema);
const readerOf = (name: RecordName) => createRecordReader(typeOf(name), typeOf(name));

/** Avro's zig-zag varint of any 64-bit (or wider, to forge) integer. */
function varint(n: bigint): number[] {
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
const str = (s: string): number[] => [...varint(BigInt(Buffer.byteLength(s))), ...Buffer.from(s)];
const long = (n: number): number[] => varint(BigInt(n));
/** A wire value as a producer would send it: magic byte 0, 4-byte schema id, Avro binary. */
const wire = (schemaId: number, body: number[]): Buffer => Buffer.from([0, ...[24, 16, 8, 0].map((s) => (schemaId >>> s) & 0xff), ...body]);
const bodyOf = (value: Buffer): Buffer => value.subarray(5);

/** What a refusal says, or 'decoded' when the reader accepted the bytes. */
function refusal(read: (body: Buffer) => unknown, body: Buffer | number[]): string {
  try {
    read(Buffer.from(body));
    return 'decoded';
  } catch (err) {
    expect(err).toBeInstanceOf(PoisonRecordError);
    return (err as Error).message;
  }
}

describe('reading a record against its writer schema', () => {
  it('refuses the array bomb: a CoordinatorScope whose array block declares 4,294,967,295 items in 13 bytes', () => {
    // Had avsc seen it, it would have tried to allocate the array and killed this process.
    const bomb = wire(7, [...str('org'), ...str('c'), ...varint(4_294_967_295n), ...str('m')]);
    expect(bomb.length - 5).toBe(13);
    expect(refusal(readerOf('CoordinatorScope'), bodyOf(bomb))).toBe('mentorIds: block declares 4294967295 items, more than the 2 bytes left can hold (at byte 6)');
    // The same count written as a negative block (followed by a byte size) is refused alike.
    const negative = [...str('org'), ...str('c'), ...varint(-4_294_967_295n), ...long(2), ...str('m'), 0];
    expect(refusal(readerOf('CoordinatorScope'), negative)).toMatch(/^mentorIds: block declares 4294967295 items, more than the 3 bytes left can hold/);
  });

  it('refuses a string or array whose declared length is more than the bytes left', () => {
    const scope = readerOf('CoordinatorScope');
    expect(refusal(scope, [...long(2_000_000_000), 0x6f, 0x72, 0x67])).toBe('orgId: string length 2000000000 exceeds the 3 bytes left (at byte 0)');
    expect(refusal(scope, [...str('org'), ...str('c'), ...long(5), ...str('a'), ...str('b')])).toBe('mentorIds: block declares 5 items, more than the 4 bytes left can hold (at byte 6)');
    expect(refusal(scope, [...str('org'), ...str('c'), ...long(3), ...str('a'), ...str('b')])).toBe('mentorIds[2]: string length is cut off (at byte 11)');
    expect(refusal(scope, [...str('org'), ...str('c'), ...long(1), ...long(40), 0x61, 0x62])).toBe('mentorIds[0]: string length 40 exceeds the 2 bytes left (at byte 7)');
    expect(refusal(scope, [...long(-3), 0x61])).toBe('orgId: string length -3 is negative (at byte 0)');
    // A negative block count's byte size must be what its items take.
    expect(refusal(scope, [...str('org'), ...str('c'), ...long(-1), ...long(1), ...str('ab'), 0, ...long(Date.UTC(2026, 0, 1))])).toMatch(/^mentorIds: block byte size says it ends at byte 9 \(at byte 11\)/);
  });

  it('refuses every truncation of a valid encoding of every record', () => {
    for (const name of RECORD_NAMES) {
      const topic = (Object.keys(TOPICS) as RecordTopic[]).find((t) => TOPICS[t].record === name) as RecordTopic;
      const full = typeOf(name).toBuffer(FIXTURES[topic]);
      const read = readerOf(name);
      expect(read(full), name).toEqual(FIXTURES[topic]);
      for (let n = 0; n < full.length; n++) expect(refusal(read, full.subarray(0, n)), `${name} cut to ${n} bytes`).not.toBe('decoded');
    }
  });

  it('refuses bytes left over after the record', () => {
    const full = typeOf('UserLoggedIn').toBuffer(FIXTURES.userLogins);
    expect(refusal(readerOf('UserLoggedIn'), [...full, 0])).toBe(`1 bytes left over after the record (at byte ${full.length})`);
  });

  it('refuses a union or enum index out of range, a boolean that is neither 0 nor 1, and longs no number holds', () => {
    const click = readerOf('InviteClicked');
    const head = [...str('e'), ...str('l'), ...long(Date.UTC(2026, 0, 1))];
    expect(refusal(click, [...head, ...long(5), ...str('x')])).toMatch(/^visitor\.ip: union index 5 is not one of the 2 branches/);
    expect(refusal(click, [...head, ...long(-1)])).toMatch(/^visitor\.ip: union index -1 is not one of the 2 branches/);
    expect(refusal(click, [...head, 0, 0, 0, ...long(1), ...long(4), 0, 0])).toMatch(/^visitor\.platform: enum index 4 is not one of the 4 symbols/);
    const funnel = readerOf('ReferralEventRecorded');
    const event = [...str('e'), ...str('o'), ...str('m'), ...str('l'), 0, 0, 0, ...long(2)];
    expect(refusal(funnel, [...event, 2, ...long(1), 0])).toMatch(/^uniqueVisitor: boolean byte 2 is neither 0 nor 1/);
    const login = readerOf('UserLoggedIn');
    expect(refusal(login, [...str('e'), ...str('u'), ...varint(2n ** 60n)])).toMatch(/^occurredAt: long is beyond ±2\^53/);
    expect(refusal(login, [...str('e'), ...str('u'), ...Array(10).fill(0xff), 0x01])).toMatch(/^occurredAt: long is a varint longer than 10 bytes/);
  });

  it('refuses a huge map, an array of zero-byte items longer than its record, and nesting past the limit', () => {
    const withMap = avro.Type.forSchema({ type: 'record', name: 'Tagged', fields: [{ name: 'tags', type: { type: 'map', values: 'string' } }] });
    const tagged = createRecordReader(withMap, withMap);
    expect(refusal(tagged, [...long(2 ** 31), ...str('k'), ...str('v'), 0])).toBe('tags: block declares 2147483648 items, more than the 5 bytes left can hold (at byte 0)');
    expect(refusal(tagged, [...long(1), ...long(1e9), 0x6b])).toBe('tags{0}: map key length 1000000000 exceeds the 1 bytes left (at byte 1)');
    expect(tagged(Buffer.from([...long(1), ...str('k'), ...str('v'), 0]))).toEqual({ tags: { k: 'v' } });

    const nulls = avro.Type.forSchema({ type: 'record', name: 'Nulls', fields: [{ name: 'n', type: { type: 'array', items: 'null' } }] });
    const readNulls = createRecordReader(nulls, nulls);
    expect(readNulls(Buffer.from([...long(1), 0]))).toEqual({ n: [null] });
    expect(refusal(readNulls, [...long(2), 0])).toBe('n: block declares 2 items, more than the 1 bytes left can hold (at byte 0)');
    // Each block within the bytes left, but together more items than the record has bytes.
    expect(refusal(readNulls, [...long(2), ...long(2), ...long(2), ...long(2), 0])).toBe("n: 6 items in all, more than the record's 5 bytes (at byte 3)");

    const list = avro.Type.forSchema({ type: 'record', name: 'Node', fields: [{ name: 'next', type: ['null', 'Node'] }] });
    const chain = (depth: number) => [...Array(depth).fill(2), 0];
    expect(createRecordReader(list, list)(Buffer.from(chain(10)))).toBeTruthy();
    expect(refusal(createRecordReader(list, list), chain(MAX_DEPTH))).toMatch(new RegExp(`nested deeper than ${MAX_DEPTH}`));
  });

  it('refuses a record that walks more fields than its bytes pay for: records of nulls nested two by two', () => {
    // L0 holds two nulls, each Ln two of L(n-1): an 8-byte UserLoggedIn whose extra field is
    // an L40 walks 2^41 fields (hours, the event loop frozen) though its schema is 2.6 kB.
    const levels = (depth: number): object => {
      let type: object = { type: 'record', name: 'L0', fields: [{ name: 'a', type: 'null' }, { name: 'b', type: 'null' }] };
      for (let n = 1; n <= depth; n++) type = { type: 'record', name: `L${n}`, fields: [{ name: 'a', type }, { name: 'b', type: `L${n - 1}` }] };
      return type;
    };
    const reader = typeOf('UserLoggedIn');
    const body = (writer: avro.Type) => writer.toBuffer({ ...FIXTURES.userLogins, deep: null });
    const writerOf = (depth: number) => avro.Type.forSchema({ ...schemaOf('UserLoggedIn'), fields: [...(schemaOf('UserLoggedIn').fields as object[]), { name: 'deep', type: ['null', levels(depth)] }] } as avro.Schema);
    const shallow = writerOf(3);
    const withDeep = (writer: avro.Type) => {
      const plain = body(writer);
      // The same fields, then branch 1 of the union: a value of the nested records, all nulls, no bytes.
      return Buffer.concat([plain.subarray(0, plain.length - 1), Buffer.from([2])]);
    };
    expect(createRecordReader(reader, shallow)(withDeep(shallow))).toMatchObject({ eventId: FIXTURES.userLogins.eventId });
    const deep = writerOf(40);
    const started = process.hrtime.bigint();
    expect(refusal(createRecordReader(reader, deep), [...withDeep(deep)])).toMatch(/^deep\..*more than \d+ fields, items and branches for \d+ bytes/);
    // Refused at the budget, not after the walk (the budget is a few thousand steps here).
    expect(Number(process.hrtime.bigint() - started) / 1e6).toBeLessThan(5_000);
  });

  it('reads through a resolver when the writer schema differs, scanning the fields the reader skips', () => {
    const reader = typeOf('UserLoggedIn');
    const writer = avro.Type.forSchema({ ...schemaOf('UserLoggedIn'), fields: [...(schemaOf('UserLoggedIn').fields as object[]), { name: 'note', type: 'string' }] } as avro.Schema);
    const read = createRecordReader(reader, writer);
    const good = [...str('e'), ...str('u'), ...long(Date.UTC(2026, 0, 1)), ...str('hello')];
    expect(read(Buffer.from(good))).toEqual({ eventId: 'e', userId: 'u', occurredAt: Date.UTC(2026, 0, 1) });
    // avsc skips a field the reader lacks by its declared length; the scan refuses the lie first.
    expect(refusal(read, [...str('e'), ...str('u'), ...long(Date.UTC(2026, 0, 1)), ...long(1e12)])).toMatch(/^note: string length 1000000000000 exceeds/);
  });
});

/** Valid values of an Avro type, shrinkable, from the schema alone. */
function valuesOf(type: avro.Type): fc.Arbitrary<unknown> {
  const t = type as unknown as { typeName: string; fields?: { name: string; type: avro.Type }[]; types?: avro.Type[]; symbols?: string[]; itemsType?: avro.Type };
  switch (t.typeName) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'long':
      return fc.oneof(fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2030, 0, 1) }), fc.integer({ min: -9007199254740990, max: 9007199254740990 }), fc.constantFrom(0, -1, 9007199254740990, -9007199254740990));
    case 'string':
      return fc.string({ unit: 'binary', maxLength: 30 });
    case 'enum':
      return fc.constantFrom(...(t.symbols ?? []));
    case 'array':
      return fc.array(valuesOf(t.itemsType as avro.Type), { maxLength: 4 });
    case 'map':
      return fc.dictionary(fc.string({ maxLength: 8 }), valuesOf((t as unknown as { valuesType: avro.Type }).valuesType), { maxKeys: 4 });
    case 'double':
      return fc.double();
    case 'union:unwrapped':
      return fc.oneof(...(t.types ?? []).map(valuesOf));
    case 'record':
      return fc.record(Object.fromEntries((t.fields ?? []).map((f) => [f.name, valuesOf(f.type)])));
    default:
      throw new Error(`no generator for ${t.typeName}`);
  }
}

/** The damage a broken producer or an attacker does to bytes. */
type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'cut'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'remove'; at: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.oneof(fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 8 }), fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }).map(varint)) }),
  fc.record({ kind: fc.constant('remove' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(bytes: Buffer, mutations: Mutation[]): Buffer {
  let out = [...bytes];
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % (out.length + 1);
    if (m.kind === 'flip' && at < out.length) out[at] = (out[at] as number) ^ (1 << m.bit);
    else if (m.kind === 'set' && at < out.length) out[at] = m.byte;
    else if (m.kind === 'cut') out = out.slice(0, at);
    else if (m.kind === 'insert') out.splice(at, 0, ...m.bytes);
    else if (m.kind === 'remove') out.splice(at, m.count);
  }
  return Buffer.from(out);
}

describe('random damage to valid encodings', () => {
  /** InviteClicked as a newer producer might write it: fields this reader lacks and skips. */
  const evolved = avro.Type.forSchema({
    ...schemaOf('InviteClicked'),
    fields: [
      ...(schemaOf('InviteClicked').fields as object[]),
      { name: 'tags', type: { type: 'map', values: { type: 'array', items: 'long' } } },
      { name: 'score', type: ['null', 'double', 'boolean'] },
    ],
  } as avro.Schema);
  const cases: [string, avro.Type, avro.Type][] = [
    ...RECORD_NAMES.map((name): [string, avro.Type, avro.Type] => [name, typeOf(name), typeOf(name)]),
    ['InviteClicked written with extra fields', typeOf('InviteClicked'), evolved],
  ];

  it.each(cases)('a damaged %s decodes to a valid record or is refused as poison, never anything else', (_name, type, writer) => {
    const read = createRecordReader(type, writer);
    const outcomes = { decoded: 0, refused: 0 };
    fc.assert(
      fc.property(valuesOf(writer), fc.array(mutation, { minLength: 1, maxLength: 4 }), (value, mutations) => {
        const damaged = mutate(writer.toBuffer(value), mutations);
        let decoded: unknown;
        try {
          decoded = read(damaged);
        } catch (err) {
          if (!(err instanceof PoisonRecordError)) throw err;
          outcomes.refused++;
          return;
        }
        outcomes.decoded++;
        expect(type.isValid(decoded)).toBe(true);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 1500) },
    );
    // Both outcomes really occur: the damage is neither always fatal nor always harmless.
    expect(outcomes.decoded).toBeGreaterThan(0);
    expect(outcomes.refused).toBeGreaterThan(0);
  }, 60_000);
});
