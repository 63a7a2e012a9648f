import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_DECOMPRESSED_BYTES, registerCompressionCodecs } from './compression.js';

// kafkajs' fetch decoding as patched (patches/kafkajs+2.2.4.patch): a record batch it cannot
// read becomes one record at the batch's last offset naming why (`undecodable`) instead of an
// error that failed the whole fetch at every restart; one response decodes at most about
// 100,000 records; headers are read in linear time. Batches are built with kafkajs' own
// encoder, as a producer writes them and a broker returns them.
const require = createRequire(import.meta.url);
interface Encoder { buffer: Buffer; writeInt32(v: number): Encoder; writeBuffer(b: Buffer): Encoder; writeVarInt(v: number): Encoder; writeVarLong(v: number): Encoder; writeInt8(v: number): Encoder; writeVarIntBytes(b: Buffer | null): Encoder }
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => Encoder;
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => object;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch(o: object): Promise<Encoder> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (o: object) => Encoder;
const decodeMessages = require('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js') as (d: object) => Promise<Decoded[]>;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: string | number): object };

interface Decoded { offset: string; key: Buffer | null; value: Buffer | null; headers: Record<string, unknown>; undecodable?: string }

const GZIP = 1;

/** One record batch at `firstOffset`, as a fetch returns it (offset, length, batch). */
async function batch(firstOffset: number, records: Encoder[], compression = 0): Promise<Buffer> {
  const encoded = await RecordBatch({ compression, firstOffset: Long.fromValue(firstOffset), lastOffsetDelta: records.length - 1, records });
  return encoded.buffer;
}

const nulls = (n: number) => Array.from({ length: n }, (_, i) => Record({ offsetDelta: i, key: null, value: null }));

/** A partition's record set in a fetch response: its size, then its batches. */
const recordSet = (...batches: Buffer[]) => {
  const body = Buffer.concat(batches);
  return new Encoder().writeInt32(body.length).writeBuffer(body).buffer;
};

beforeAll(() => registerCompressionCodecs());

describe('kafkajs fetch decoding (patched)', () => {
  it('reads ordinary batches as before: every record, its offset, key, value and headers', async () => {
    const records = [Record({ offsetDelta: 0, key: Buffer.from('k'), value: Buffer.from('v1'), headers: { a: Buffer.from('x') } }), Record({ offsetDelta: 1, key: null, value: Buffer.from('v2') })];
    for (const compression of [0, GZIP]) {
      const out = await decodeMessages(new Decoder(recordSet(await batch(40, records, compression))));
      expect(out.map((r) => [r.offset, r.key?.toString() ?? null, r.value?.toString(), Object.keys(r.headers), r.undecodable])).toEqual([
        ['40', 'k', 'v1', ['a'], undefined],
        ['41', null, 'v2', [], undefined],
      ]);
    }
  });

  it('turns a batch of more than 100,000 records into one undecodable record at its last offset, and reads the batch after it', async () => {
    // 150,000 records: the spread into the fetch's list overflowed the stack (RangeError) before.
    for (const compression of [0, GZIP]) {
      const big = await batch(1000, nulls(150_000), compression);
      const out = await decodeMessages(new Decoder(recordSet(big, await batch(151_000, nulls(2), compression))));
      expect(out).toHaveLength(3);
      expect(out[0]?.offset).toBe('150999');
      expect(out[0]?.undecodable).toBe('RangeError: the batch claims 150000 records (at most 100000)');
      // Its value is the whole batch as the broker returned it: offset, length and body.
      expect(out[0]?.value?.equals(big)).toBe(true);
      expect(out.slice(1).map((r) => [r.offset, r.undecodable])).toEqual([
        ['151000', undefined],
        ['151001', undefined],
      ]);
    }
  }, 60_000);

  it('turns a gzip batch larger than the bound once decompressed into one undecodable record', async () => {
    const bomb = Record({ offsetDelta: 0, key: null, value: Buffer.alloc(MAX_DECOMPRESSED_BYTES + 1) });
    const wire = await batch(7, [bomb], GZIP);
    expect(wire.length).toBeLessThan(1024 * 1024); // what a producer writes and a broker accepts
    const out = await decodeMessages(new Decoder(recordSet(wire)));
    expect(out).toHaveLength(1);
    expect(out[0]?.offset).toBe('7');
    expect(out[0]?.undecodable).toMatch(/^RangeError: .*(larger than|exceeds)/i);
  }, 60_000);

  it('turns a record whose header count lies into an undecodable batch, not billions of empty headers', async () => {
    const body = new Encoder().writeInt8(0).writeVarLong(0).writeVarInt(0).writeVarIntBytes(null).writeVarIntBytes(null).writeVarInt(2 ** 30).buffer;
    const lying = new Encoder().writeVarInt(body.length).writeBuffer(body);
    const out = await decodeMessages(new Decoder(recordSet(await batch(3, [lying]))));
    expect(out).toHaveLength(1);
    expect(out[0]?.undecodable).toBe(`RangeError: a record claims ${2 ** 30} headers in 0 bytes`);
  });

  it('reads 300,000 headers of one key in linear time, and headers named like Object members as headers', async () => {
    // Quadratic before: every header copied the object, and every repeat the key's array.
    const many = Record({ offsetDelta: 0, key: null, value: Buffer.from('v'), headers: { h: Array.from({ length: 300_000 }, () => Buffer.alloc(0)) } });
    const named = Record({ offsetDelta: 1, key: null, value: Buffer.from('w'), headers: { toString: Buffer.from('t'), constructor: Buffer.from('c') } });
    const proto = new Encoder().writeInt8(0).writeVarLong(0).writeVarInt(2).writeVarIntBytes(null).writeVarIntBytes(Buffer.from('p')).writeVarInt(1).writeVarInt(9).writeBuffer(Buffer.from('__proto__')).writeVarIntBytes(Buffer.from('x')).buffer;
    const out = await decodeMessages(new Decoder(recordSet(await batch(0, [many, named, new Encoder().writeVarInt(proto.length).writeBuffer(proto)], GZIP))));
    expect(out.map((r) => r.undecodable)).toEqual([undefined, undefined, undefined]);
    expect((out[0]?.headers.h as Buffer[]).length).toBe(300_000);
    expect(Object.entries(out[1]?.headers ?? {}).map(([k, v]) => [k, String(v)])).toEqual([
      ['toString', 't'],
      ['constructor', 'c'],
    ]);
    const headers = out[2]?.headers ?? {};
    expect(Object.getPrototypeOf(headers)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(headers, '__proto__')?.value?.toString()).toBe('x');
  }, 60_000);

  it('turns a batch whose records hold more than 500,000 headers together into one undecodable record', async () => {
    // 64 MiB of empty headers is 33 million of them, a few gigabytes of heap once decoded.
    const headered = (offsetDelta: number, n: number) => Record({ offsetDelta, key: null, value: Buffer.from('v'), headers: { h: Array.from({ length: n }, () => Buffer.alloc(0)) } });
    for (const records of [[headered(0, 600_000)], [headered(0, 300_000), headered(1, 300_000)]]) {
      const out = await decodeMessages(new Decoder(recordSet(await batch(0, records, GZIP))));
      expect(out.map((r) => [r.offset, r.undecodable])).toEqual([[String(records.length - 1), "RangeError: the batch's records hold more than 500000 headers"]]);
    }
  }, 60_000);

  it('decodes at most about 64 MiB decompressed in one response: the batches after wait for the next fetch', async () => {
    const large = (offset: number) => batch(offset, [Record({ offsetDelta: 0, key: null, value: Buffer.alloc(40 * 1024 * 1024) })], GZIP);
    const response = new Decoder(Buffer.concat([recordSet(await large(0), await large(1), await large(2)), recordSet(await batch(0, nulls(3), GZIP))]));
    const a = await decodeMessages(response);
    const b = await decodeMessages(response);
    expect(a.map((r) => [r.offset, r.undecodable])).toEqual([
      ['0', undefined],
      ['1', undefined],
    ]);
    expect(b).toHaveLength(0);
  }, 60_000);

  it('decodes at most about 100,000 records in one response: the partitions after wait for the next fetch', async () => {
    // One response decoder, two partitions' record sets in turn (fetch v4 to v11 share it).
    const first = recordSet(await batch(0, nulls(60_000), GZIP), await batch(60_000, nulls(60_000), GZIP), await batch(120_000, nulls(10), GZIP));
    const second = recordSet(await batch(0, nulls(5), GZIP));
    const response = new Decoder(Buffer.concat([first, second]));
    const a = await decodeMessages(response);
    const b = await decodeMessages(response);
    expect(a).toHaveLength(120_000); // the third batch is left for the next fetch
    expect(a.at(-1)?.offset).toBe('119999');
    expect(b).toHaveLength(0);
    // A fetch asking again from there reads on.
    const again = await decodeMessages(new Decoder(recordSet(await batch(120_000, nulls(10), GZIP))));
    expect(again).toHaveLength(10);
    // Headers count as records do.
    const headers = Record({ offsetDelta: 0, key: null, value: Buffer.from('v'), headers: { h: Array.from({ length: 100_000 }, () => Buffer.alloc(0)) } });
    const withHeaders = await decodeMessages(new Decoder(recordSet(await batch(0, [headers], GZIP), await batch(1, nulls(1), GZIP))));
    expect(withHeaders.map((r) => r.offset)).toEqual(['0']);
  }, 60_000);

  it('asks for a different partition first at every fetch, so that no partition waits behind another for good', async () => {
    // The consumer group's fetch with what it reads stubbed: the order of the request it sends.
    const ConsumerGroup = require('kafkajs/src/consumer/consumerGroup.js') as { prototype: { fetch(this: object, nodeId: number): Promise<unknown> } };
    const asked: string[][] = [];
    const assigned = [
      { topic: 'a', partitions: [0, 1, 2] },
      { topic: 'b', partitions: [0, 1] },
    ];
    const group = {
      cluster: {
        refreshMetadataIfNecessary: async () => {},
        findBroker: async () => ({
          fetch: async ({ topics }: { topics: { topic: string; partitions: { partition: number }[] }[] }) => {
            asked.push(topics.flatMap((t) => t.partitions.map((p) => `${t.topic}${p.partition}`)));
            return { responses: [] };
          },
        }),
      },
      checkForStaleAssignment: () => {},
      subscriptionState: { assigned: () => assigned.map((t) => ({ ...t, partitions: [...t.partitions] })), isPaused: () => false },
      filterPartitionsByNode: (_: number, tps: unknown) => tps,
      seekOffsets: async () => {},
      seekOffset: { has: () => false },
      offsetManager: { committedOffsets: () => ({ a: { 0: '0', 1: '0', 2: '0' }, b: { 0: '0', 1: '0' } }), nextOffset: () => ({ toString: () => '0' }) },
      getActiveTopicPartitions: () => ({ a: new Set([0, 1, 2]), b: new Set([0, 1]) }),
      preferredReadReplicasPerTopicPartition: {},
      maxBytesPerPartition: 1024,
      logger: { debug: () => {}, info: () => {} },
    };
    for (let i = 0; i < 12; i++) await ConsumerGroup.prototype.fetch.call(group, 0);
    expect(asked.map((order) => order.slice().sort())).toEqual(Array.from({ length: 12 }, () => ['a0', 'a1', 'a2', 'b0', 'b1']));
    // The topics alternate, and each of a topic's partitions comes first in turn.
    expect(asked.slice(0, 6).map((order) => order[0])).toEqual(['b0', 'a1', 'b1', 'a2', 'b0', 'a0']);
    expect(new Set(asked.map((order) => order[0]))).toEqual(new Set(['a0', 'a1', 'a2', 'b0', 'b1']));
  });
});

// A record's timestamp and offset: read in plain numbers when they are safe integers, in Long
// (BigInt) otherwise, with the same text either way (patched record/v0/decoder.js).
describe('kafkajs record timestamps and offsets (patched)', () => {
  const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js') as (d: object, context: object) => { timestamp: string; offset: string };
  const LongOf = require('kafkajs/src/utils/long.js') as { fromValue(v: bigint): object };
  /** A record's bytes with a timestamp delta of any size (the Record encoder takes a number only). */
  const recordBytes = (timestampDelta: bigint, offsetDelta: number) => {
    const e = new Encoder();
    e.writeInt8(0).writeVarLong(LongOf.fromValue(timestampDelta) as unknown as number).writeVarInt(offsetDelta).writeVarIntBytes(Buffer.from('k')).writeVarIntBytes(Buffer.from('v')).writeVarInt(0);
    return e.buffer;
  };
  const cases: [bigint, bigint, bigint, number][] = [
    // first timestamp, its delta, first offset, offset delta
    [1796682916407n, 0n, 0n, 0],
    [1796682916407n, 12_345n, 41n, 7],
    [1796682916407n, -3_000n, 9_007_199_254_740_000n, 991], // offsets past 2^53
    [-1n, 0n, 5n, 1], // no timestamp
    [1796682916407n, 2n ** 48n, 5n, 1], // a delta of 7 bytes
    [1796682916407n, 2n ** 56n, 5n, 1], // and of more
    [-(2n ** 62n), -(2n ** 62n), 2n ** 62n, 100_000], // past 64 bits: kafkajs' Long adds without wrapping
    [2n ** 53n - 1n, 1n, 2n ** 53n - 1n, 1], // sums one past the safe integers
  ];
  it('are the first ones plus the deltas, in the same text as before, safe integers or not', () => {
    for (const [firstTimestamp, delta, firstOffset, offsetDelta] of cases) {
      const context = { firstTimestamp: firstTimestamp.toString(), firstOffset: firstOffset.toString(), timestampType: 0, maxTimestamp: '0' };
      const record = RecordDecoder(new Decoder(recordBytes(delta, offsetDelta)), context);
      expect(record).toMatchObject({ timestamp: (firstTimestamp + delta).toString(), offset: (firstOffset + BigInt(offsetDelta)).toString() });
    }
  });
  it('take the batch\'s max timestamp when the broker set the time, after any delta', () => {
    for (const delta of [5n, 2n ** 56n]) {
      const record = RecordDecoder(new Decoder(recordBytes(delta, 3)), { firstTimestamp: '1000', firstOffset: '10', timestampType: 1, maxTimestamp: '2000' });
      expect(record).toMatchObject({ timestamp: '2000', offset: '13' });
    }
  });
});
