import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { murmur2, partitionOf } from './partition-of.js';

// kafkajs' own murmur2 (the Long arithmetic its DefaultPartitioner uses): the reference.
const kafkajsMurmur2 = createRequire(import.meta.url)('kafkajs/src/producer/partitioners/default/murmur2.js') as (key: string | Buffer) => number;

describe('partitionOf', () => {
  it("equals kafkajs' murmur2 on arbitrary keys: ascii, any unicode, raw bytes, every length modulo 4", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 }), fc.uuid()), (key) => {
        expect(murmur2(key)).toBe(kafkajsMurmur2(key));
        expect(murmur2(Buffer.from(key))).toBe(kafkajsMurmur2(Buffer.from(key)));
      }),
      { numRuns: 5_000 },
    );
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      expect(murmur2(Buffer.from(bytes))).toBe(kafkajsMurmur2(Buffer.from(bytes)));
    }), { numRuns: 2_000 });
  });

  it("puts keys where Kafka's default partitioner does (values from the Java client's own tests)", () => {
    // org.apache.kafka.common.utils.UtilsTest#testMurmur2
    expect(murmur2(Buffer.from('21'))).toBe(-973932308);
    expect(murmur2(Buffer.from('foobar'))).toBe(-790332482);
    expect(murmur2(Buffer.from('a-little-bit-long-string'))).toBe(-985981536);
    expect(murmur2(Buffer.from('a-little-bit-longer-string'))).toBe(-1486304829);
    expect(murmur2(Buffer.from('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8'))).toBe(-58897971);
    expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107);
    for (let count = 1; count <= 64; count++) expect(partitionOf('org-7', count)).toBe((kafkajsMurmur2('org-7') & 0x7fffffff) % count);
  });
});
