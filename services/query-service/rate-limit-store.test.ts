import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRateLimitStore, type RateRedis } from './rate-limit-store.js';

/** Redis's counters in memory, with the three commands the store pipelines; writes counted. */
function fakeRedis() {
  const keys = new Map<string, { n: number; expires: number | null }>();
  const live = (k: string) => {
    const e = keys.get(k);
    if (e && e.expires !== null && Date.now() >= e.expires) keys.delete(k);
    return keys.get(k);
  };
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
            const e = live(k) ?? { n: 0, expires: null };
            e.n += n;
            keys.set(k, e);
            return [null, e.n];
          });
          return p;
        },
        pexpire(k: string, ms: number) {
          ops.push(() => {
            const e = live(k);
            if (e && e.expires === null) e.expires = Date.now() + ms;
            return [null, 1];
          });
          return p;
        },
        pttl(k: string) {
          ops.push(() => {
            const e = live(k);
            return [null, e?.expires ? e.expires - Date.now() : -2];
          });
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
const count = (store: { incr: (k: string, cb: (e: Error | null, r?: { current: number; ttl: number }) => void, w: number) => void }, key: string) =>
  new Promise<{ current: number; ttl: number }>((resolve, reject) => store.incr(key, (e, r) => (e ? reject(e) : resolve(r as { current: number; ttl: number })), MINUTE));

describe('the rate limit store', () => {
  afterEach(() => vi.useRealTimers());

  it('counts a key exactly in the process, and adds the counts to Redis in one write per flush', async () => {
    const redis = fakeRedis();
    const Store = createRateLimitStore(redis as unknown as RateRedis, 'rl:', 10_000);
    const store = new Store();
    const seen = [];
    for (let i = 0; i < 5; i++) seen.push((await count(store, 'a')).current);
    await count(store, 'b');
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(redis.writes).toBe(0);
    await Store.flush();
    expect(redis.writes).toBe(1);
    expect(redis.keys.get('rl:a')?.n).toBe(5);
    expect(redis.keys.get('rl:b')?.n).toBe(1);
    expect((await count(store, 'a')).current).toBe(6);
  });

  it("sees other instances' counts after a flush, and lets them share the window", async () => {
    const redis = fakeRedis();
    const one = createRateLimitStore(redis as unknown as RateRedis, 'rl:', 10_000);
    const two = createRateLimitStore(redis as unknown as RateRedis, 'rl:', 10_000);
    for (let i = 0; i < 3; i++) await count(new one(), 'k');
    await one.flush();
    await count(new two(), 'k');
    await two.flush();
    expect((await count(new two(), 'k')).current).toBe(5); // 3 from one, 2 from two
    // One learns of two's counts with the flush of its next count.
    expect((await count(new one(), 'k')).current).toBe(4);
    await one.flush();
    expect((await count(new one(), 'k')).current).toBe(6); // two's second count has not been flushed yet
  });

  it('starts a new window when the old one ends', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const redis = fakeRedis();
    const Store = createRateLimitStore(redis as unknown as RateRedis, 'rl:', 10_000);
    const store = new Store();
    await count(store, 'k');
    await count(store, 'k');
    await Store.flush();
    expect((await count(store, 'k')).ttl).toBeLessThanOrEqual(MINUTE);
    vi.setSystemTime(Date.now() + MINUTE);
    expect((await count(store, 'k')).current).toBe(1);
  });

  it("answers an error while Redis is not connected (the plugin then lets the request through), and sends a failed flush's counts with the next", async () => {
    const redis = fakeRedis();
    const Store = createRateLimitStore(redis as unknown as RateRedis, 'rl:', 10_000);
    const store = new Store();
    redis.status = 'reconnecting';
    await expect(count(store, 'k')).rejects.toThrow(/redis is reconnecting/);
    redis.status = 'ready';
    await count(store, 'k');
    await count(store, 'k');
    redis.failing = true;
    await Store.flush();
    expect((await count(store, 'k')).current).toBe(3);
    redis.failing = false;
    await Store.flush();
    expect(redis.keys.get('rl:k')?.n).toBe(3); // the failed flush's counts go with the next one
    expect((await count(store, 'k')).current).toBe(4);
  });

  it('flushes by itself shortly after counting', async () => {
    const redis = fakeRedis();
    const Store = createRateLimitStore(redis as unknown as RateRedis, 'rl:', 20);
    await count(new Store(), 'k');
    await vi.waitFor(() => expect(redis.keys.get('rl:k')?.n).toBe(1));
  });
});
