import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
// kafkajs is CommonJS, and Node's ESM loader cannot see these two among its named exports (compiled, not under tsx).
import kafkajs from 'kafkajs';

/**
 * Every compression a Kafka producer may use, readable here. kafkajs reads gzip on its own and
 * throws "not implemented" for Snappy, LZ4 and ZSTD, while decoding a fetch: one batch written
 * by a Java producer with `compression.type=lz4` (or snappy, or zstd) then stopped the whole
 * consumer, every partition, at every restart. Registered once for the process, before any
 * client is made (client.ts):
 * - gzip: Node's zlib, as kafkajs, but bounded (below);
 * - Snappy: snappyjs, in raw blocks or in the Java client's xerial framing (as kafkajs-snappy,
 *   the kafkajs project's codec, reads it), each block's declared length checked before it is
 *   allocated;
 * - LZ4: lz4js (LZ4 frames, as Kafka writes them since message format 1);
 * - ZSTD: Node's own zlib (Node 22.15 and later).
 * A batch that would grow past MAX_DECOMPRESSED_BYTES is refused rather than allocated: a gzip
 * batch of 1 MiB can hold a gigabyte of zeros, and a Snappy block of five bytes can declare 4 GiB.
 * A refusal, like any batch the client cannot read, reaches the worker as one record naming it
 * (see `undecodableReason`, decode-batch.ts) and goes to the dead-letter topic: the patched
 * kafkajs (patches/) no longer fails the whole fetch on it.
 */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const require = createRequire(import.meta.url);
const snappy = require('snappyjs') as { compress(src: Buffer): Buffer; uncompress(src: Buffer): Buffer };
const lz4 = require('lz4js') as { compress(src: Uint8Array): Uint8Array; makeBuffer(size: number): Uint8Array; decompressFrame(src: Uint8Array, dst: Uint8Array): number; decompressBound(src: Uint8Array): number };

const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);
const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const gzipCodec = (): Codec => ({
  compress: async ({ buffer }) => gzip(buffer),
  // unzip, as kafkajs: a gzip or a zlib stream.
  decompress: async (buffer) => unzip(buffer, { maxOutputLength: MAX_DECOMPRESSED_BYTES }),
});

const XERIAL_MAGIC = Buffer.from([130, 83, 78, 65, 80, 80, 89, 0]);
const XERIAL_HEADER_BYTES = 16;

/** The length a raw Snappy block declares (its leading varint), or -1 if it has none. */
export function snappyDeclaredLength(block: Buffer): number {
  let length = 0;
  for (const [i, byte] of [...block.subarray(0, 5)].entries()) {
    length += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) return length;
  }
  return -1;
}

/** A Snappy batch's blocks: one raw block, or the xerial framing's (a header, then [int32 length, block]…). */
function snappyBlocks(buffer: Buffer): Buffer[] {
  if (buffer.length < XERIAL_HEADER_BYTES || !buffer.subarray(0, 8).equals(XERIAL_MAGIC)) return [buffer];
  const blocks: Buffer[] = [];
  for (let at = XERIAL_HEADER_BYTES; at < buffer.length; ) {
    if (at + 4 > buffer.length) throw new RangeError(`a Snappy frame ends inside a block length at byte ${at}`);
    const size = buffer.readUInt32BE(at);
    at += 4;
    if (at + size > buffer.length) throw new RangeError(`a Snappy block of ${size} bytes runs past the batch's end`);
    blocks.push(buffer.subarray(at, at + size));
    at += size;
  }
  return blocks;
}

const snappyCodec = (): Codec => ({
  compress: async ({ buffer }) => snappy.compress(buffer),
  decompress: async (buffer) => {
    const blocks = snappyBlocks(buffer);
    let total = 0;
    for (const block of blocks) {
      const length = snappyDeclaredLength(block);
      if (length < 0) throw new RangeError('a Snappy block without a length');
      total += length;
      if (total > MAX_DECOMPRESSED_BYTES) throw new RangeError(`the Snappy batch declares more than ${MAX_DECOMPRESSED_BYTES} bytes once decompressed`);
    }
    const [only] = blocks;
    return blocks.length === 1 && only ? snappy.uncompress(only) : Buffer.concat(blocks.map((block) => snappy.uncompress(block)), total);
  },
});

const lz4Codec = (): Codec => ({
  compress: async ({ buffer }) => asBuffer(lz4.compress(buffer)),
  // Into a buffer of the frame's bound, at most MAX_DECOMPRESSED_BYTES: lz4js drops what does not
  // fit and says how much there was, so a frame that grows past it is refused, not cut short.
  decompress: async (buffer) => {
    const into = lz4.makeBuffer(Math.min(lz4.decompressBound(buffer), MAX_DECOMPRESSED_BYTES));
    const size = lz4.decompressFrame(buffer, into);
    if (size > into.length) throw new RangeError(`the LZ4 batch decompresses to ${size} bytes, more than ${into.length} (its frame's bound, and at most ${MAX_DECOMPRESSED_BYTES})`);
    return asBuffer(into.subarray(0, size));
  },
});

const zstdCodec = (): Codec => ({
  compress: async ({ buffer }) => zstdCompress(buffer),
  decompress: async (buffer) => zstdDecompress(buffer, { maxOutputLength: MAX_DECOMPRESSED_BYTES }),
});

const { CompressionCodecs, CompressionTypes } = kafkajs;
let registered = false;

/** Makes kafkajs read and write gzip (bounded), Snappy, LZ4 and ZSTD batches (see above). Idempotent. */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.GZIP] = gzipCodec;
  CompressionCodecs[CompressionTypes.Snappy] = snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec;
}
