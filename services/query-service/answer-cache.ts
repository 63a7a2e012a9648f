import { hash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import pg from 'pg';
import { LRUCache } from 'lru-cache';
import { Counter, Gauge, type Registry } from 'prom-client';
import { CHANGES_CHANNEL, SCOPE_CHANNEL, parseChangeNotice } from '../../libs/db/change-notices.js';
import type { Logger } from '../../libs/log/logger.js';
import { within } from '../../libs/runtime/within.js';

/**
 * A serialized answer: as computed (encoding null), or, once kept, gzip-compressed when it is
 * at least GZIP_MIN_BYTES (a dashboard's browser asks for gzip, and is sent these bytes as they
 * are). `etag` is what the etag plugin would give the uncompressed answer (sha1, base64, strong).
 */
export interface CachedAnswer {
  body: Buffer;
  /** 'gzip': `body` is the answer gzip-compressed; null: `body` is the answer. */
  encoding: 'gzip' | null;
  etag: string;
  /** From when (epoch ms) it is not served, though nothing it reads was written: an answer about a cut-off that moves with the clock. */
  until?: number;
}

/** An answer as a route serializes it. */
export type Serialized = string | Uint8Array | ArrayBuffer;
/** A serialized answer that stops holding at `until` (epoch ms) with nothing written; null: it holds until a write. */
export interface Expiring {
  serialized: Serialized;
  until: number | null;
}

/** Where cached answers come from: a hit, a computation another request started (shared), a new one, or none kept (bypass). */
export type CacheOutcome = 'hit' | 'shared' | 'miss' | 'bypass';

/**
 * What an answer reads: the tables of one organization (its id), of every organization (`*`),
 * or only some mentors' rows of one organization (`mentors`: the tables kept per mentor, a
 * mentor's name, and no total of the organization's own), which a commit about its other
 * mentors leaves as they were; `basis`: anything else the answer was computed from, read
 * before (the organization's first day of a comparison), which it is kept under too.
 */
export type AnswerScope = string | { org: string; mentors: readonly string[]; basis?: string };

export interface AnswerCache {
  /**
   * The answer stored under `key` while nothing it reads has changed, else `compute()`'s, kept
   * for the next request (and shared with requests asking the same while it runs). `org` is
   * what the answer reads (AnswerScope). An Expiring answer is not served from its `until` on.
   */
  answer(key: string, scope: AnswerScope, compute: () => Promise<Serialized | Expiring>): Promise<{ answer: CachedAnswer; outcome: CacheOutcome }>;
  /**
   * A fact a scope decision rests on (scope-queries.ts), kept under `key` until a scope table
   * (SCOPE_TABLES) changes: the first request asks Postgres (requests asking meanwhile share its read), the next ones nothing. Computed
   * each time while not listening, like answers.
   */
  fact<T>(key: string, compute: () => Promise<T>): Promise<T>;
  /** True while change notices arrive: only then are answers kept and served. */
  readonly live: boolean;
  /** How many answers are kept, and their bytes as counted against `maxBytes`. */
  readonly kept: { answers: number; bytes: number };
  /** Resolves once listening (or at once when the cache is off). For tests and start-up. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The size from which an answer is kept gzip-compressed. JSON answers shrink 3.5-8.6x at level
 * 6 (a mentor's 90 days 9.9 kB to 1.2 kB, platform growth 91 kB to 12 kB; 0.03-0.06 ms to
 * compress on this project's 2-core machines, 0.7 ms for platform growth), so the cache holds
 * that many more, and a hit sends that much less. Below it gzip saves too little to pay for.
 * Only kept answers are compressed, once each, after the miss that computed one was answered:
 * an answer not kept (the cache off or not listening, computed across a change) is sent as it is.
 */
export const GZIP_MIN_BYTES = 1024;

/**
 * zlib's output chunk when compressing an answer, instead of its default 16 kB. Each compression
 * allocates one chunk of ArrayBuffer memory (a slice of Buffer's pool, then copied out by
 * `own`), and V8 counts ArrayBuffer bytes towards starting a full collection: in a loop of
 * 5,000 compressions of a 10 kB answer under the query service's flags, 16 kB chunks made 3-4
 * full collections (33-48 ms of pauses), 4 kB ones 2 (7-9 ms; 1 kB: the same), and none
 * without compressing. A mentor's answer compresses to under 2 kB: one chunk.
 */
const ZLIB_CHUNK_BYTES = 4096;

/** An answer's uncompressed bytes (for a client that does not take gzip, or to read it back). */
export const answerBytes = (answer: CachedAnswer): Buffer => (answer.encoding === 'gzip' ? gunzipSync(answer.body) : answer.body);

/**
 * What a kept answer costs besides its bytes and strings (counted twice their length: a string
 * built by concatenation is held in parts until flattened, and may be two bytes a character):
 * its Buffer's objects and backing store, its CachedAnswer, the cache's bookkeeping. Measured
 * (scratch, 20,000 entries shaped like a mentor's compressed answer: a 1,200 B body, key 107,
 * version 37 and ETag 30 characters): 883 B of V8 heap and 337 B of memory outside it besides
 * the body, 1,220 B in all, where 488 were counted before; 870 + 2 x 174 counts 1,218. So
 * ANSWER_CACHE_MB bounds the memory answers take, and the V8 heap they fill, not only their bytes.
 */
const ENTRY_BYTES = 870;

/** Every answer may depend on today's date in some timezone (a default range, the current year); all offsets are whole quarter hours. */
const QUARTER_HOUR_MS = 15 * 60_000;
const RECONNECT_MS = 1_000;
/**
 * How often the listening connection must answer a query, and how long it may take. A
 * connection that died without a word (a partition, a NAT forgetting it) would otherwise look
 * alive for as long as TCP keepalive takes (hours by default) while notices go nowhere.
 */
const HEARTBEAT_MS = 2_000;
/** Most scope facts kept (a mentor's organizations, a coordinator's scope, an organization's facts: a few hundred bytes each). */
const MAX_FACTS = 50_000;
/** Most mentors whose version is kept (about 100 bytes each); beyond it, every answer about some mentors is dropped at once. */
const MAX_MENTOR_VERSIONS = 200_000;

/**
 * The query service's answers, kept until a table they read changes.
 *
 * Every write to those tables sends a change notice naming its organizations when it commits
 * (libs/db/change-notices.ts, migration 0018); this cache listens on a connection of its own
 * and keeps a version per organization, plus one for answers over every organization bumped
 * by any notice. An answer is kept under its key with the version of what it reads *read
 * before its queries ran*, and only if that version still holds when it is done: an answer
 * computed across a change is served to the requests that waited for it, never kept. How
 * stale can a hit be: by the time between a commit and its notice reaching this process (a
 * local round trip), the same as a request that started just before the commit.
 *
 * An answer about some mentors of an organization (AnswerScope `mentors`) is kept under a
 * version of its own: the organization's changes that may touch any of its answers (a notice
 * naming the organization itself) and each of its mentors' (notices naming them: rows kept
 * per mentor, a registration giving a name). Notices of other mentors, and of the
 * organization's own totals, leave it be.
 *
 * While the listening connection is down (or stops answering its heartbeat), notices could be missed: nothing is served from or
 * kept in the cache (every request reads Postgres), and once listening again everything kept
 * before is dropped. Bounded by `maxBytes` (least recently used answers go first); answers
 * are kept serialized (and compressed: GZIP_MIN_BYTES), so a hit costs no query, no serialization,
 * no hashing and, for a client that takes gzip, no compression. A miss is answered as computed,
 * and compressed for keeping only after (in a setImmediate with the other misses since).
 *
 * The same listener keeps the facts scope decisions rest on (`fact`): dropped together on any
 * notice of SCOPE_CHANNEL (writes to the scope tables, rare), on a rebuild and on listening
 * again, so authorizing a request reads Postgres only after such a change.
 */
export function createAnswerCache(options: { connectionString: string; maxBytes: number; log: Logger; registry?: Registry; now?: () => number }): AnswerCache {
  const { log, maxBytes } = options;
  const now = options.now ?? Date.now;
  const outcomes = new Counter({ name: 'query_answer_cache_total', help: 'Answers of cached routes by where they came from (hit, shared, miss, bypass)', labelNames: ['outcome'], registers: options.registry ? [options.registry] : [] });
  const stored = new Gauge({ name: 'query_answer_cache_bytes', help: 'Bytes of answers kept', registers: options.registry ? [options.registry] : [] });
  // One answer per key, with the version it holds at: a newer one replaces it, and one found
  // stale is dropped, so what is kept is what can still be served. Kept under key and version,
  // every change would leave the old answer behind until evicted: under ingest nearly all of
  // the cache, each answer a change older than the last.
  const sizeOf = (key: string, version: string, answer: CachedAnswer) => answer.body.length + (key.length + version.length + answer.etag.length) * 2 + ENTRY_BYTES;
  // One large answer is served but not kept: it would push out hundreds of others.
  const maxEntrySize = Math.max(1, Math.floor(maxBytes / 8));
  const entries = new LRUCache<string, { version: string; answer: CachedAnswer }>({
    maxSize: Math.max(1, maxBytes),
    maxEntrySize,
    sizeCalculation: (value, key) => sizeOf(key, value.version, value.answer),
  });
  const pending = new Map<string, Promise<CachedAnswer>>();
  // Scope facts: dropped whole on any notice of a scope table (rare), so a version of their own.
  const facts = new LRUCache<string, { value: unknown }>({ max: MAX_FACTS });
  /** Facts being read, by scope version and key: requests asking the same meanwhile share the read. */
  const pendingFacts = new Map<string, Promise<unknown>>();
  const factOutcomes = new Counter({ name: 'query_scope_cache_total', help: 'Scope facts by where they came from (hit, shared, miss, bypass)', labelNames: ['outcome'], registers: options.registry ? [options.registry] : [] });
  let scopeVersion = 0;
  /** Per organization: every notice naming it or any of its mentors (what its whole-organization answers are kept under). */
  const orgVersions = new Map<string, number>();
  /** Per organization: notices saying anything of it may have changed (part of every version of its answers). */
  const wholeVersions = new Map<string, number>();
  /** Per organization and mentor (`org\0mentor`): notices naming the mentor. Cleared when full, with mentorEpoch bumped. */
  const mentorVersions = new Map<string, number>();
  let mentorEpoch = 0;
  let epoch = 0;
  let anyVersion = 0;
  let live = false;
  let closed = maxBytes <= 0;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let readyNow: () => void = () => undefined;
  const readyPromise = new Promise<void>((resolve) => (readyNow = resolve));
  if (closed) readyNow();

  function dropFacts(): void {
    scopeVersion += 1;
    facts.clear();
    pendingFacts.clear();
  }

  function dropAll(): void {
    epoch += 1;
    dropFacts();
    orgVersions.clear();
    wholeVersions.clear();
    mentorVersions.clear();
    pending.clear();
    entries.clear();
    stored.set(0);
  }

  function onNotice(payload: string | undefined): void {
    const changed = parseChangeNotice(payload);
    anyVersion += 1;
    if (changed === 'all') return dropAll();
    const bump = (versions: Map<string, number>, key: string) => versions.set(key, (versions.get(key) ?? 0) + 1);
    for (const org of changed.orgs) {
      bump(orgVersions, org);
      bump(wholeVersions, org);
    }
    for (const org of changed.aggregates) bump(orgVersions, org);
    for (const [org, mentors] of changed.mentors) {
      bump(orgVersions, org);
      if (mentorVersions.size + mentors.length > MAX_MENTOR_VERSIONS) {
        // Forgetting a mentor's version could serve an answer kept before its change: a new epoch drops them all.
        mentorVersions.clear();
        mentorEpoch += 1;
      }
      for (const mentor of mentors) bump(mentorVersions, `${org}\0${mentor}`);
    }
  }

  /** The version an answer of `scope` is kept under, as of now. */
  function versionOf(scope: AnswerScope): string {
    if (scope === '*') return `*${anyVersion}`;
    if (typeof scope === 'string') return `o${orgVersions.get(scope) ?? 0}\0${scope}`;
    // Counters only grow (until an epoch clears them), so their sum changes whenever one does.
    let sum = 0;
    for (const mentor of scope.mentors) sum += mentorVersions.get(`${scope.org}\0${mentor}`) ?? 0;
    return `m${mentorEpoch}.${wholeVersions.get(scope.org) ?? 0}.${sum}\0${scope.org}\0${scope.mentors.join('\0')}\0${scope.basis ?? ''}`;
  }

  /** What an answer of `scope` is kept at: versionOf, and the quarter hour (today's date enters many answers: default ranges, the current year). */
  function keptVersion(scope: AnswerScope): string {
    return `${epoch}\0${Math.floor(now() / QUARTER_HOUR_MS)}\0${versionOf(scope)}`;
  }

  function lost(err: unknown): void {
    if (!live && client === undefined) return;
    const wasLive = live;
    live = false;
    clearInterval(heartbeat);
    const gone = client;
    client = undefined;
    gone?.removeAllListeners();
    gone?.on('error', () => undefined);
    void gone?.end().catch(() => undefined);
    if (closed) return;
    // Once when notices stop; each failed try to listen again (Postgres still away) only at debug.
    log[wasLive ? 'warn' : 'debug']({ err }, 'answer cache: not listening for change notices; answering from Postgres until it is');
    retry = setTimeout(() => void listen(), RECONNECT_MS);
  }

  async function listen(): Promise<void> {
    if (closed) return;
    const c = new pg.Client({ connectionString: options.connectionString, keepAlive: true, application_name: 'query-service answer cache' });
    client = c;
    c.on('error', (err) => lost(err));
    c.on('end', () => lost(new Error('connection ended')));
    c.on('notification', (n) => {
      if (n.channel === CHANGES_CHANNEL) onNotice(n.payload);
      else if (n.channel === SCOPE_CHANNEL) dropFacts();
    });
    try {
      await c.connect();
      await c.query(`listen ${CHANGES_CHANNEL}; listen ${SCOPE_CHANNEL}`);
    } catch (err) {
      lost(err);
      return;
    }
    if (client !== c || closed) return;
    // Notices may have been missed before this point: nothing kept earlier is trusted.
    dropAll();
    live = true;
    readyNow();
    heartbeat = setInterval(() => {
      if (client === c) within(HEARTBEAT_MS, c.query('select 1')).catch((err: unknown) => (client === c ? lost(err) : undefined));
    }, HEARTBEAT_MS);
  }
  if (!closed) void listen();

  const etagOf = (body: Uint8Array) => `"${hash('sha1', body, 'base64')}"`;
  /**
   * An answer's bytes in a buffer of their own, exactly their size. A Buffer.from() under half
   * of Buffer.poolSize (64 kB on Node 24) is a slice of a slab shared with whatever else was
   * allocated then, and a view keeps its whole ArrayBuffer (so does zlib's output, a slice of
   * its chunk): a kept answer of a few hundred bytes would hold kilobytes the size bound never counts.
   */
  const own = (bytes: Uint8Array): Buffer => {
    const body = Buffer.allocUnsafeSlow(bytes.byteLength);
    body.set(bytes);
    return body;
  };
  /** A computed answer as sent at once: its ETag from its bytes, the bytes as serialized. */
  const seal = (computed: Serialized | Expiring): CachedAnswer => {
    const expiring = typeof computed === 'object' && !(computed instanceof Uint8Array) && !(computed instanceof ArrayBuffer) ? computed : null;
    const serialized = expiring ? expiring.serialized : (computed as Serialized);
    // A view of what serialized it (Buffer.from of an ArrayBuffer does not copy): copied once, when kept (compact).
    const body =
      typeof serialized === 'string' ? Buffer.from(serialized) : serialized instanceof ArrayBuffer ? Buffer.from(serialized) : Buffer.from(serialized.buffer, serialized.byteOffset, serialized.byteLength);
    const answer: CachedAnswer = { body, encoding: null, etag: etagOf(body) };
    if (expiring?.until != null) answer.until = expiring.until;
    return answer;
  };
  /** A sealed answer as kept for long: its bytes in a buffer of their own, gzip-compressed from GZIP_MIN_BYTES on. */
  const compact = (answer: CachedAnswer): CachedAnswer =>
    answer.body.byteLength >= GZIP_MIN_BYTES ? { ...answer, body: own(gzipSync(answer.body, { level: 6, chunkSize: ZLIB_CHUNK_BYTES })), encoding: 'gzip' } : { ...answer, body: own(answer.body) };
  /**
   * Answers kept as computed (uncompressed, a view of what serialized them) until compacted:
   * all at once, after the responses that computed them have been written (setImmediate), so
   * a miss is answered without waiting for its compression.
   */
  const uncompacted: { key: string; answer: CachedAnswer }[] = [];
  const compactKept = () => {
    for (const { key, answer } of uncompacted.splice(0)) {
      // Unless it was replaced or dropped meanwhile.
      const kept = entries.peek(key);
      if (kept?.answer === answer) entries.set(key, { version: kept.version, answer: compact(answer) });
    }
    stored.set(entries.calculatedSize);
  };
  /** Whether an answer still holds now (see CachedAnswer.until). */
  const holds = (answer: CachedAnswer) => answer.until === undefined || now() < answer.until;

  return {
    get live() {
      return live;
    },
    get kept() {
      return { answers: entries.size, bytes: entries.calculatedSize };
    },
    ready: () => readyPromise,
    async fact<T>(key: string, compute: () => Promise<T>): Promise<T> {
      if (!live) {
        factOutcomes.inc({ outcome: 'bypass' });
        return compute();
      }
      const kept = facts.get(key);
      if (kept) {
        factOutcomes.inc({ outcome: 'hit' });
        return kept.value as T;
      }
      // Requests asking the same fact while it is read share that read (a cold start's first
      // second would otherwise read each mentor's organizations once per request in flight),
      // unless a scope table changed since it started: the key carries the version.
      const version = scopeVersion;
      const flight = `${version}\0${key}`;
      const running = pendingFacts.get(flight);
      if (running) {
        factOutcomes.inc({ outcome: 'shared' });
        return (await running) as T;
      }
      const reading = compute();
      pendingFacts.set(flight, reading);
      try {
        const value = await reading;
        // Kept only if no scope table changed while it was read (nor the listener was lost).
        if (live && scopeVersion === version) facts.set(key, { value });
        factOutcomes.inc({ outcome: 'miss' });
        return value;
      } finally {
        if (pendingFacts.get(flight) === reading) pendingFacts.delete(flight);
      }
    },
    async answer(key, scope, compute) {
      if (!live) {
        outcomes.inc({ outcome: 'bypass' });
        return { answer: seal(await compute()), outcome: 'bypass' };
      }
      const version = keptVersion(scope);
      const kept = entries.get(key);
      if (kept) {
        if (kept.version === version && holds(kept.answer)) {
          outcomes.inc({ outcome: 'hit' });
          return { answer: kept.answer, outcome: 'hit' };
        }
        entries.delete(key);
        stored.set(entries.calculatedSize);
      }
      const flight = `${version}\0${key}`;
      const running = pending.get(flight);
      if (running) {
        const answer = await running;
        // Computed before this request came, it may have stopped holding since: then computed again.
        if (holds(answer)) {
          outcomes.inc({ outcome: 'shared' });
          return { answer, outcome: 'shared' };
        }
      }
      const computing = compute().then(seal);
      pending.set(flight, computing);
      try {
        const answer = await computing;
        // Kept only when nothing it reads changed meanwhile (else it was stale when done: kept
        // under its version it would never be served again) and still listening.
        if (live && holds(answer) && keptVersion(scope) === version) {
          if (sizeOf(key, version, answer) <= maxEntrySize) {
            entries.set(key, { version, answer });
            if (uncompacted.push({ key, answer }) === 1) setImmediate(compactKept);
          } else {
            // Too large to keep as computed, even for a moment: kept compacted at once, if it fits so.
            entries.set(key, { version, answer: compact(answer) });
          }
          stored.set(entries.calculatedSize);
        }
        outcomes.inc({ outcome: 'miss' });
        return { answer, outcome: 'miss' };
      } finally {
        if (pending.get(flight) === computing) pending.delete(flight);
      }
    },
    async close() {
      closed = true;
      live = false;
      if (retry) clearTimeout(retry);
      clearInterval(heartbeat);
      const c = client;
      client = undefined;
      c?.removeAllListeners();
      c?.on('error', () => undefined);
      await c?.end().catch(() => undefined);
      entries.clear();
      facts.clear();
      readyNow();
    },
  };
}
