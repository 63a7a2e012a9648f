import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';

// kafkajs' encoder as patched (patches/kafkajs+2.2.4.patch: varints written in place, varlongs
// of ordinary numbers without Long objects), checked against its own decoder, which the patch
// leaves alone.
const require = createRequire(import.meta.url);
interface Encoder { writeVarInt(v: number): Encoder; writeUVarInt(v: number): Encoder; writeVarLong(v: number): Encoder; buffer: Buffer }
const Encoder = require('kafkajs/src/protocol/encoder.js') as { new (size?: number): Encoder; sizeOfVarLong(v: number): number; sizeOfVarInt(v: number): number };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => { readVarInt(): number; readUVarInt(): number; readVarLong(): { toString(): string } };

describe('kafkajs encoder (patched)', () => {
  it('writes varlongs and varints its decoder reads back, sized as sizeOfVarLong says', () => {
    const long = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(0, -1, 63, 64, -64, -65, 2 ** 51 - 1, -(2 ** 51) + 1, 2 ** 51, -(2 ** 51), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER));
    fc.assert(
      fc.property(fc.array(fc.tuple(long, fc.integer(), fc.nat()), { maxLength: 200 }), (values) => {
        // Many in one encoder, so writes cross the points where its buffer grows.
        const encoder = new Encoder(4);
        for (const [l, i, u] of values) encoder.writeVarLong(l).writeVarInt(i).writeUVarInt(u);
        const decoder = new Decoder(encoder.buffer);
        for (const [l, i, u] of values) {
          expect(decoder.readVarLong().toString()).toBe(String(l));
          expect(decoder.readVarInt()).toBe(i);
          expect(decoder.readUVarInt()).toBe(u);
        }
        for (const [l] of values) expect(Encoder.sizeOfVarLong(l)).toBe(new Encoder().writeVarLong(l).buffer.length);
      }),
      { numRuns: 500 },
    );
  });

  it('writes the bytes of the Kafka protocol (zigzag LEB128)', () => {
    expect([...new Encoder().writeVarLong(0).buffer]).toEqual([0]);
    expect([...new Encoder().writeVarLong(-1).buffer]).toEqual([1]);
    expect([...new Encoder().writeVarLong(1).buffer]).toEqual([2]);
    expect([...new Encoder().writeVarLong(64).buffer]).toEqual([0x80, 0x01]);
    expect([...new Encoder().writeVarLong(-65).buffer]).toEqual([0x81, 0x01]);
    expect([...new Encoder().writeVarLong(1_700_000_000_000).buffer]).toEqual([0x80, 0xa0, 0xab, 0xfe, 0xf9, 0x62]);
    expect([...new Encoder().writeUVarInt(300).buffer]).toEqual([0xac, 0x02]);
    expect([...new Encoder().writeVarInt(-(2 ** 31)).buffer]).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });
});
