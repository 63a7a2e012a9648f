import type { Redis } from 'ioredis';
import { isIPv6 } from 'node:net';

/** How often the counts of this process are added to the shared ones in Redis. */
export const RATE_FLUSH_MS = 100;

/** The part of ioredis the limiter uses: its state, and a pipeline of INCRBY, PEXPIRE and GET. */
export type RateRedis = Pick<Redis, 'status' | 'pipeline'>;

interface Entry {
  /** The window this entry counts in: floor(now / windowMs). */
  window: number;
  /** Cost taken here in this window and in the one before. */
  cur: number;
  prev: number;
  /** Of `cur` (`prev`), what was added to Redis's counter already. */
  sent: number;
  prevSent: number;
  /** What other instances took, as Redis last answered (its count less ours). */
  curOthers: number;
  prevOthers: number;
}

export interface Decision {
  ok: boolean;
  /** Cost units left in the window after this request (0 when refused). */
  remaining: number;
  /** When refused: how long until a request of this cost fits, ms. */
  retryAfterMs: number;
}

/**
 * A sliding-window limiter (the window counter of two fixed windows, the previous one weighted
 * by how much of it still lies in the last `windowMs`): `max` cost units per key over any
 * window, a request costing its weight. Counted in the process and enforced there always, so
 * a Redis outage keeps the limit of one instance; the counts are added to shared counters in
 * Redis every `flushMs` (one pipeline: INCRBY and PEXPIRE of the current window's key, GET of
 * the previous one's), and what other instances counted joins this one's with the answer.
 * No request waits for Redis. Several instances together may let through what they count in
 * one flush interval beyond the limit.
 */
export function createRateLimiter(
  redis: RateRedis,
  prefix: string,
  options: {
    max: number;
    windowMs?: number;
    flushMs?: number;
    /**
     * Most keys counted apart (each a few hundred bytes, kept for up to two windows). Beyond it a
     * new key counts under `spill(key)`, a key shared with every other key spilt so, when that
     * gives one: callers that come from ever new addresses (a rotating IPv6 block) share one
     * budget instead of growing the process's memory by one entry each.
     */
    maxKeys?: number;
    spill?: (key: string) => string | null;
  },
) {
  const { max, windowMs = 60_000, flushMs = RATE_FLUSH_MS, maxKeys = Number.POSITIVE_INFINITY, spill } = options;
  const entries = new Map<string, Entry>();
  let timer: NodeJS.Timeout | null = null;
  let flushing = false;

  const roll = (e: Entry, window: number) => {
    if (e.window === window) return;
    const adjacent = window === e.window + 1;
    e.prev = adjacent ? e.cur : 0;
    e.prevSent = adjacent ? e.sent : 0;
    e.prevOthers = adjacent ? e.curOthers : 0;
    e.cur = e.sent = e.curOthers = 0;
    e.window = window;
  };

  const schedule = () => {
    if (timer || flushing) return;
    timer = setTimeout(() => {
      timer = null;
      void flush();
    }, flushMs);
    timer.unref();
  };

  async function flush(): Promise<void> {
    const window = Math.floor(Date.now() / windowMs);
    const batch: { key: string; e: Entry; window: number; delta: number; sent: number; prevSent: number }[] = [];
    for (const [key, e] of entries) {
      roll(e, window);
      if (e.cur > e.sent) batch.push({ key, e, window, delta: e.cur - e.sent, sent: e.cur, prevSent: e.prevSent });
      else if (e.cur === 0 && e.prev === 0) entries.delete(key);
    }
    if (batch.length === 0 || redis.status !== 'ready') {
      if (batch.length > 0) schedule();
      return;
    }
    flushing = true;
    try {
      const pipeline = redis.pipeline();
      for (const b of batch) {
        b.e.sent = b.sent;
        pipeline.incrby(`${prefix}${b.key}:${b.window}`, b.delta).pexpire(`${prefix}${b.key}:${b.window}`, 2 * windowMs + 1_000).get(`${prefix}${b.key}:${b.window - 1}`);
      }
      const replies = await pipeline.exec().catch(() => null);
      batch.forEach((b, i) => {
        const cur = replies?.[3 * i];
        const prev = replies?.[3 * i + 2];
        const ok = cur && !cur[0] && prev && !prev[0];
        if (b.e.window !== b.window) return; // a new window began meanwhile
        if (!ok) {
          b.e.sent -= b.delta; // sent again with the next flush
          return;
        }
        b.e.curOthers = Math.max(0, Number(cur[1]) - b.sent);
        b.e.prevOthers = Math.max(0, Number(prev[1] ?? 0) - b.prevSent);
      });
    } finally {
      flushing = false;
      for (const e of entries.values()) {
        if (e.cur > e.sent) {
          schedule();
          break;
        }
      }
    }
  }

  /** Takes `cost` units for `key` when they fit in the window; a refused request takes nothing. */
  function take(key: string, cost: number, now = Date.now()): Decision {
    const window = Math.floor(now / windowMs);
    let e = entries.get(key);
    if (!e && entries.size >= maxKeys) {
      const shared = spill?.(key) ?? null;
      if (shared !== null) {
        key = shared;
        e = entries.get(key);
      }
    }
    if (!e) {
      e = { window, cur: 0, prev: 0, sent: 0, prevSent: 0, curOthers: 0, prevOthers: 0 };
      entries.set(key, e);
    }
    roll(e, window);
    const weight = cost < max ? cost : max; // a request dearer than the whole window waits for an empty one
    const elapsed = (now - window * windowMs) / windowMs;
    const prev = e.prev + e.prevOthers;
    const cur = e.cur + e.curOthers;
    const used = prev * (1 - elapsed) + cur;
    if (used + weight <= max) {
      e.cur += weight;
      schedule();
      return { ok: true, remaining: Math.max(0, Math.floor(max - used - weight)), retryAfterMs: 0 };
    }
    // When does it fit? Within this window, once enough of the previous one has slid out;
    // else in the next, once enough of this one has.
    let wait: number;
    if (cur + weight <= max && prev > 0) wait = (1 - (max - cur - weight) / prev - elapsed) * windowMs;
    else wait = (1 - elapsed) * windowMs + Math.max(0, 1 - (max - weight) / Math.max(cur, 1)) * windowMs;
    return { ok: false, remaining: 0, retryAfterMs: Math.max(1, Math.ceil(wait)) };
  }

  return { take, flush, counted: () => entries.size, max, windowMs };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;

/** Most client addresses counted apart by the rate limiter at once (about 260 bytes each); beyond, they share one budget. */
export const ADDRESS_KEYS = 20_000;

/**
 * The block an address is counted by: an IPv4 address itself (an IPv4-mapped IPv6 address as
 * its IPv4), an IPv6 address by its /64, the block one subscriber or host is given, so walking
 * through the 2^64 addresses of one block is one caller. Anything else (a name, a malformed
 * address) is counted as given.
 */
export function addressBlock(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped) return mapped[1] as string;
  if (isIPv6(ip)) {
    const [head = '', tail] = ip.toLowerCase().split('%')[0]!.split('::') as [string, string | undefined];
    const headGroups = head === '' ? [] : head.split(':');
    const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
    const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
    return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`;
  }
  return ip;
}
