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
 * - Snappy: kafkajs-snappy, the kafkajs project's codec (the Java client's xerial framing too);
 * - LZ4: lz4js (LZ4 frames, as Kafka writes them since message format 1);
 * - ZSTD: Node's own zlib (Node 22.15 and later).
 * A batch that would grow past MAX_DECOMPRESSED_BYTES is refused rather than allocated where the
 * codec can bound it (LZ4, ZSTD).
 */
export const MAX_DECOMPRESSED_BYTES = 64 * 1024 * 1024;

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const require = createRequire(import.meta.url);
const snappy = require('kafkajs-snappy') as () => Codec;
const lz4 = require('lz4js') as { compress(src: Uint8Array): Uint8Array; decompress(src: Uint8Array, maxSize?: number): Uint8Array; decompressBound(src: Uint8Array): number };

const zstdCompress = promisify(zlib.zstdCompress);
const zstdDecompress = promisify(zlib.zstdDecompress);

const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

const lz4Codec = (): Codec => ({
  compress: async ({ buffer }) => asBuffer(lz4.compress(buffer)),
  decompress: async (buffer) => asBuffer(lz4.decompress(buffer, Math.min(lz4.decompressBound(buffer), MAX_DECOMPRESSED_BYTES))),
});

const zstdCodec = (): Codec => ({
  compress: async ({ buffer }) => zstdCompress(buffer),
  decompress: async (buffer) => zstdDecompress(buffer, { maxOutputLength: MAX_DECOMPRESSED_BYTES }),
});

const { CompressionCodecs, CompressionTypes } = kafkajs;
let registered = false;

/** Makes kafkajs read and write Snappy, LZ4 and ZSTD batches (see above). Idempotent. */
export function registerCompressionCodecs(): void {
  if (registered) return;
  registered = true;
  CompressionCodecs[CompressionTypes.Snappy] = snappy;
  CompressionCodecs[CompressionTypes.LZ4] = lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec;
}
