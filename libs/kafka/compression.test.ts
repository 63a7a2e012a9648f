import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { MAX_DECOMPRESSED_BYTES, registerCompressionCodecs, snappyDeclaredLength } from './compression.js';

// The codecs kafkajs reads input batches with (compression.ts): every codec round-trips, and
// none allocates past MAX_DECOMPRESSED_BYTES for what a batch claims or holds.
const require = createRequire(import.meta.url);
const snappy = require('snappyjs') as { compress(b: Buffer): Buffer };
const { CompressionCodecs, CompressionTypes } = kafkajs;
interface Codec { compress(e: { buffer: Buffer }): Promise<Buffer>; decompress(b: Buffer): Promise<Buffer> }
const codec = (type: number) => ((CompressionCodecs as Record<number, () => Codec>)[type] as () => Codec)();

/** The xerial framing a Java producer writes Snappy in: magic, version, compatible version, then [length, block]…. */
const xerial = (...blocks: Buffer[]) =>
  Buffer.concat([Buffer.from([130, 83, 78, 65, 80, 80, 89, 0, 0, 0, 0, 1, 0, 0, 0, 1]), ...blocks.flatMap((b) => [Buffer.from([b.length >>> 24, (b.length >>> 16) & 255, (b.length >>> 8) & 255, b.length & 255]), b])]);

beforeAll(() => registerCompressionCodecs());

describe('compression codecs for input batches', () => {
  it('round-trip every codec, and read Snappy in raw blocks and in xerial frames', async () => {
    const data = Buffer.from('a record batch '.repeat(5000));
    for (const type of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const c = codec(type);
      expect((await c.decompress(await c.compress({ buffer: data }))).equals(data)).toBe(true);
    }
    const halves = [data.subarray(0, 30_000), data.subarray(30_000)];
    expect((await codec(CompressionTypes.Snappy).decompress(xerial(...halves.map((h) => snappy.compress(h))))).equals(data)).toBe(true);
    // kafkajs reads gzip with unzip: a zlib stream is read too.
    expect((await codec(CompressionTypes.GZIP).decompress(gzipSync(data))).equals(data)).toBe(true);
  });

  it('read the length a Snappy block declares', () => {
    expect(snappyDeclaredLength(snappy.compress(Buffer.alloc(300)))).toBe(300);
    expect(snappyDeclaredLength(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]))).toBe(2 ** 32 - 1);
    expect(snappyDeclaredLength(Buffer.from([0x80, 0x80]))).toBe(-1);
    expect(snappyDeclaredLength(Buffer.alloc(0))).toBe(-1);
  });

  it('refuse a batch past the bound before allocating it', async () => {
    // Five bytes that declare a 4 GiB block (snappyjs would allocate it, zero-filled).
    await expect(codec(CompressionTypes.Snappy).decompress(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0]))).rejects.toThrow(/more than 67108864 bytes/);
    // Frames that each fit but add up past the bound.
    const block = Buffer.from([0x80, 0x80, 0x80, 0x10, 0]); // declares 32 MiB
    await expect(codec(CompressionTypes.Snappy).decompress(xerial(block, block, block))).rejects.toThrow(/more than 67108864 bytes/);
    await expect(codec(CompressionTypes.Snappy).decompress(xerial(block).subarray(0, 22))).rejects.toThrow(/runs past the batch's end/);
    // A gigabyte of zeros gzips to about a megabyte; 65 MiB is enough to show the bound.
    const bomb = gzipSync(Buffer.alloc(MAX_DECOMPRESSED_BYTES + 1024 * 1024));
    expect(bomb.length).toBeLessThan(1024 * 1024);
    await expect(codec(CompressionTypes.GZIP).decompress(bomb)).rejects.toThrow(RangeError);
    // lz4js drops what does not fit its buffer: refused, not cut short.
    const lz4 = codec(CompressionTypes.LZ4);
    await expect(lz4.decompress(await lz4.compress({ buffer: Buffer.alloc(MAX_DECOMPRESSED_BYTES + 1) }))).rejects.toThrow(/more than 67108864/);
    const zstd = codec(CompressionTypes.ZSTD);
    await expect(zstd.decompress(await zstd.compress({ buffer: Buffer.alloc(MAX_DECOMPRESSED_BYTES + 1) }))).rejects.toThrow(RangeError);
  });
});
