/**
 * The partition Kafka's default partitioner gives a keyed message: the positive part of the
 * key's murmur2 (Kafka's variant: seed 0x9747b28c over the key's UTF-8 bytes), modulo the
 * partition count. Java clients and kafkajs' DefaultPartitioner agree on it, so a key keeps
 * its partition whichever client writes it.
 *
 * kafkajs computes it with 64-bit Long objects, a dozen allocations per key; this is the same
 * arithmetic in 32-bit integers (Math.imul keeps the low 32 bits, which is all the Long
 * version ever returns), reading an ASCII key's characters directly instead of copying it
 * into a buffer first. Checked equal to kafkajs' over arbitrary keys (partition-of.test.ts).
 */
const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 of a byte source: `at(i)` is byte i of `length` bytes. */
function murmur2Of(length: number, at: (i: number) => number): number {
  let h = (SEED ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = at(i) | (at(i + 1) << 8) | (at(i + 2) << 16) | (at(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last one to three bytes (Java's switch falls through from case 3 to case 1).
  const tail = length & 3;
  if (tail > 0) {
    if (tail === 3) h ^= at(whole + 2) << 16;
    if (tail >= 2) h ^= at(whole + 1) << 8;
    h ^= at(whole);
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

const isAscii = (s: string): boolean => {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
};

/** Kafka's murmur2 of a key (a string's UTF-8 bytes), as a signed 32-bit integer. */
export function murmur2(key: string | Buffer): number {
  if (typeof key === 'string' && isAscii(key)) return murmur2Of(key.length, (i) => key.charCodeAt(i));
  const bytes = typeof key === 'string' ? Buffer.from(key) : key;
  return murmur2Of(bytes.length, (i) => bytes[i] as number);
}

/** The partition of `count` that Kafka's default partitioner gives a message keyed `key`. */
export const partitionOf = (key: string | Buffer, count: number): number => (murmur2(key) & 0x7fffffff) % count;
