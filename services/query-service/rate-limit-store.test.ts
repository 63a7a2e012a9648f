import { describe, expect, it, vi } from 'vitest';
import { addressBlock, createRateLimiter, type RateRedis } from './rate-limit-store.js';
import { cached, createInFlight, requestCost } from './fair-use.js';

/** Redis's counters in memory, with the three commands the limiter pipelines; writes counted. */
function fakeRedis() {
  const keys = new Map<string, number>();
  const redis = {
    status: 'ready' as string,
    failing: false,
    writes: 0,
    keys,
    pipeline() {
      const ops: (() => [Error | null, unknown])[] = [];
      const p = {
        incrby(k: string, n: number) {
          ops.push(() => {
            keys.set(k, (keys.get(k) ?? 0) + n);
            return [null, keys.get(k)];
          });
          return p;
        },
        pexpire() {
          ops.push(() => [null, 1]);
          return p;
        },
        get(k: string) {
          ops.push(() => [null, keys.has(k) ? String(keys.get(k)) : null]);
          return p;
        },
        async exec() {
          redis.writes += 1;
          if (redis.failing) throw new Error('connection lost');
          return ops.map((op) => op());
        },
      };
      return p;
    },
  };
  return redis;
}

const MINUTE = 60_000;
const T0 = 1_000 * MINUTE; // the start of a window

describe('the sliding-window limiter', () => {
  it('takes cost units up to the limit, refuses beyond with a retry time, and a refusal takes nothing', () => {
    const limiter = createRateLimiter(fakeRedis() as unknown as RateRedis, 'rl:', { max: 5, flushMs: 10_000 });
    const seen = [1, 1, 1, 1, 1, 1].map(() => limiter.take('a', 1, T0).ok);
    expect(seen).toEqual([true, true, true, true, true, false]);
    expect(limiter.take('a', 1, T0).retryAfterMs).toBeGreaterThan(0);
    expect(limiter.take('b', 5, T0).ok).toBe(true);
    expect(limiter.take('c', 3, T0).ok).toBe(true);
    expect(limiter.take('c', 3, T0).ok).toBe(false);
    expect(limiter.take('c', 2, T0).ok).toBe(true);
  });

  it('slides: the previous window counts by how much of it still lies within the last minute', () => {
    const limiter = createRateLimiter(fakeRedis() as unknown as RateRedis, 'rl:', { max: 10, flushMs: 10_000 });
    for (let i = 0; i < 10; i++) expect(limiter.take('k', 1, T0 + MINUTE - 1).ok).toBe(true);
    // A fixed window would let ten more through at once; a sliding one still counts nearly all ten.
    expect(limiter.take('k', 1, T0 + MINUTE).ok).toBe(false);
    // Half a minute on, half of them have slid out.
    const half = [1, 2, 3, 4, 5, 6].map(() => limiter.take('k', 1, T0 + MINUTE + MINUTE / 2).ok);
    expect(half).toEqual([true, true, true, true, true, false]);
  });

  it('keeps limiting in the process while Redis is away, and sends the counts once it is back', async () => {
    const redis = fakeRedis();
    redis.status = 'reconnecting';
    const limiter = createRateLimiter(redis as unknown as RateRedis, 'rl:', { max: 2, flushMs: 10_000 });
    const now = Date.now();
    expect([1, 2, 3].map(() => limiter.take('k', 1, now).ok)).toEqual([true, true, false]);
    await limiter.flush();
    expect(redis.writes).toBe(0);
    redis.status = 'ready';
    redis.failing = true;
    await limiter.flush();
    redis.failing = false;
    await limiter.flush();
    expect([...redis.keys.values()]).toEqual([2]); // a failed flush's counts go with the next one
  });

  it("sees other instances' counts after a flush", async () => {
    const redis = fakeRedis();
    const one = createRateLimiter(redis as unknown as RateRedis, 'rl:', { max: 4, flushMs: 10_000 });
    const two = createRateLimiter(redis as unknown as RateRedis, 'rl:', { max: 4, flushMs: 10_000 });
    const now = Date.now();
    for (let i = 0; i < 3; i++) one.take('k', 1, now);
    await one.flush();
    two.take('k', 1, now);
    await two.flush(); // two learns of one's three
    expect(two.take('k', 1, now).ok).toBe(false);
    expect(redis.writes).toBe(2);
  });

  it('flushes by itself shortly after counting', async () => {
    const redis = fakeRedis();
    const limiter = createRateLimiter(redis as unknown as RateRedis, 'rl:', { max: 5, flushMs: 20 });
    limiter.take('k', 2);
    await vi.waitFor(() => expect([...redis.keys.values()]).toEqual([2]));
  });
});

describe('fair use', () => {
  it('a ranged read costs by its span, doubled with compare', () => {
    expect(requestCost({})).toBe(1);
    expect(requestCost({ from: '2026-01-01', to: '2026-01-07', granularity: 'day' })).toBe(1);
    expect(requestCost({ from: '2016-01-01', to: '2025-12-31', granularity: 'week' })).toBe(118);
    expect(requestCost({ from: '2025-01-01', to: '2025-12-31', compare: 'previous' })).toBe(24);
    expect(requestCost({ year: '2025' })).toBe(12);
    // The route reads these as 2026 too: the cost must not depend on the spelling.
    expect([requestCost({ year: '2026.0' }), requestCost({ year: '2.026e3' }), requestCost({ year: ['2026', '2026'] })]).toEqual([12, 12, 12]);
    expect(requestCost({ from: 'garbage', to: '2025-12-31' })).toBe(1);
    expect(requestCost({ from: '2026-01-01' }, '2026-01-30')).toBe(1);
  });

  it('caps requests in flight per key, and a release frees its place once', () => {
    const flight = createInFlight();
    const a1 = flight.enter([{ key: 'i:a', cap: 2 }, { key: 'o:x', cap: 3 }]);
    const a2 = flight.enter([{ key: 'i:a', cap: 2 }, { key: 'o:x', cap: 3 }]);
    expect(flight.enter([{ key: 'i:a', cap: 2 }, { key: 'o:x', cap: 3 }])).toBeNull();
    const b1 = flight.enter([{ key: 'i:b', cap: 2 }, { key: 'o:x', cap: 3 }]);
    expect(flight.enter([{ key: 'i:b', cap: 2 }, { key: 'o:x', cap: 3 }])).toBeNull(); // the organization is full
    expect(flight.enter([{ key: 'i:c', cap: 2 }, { key: 'o:y', cap: 3 }])).not.toBeNull();
    a1?.();
    a1?.();
    expect(flight.enter([{ key: 'i:b', cap: 2 }, { key: 'o:x', cap: 3 }])).not.toBeNull();
    expect(flight.enter([{ key: 'i:a', cap: 2 }, { key: 'o:x', cap: 3 }])).toBeNull();
    a2?.();
    b1?.();
  });

  it('a cached answer is computed once for calls within its time', async () => {
    let calls = 0;
    const get = cached(1_000, async () => ++calls);
    expect(await Promise.all([get(), get()])).toEqual([1, 1]);
    expect(await get()).toBe(1);
    expect(calls).toBe(1);
  });
});

describe('the addresses the limiter counts apart', () => {
  it('beyond maxKeys, new addresses share one budget, and callers still get their own', () => {
    const limiter = createRateLimiter(fakeRedis() as unknown as RateRedis, 't:', { max: 3, flushMs: 60_000, maxKeys: 2, spill: (key) => (key.startsWith('a:') ? 'a:spilt' : null) });
    const now = 1_000_000;
    expect([limiter.take('a:1', 3, now).ok, limiter.take('a:2', 3, now).ok]).toEqual([true, true]);
    // Each further address is a new key: they take from one budget of 3.
    expect([3, 4, 5, 6].map((i) => limiter.take(`a:${i}`, 1, now).ok)).toEqual([true, true, true, false]);
    expect(limiter.counted()).toBe(3);
    // A verified caller is counted apart whatever the addresses did.
    expect([limiter.take('c:someone', 3, now).ok, limiter.take('c:someone', 1, now).ok]).toEqual([true, false]);
    expect(limiter.counted()).toBe(4);
  });

  it('an IPv6 address by its /64, an IPv4 one (mapped or not) as itself', () => {
    expect(addressBlock('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64');
    expect(addressBlock('2001:DB8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressBlock('2001:db8::ffff')).toBe('2001:db8:0:0::/64');
    expect(addressBlock('2001:0db8:0001:0002:0:0:0:9')).toBe('2001:db8:1:2::/64');
    expect(addressBlock('::1')).toBe('0:0:0:0::/64');
    expect(addressBlock('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressBlock('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(addressBlock('203.0.113.7')).toBe('203.0.113.7');
    expect(addressBlock('not an address')).toBe('not an address');
  });
});
