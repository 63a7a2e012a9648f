/**
 * PostgreSQL's `hashtextextended(text, 0)` (hash_bytes_extended in src/common/hashfn.c: Bob
 * Jenkins' lookup3 over the text's UTF-8 bytes, little-endian words, as Postgres computes it on
 * every machine this runs on), so that this process can tell which lock bucket a subject falls
 * in without asking: `bucketOf(id, n)` equals `hashtextextended(id, 0) & (n - 1)` for a
 * deterministic collation. The SQL stays the authority for locking; this only predicts it
 * (test/integration/pg-hash.test.ts compares the two on thousands of strings).
 */

/** The UTF-8 bytes of `text` as a string of one char per byte (ASCII, most ids, as it is). */
function utf8Bytes(text: string): string {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return Buffer.from(text, 'utf8').toString('latin1');
  return text;
}

/** Four bytes from `i`, little-endian. */
const word = (k: string, i: number): number => (k.charCodeAt(i) | (k.charCodeAt(i + 1) << 8) | (k.charCodeAt(i + 2) << 16) | (k.charCodeAt(i + 3) << 24)) >>> 0;

/** The two 32-bit halves of `hashtextextended(text, 0)`: high word b, low word c. */
export function hashTextExtended(text: string): { high: number; low: number } {
  const k = utf8Bytes(text);
  let len = k.length;
  let a = (0x9e3779b9 + len + 3923095) | 0;
  let b = a;
  let c = a;
  let i = 0;
  // 32-bit arithmetic throughout (`| 0`); rotations as in lookup3.
  while (len >= 12) {
    a = (a + word(k, i)) | 0;
    b = (b + word(k, i + 4)) | 0;
    c = (c + word(k, i + 8)) | 0;
    a = (a - c) | 0; a ^= (c << 4) | (c >>> 28); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 6) | (a >>> 26); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 8) | (b >>> 24); b = (b + a) | 0;
    a = (a - c) | 0; a ^= (c << 16) | (c >>> 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= (a << 19) | (a >>> 13); a = (a + c) | 0;
    c = (c - b) | 0; c ^= (b << 4) | (b >>> 28); b = (b + a) | 0;
    i += 12;
    len -= 12;
  }
  // The last 0-11 bytes: a takes bytes 0-3, b 4-7, c 8-10 shifted up a byte (its lowest byte is
  // the length's, already in the initial value).
  for (let j = 0; j < len; j++) {
    const byte = k.charCodeAt(i + j);
    if (j < 4) a = (a + (byte << (8 * j))) | 0;
    else if (j < 8) b = (b + (byte << (8 * (j - 4)))) | 0;
    else c = (c + (byte << (8 * (j - 7)))) | 0;
  }
  c ^= b; c = (c - ((b << 14) | (b >>> 18))) | 0;
  a ^= c; a = (a - ((c << 11) | (c >>> 21))) | 0;
  b ^= a; b = (b - ((a << 25) | (a >>> 7))) | 0;
  c ^= b; c = (c - ((b << 16) | (b >>> 16))) | 0;
  a ^= c; a = (a - ((c << 4) | (c >>> 28))) | 0;
  b ^= a; b = (b - ((a << 14) | (a >>> 18))) | 0;
  c ^= b; c = (c - ((b << 24) | (b >>> 8))) | 0;
  return { high: b >>> 0, low: c >>> 0 };
}

/** `hashtextextended(text, 0) & (buckets - 1)`, for a power-of-two number of buckets up to 2^31. */
export function bucketOf(text: string, buckets: number): number {
  return (hashTextExtended(text).low & (buckets - 1)) >>> 0;
}
