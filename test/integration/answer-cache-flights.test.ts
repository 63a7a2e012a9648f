import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { createAnswerCache, type AnswerCache } from '../../services/query-service/answer-cache.js';
import { CHANGES_CHANNEL } from '../../libs/db/change-notices.js';
import { createLogger } from '../../libs/log/logger.js';

/**
 * One computation of an answer at a time, and never a stale one: while commits keep changing
 * an answer faster than it is computed, the requests that came meanwhile wait for the running
 * computation and share the next one, which begins after all of them came. The commits are
 * change notices sent on the channel the cache listens to, as the triggers send them.
 */
let env: TestEnv;
let cache: AnswerCache;
let notifier: pg.Client;

/** A computation the test ends when it wants, with the value it was started as. */
function gate() {
  const started: number[] = [];
  const releases: (() => void)[] = [];
  let computed = 0;
  const compute = () => {
    const n = ++computed;
    started.push(n);
    return new Promise<string>((resolve) => releases.push(() => resolve(JSON.stringify({ n }))));
  };
  return { compute, started, release: (i: number) => releases[i]?.(), count: () => computed };
}
const value = (a: { answer: { body: Buffer } }) => (JSON.parse(a.answer.body.toString('utf8')) as { n: number }).n;

/** Sends a notice naming `org` and waits until the cache has heard it: an answer kept about `org` under `probe` is computed again. */
async function commit(org: string, probe: string): Promise<void> {
  expect((await cache.answer(probe, org, async () => 'probe')).outcome).toBe('miss');
  expect((await cache.answer(probe, org, async () => 'probe')).outcome).toBe('hit');
  await notifier.query('select pg_notify($1, $2)', [CHANGES_CHANNEL, JSON.stringify([org])]);
  await eventually(async () => ((await cache.answer(probe, org, async () => 'probe')).outcome === 'miss' ? true : undefined), 10_000, 'the notice to reach the cache', 10);
}

beforeAll(async () => {
  env = await createTestEnv('answer_cache_flights');
  cache = createAnswerCache({ connectionString: env.config.databaseUrl, maxBytes: 1_000_000, log: createLogger({ level: 'silent', name: 'test' }) });
  await cache.ready();
  notifier = new pg.Client({ connectionString: env.config.databaseUrl });
  await notifier.connect();
});

afterAll(async () => {
  await notifier?.end();
  await cache?.close();
  await env?.close();
});

describe('the answer cache under commits faster than its computations', () => {
  it('lets requests that came after a commit share one computation begun after all of them, never the one running from before', async () => {
    const g = gate();
    const a = cache.answer('summary', 'org-a', g.compute);
    await eventually(async () => (g.count() === 1 ? true : undefined), 5_000, 'the first computation to start', 5);
    await commit('org-a', 'probe-1');
    const b = cache.answer('summary', 'org-a', g.compute);
    await commit('org-a', 'probe-2');
    const c = cache.answer('summary', 'org-a', g.compute);
    // Both wait for the computation from before their commits: neither starts one beside it.
    await new Promise((r) => setTimeout(r, 50));
    expect(g.count()).toBe(1);
    g.release(0);
    expect(value(await a)).toBe(1);
    // Then one computation, begun after both came, answers both.
    await eventually(async () => (g.count() === 2 ? true : undefined), 5_000, 'the next computation to start', 5);
    g.release(1);
    const [bAnswer, cAnswer] = await Promise.all([b, c]);
    expect([value(bAnswer), value(cAnswer)]).toEqual([2, 2]);
    expect([bAnswer.outcome, cAnswer.outcome].sort()).toEqual(['miss', 'shared']);
    expect(g.count()).toBe(2);
    // It is kept: the next request, with no commit since, is a hit.
    const d = await cache.answer('summary', 'org-a', g.compute);
    expect([value(d), d.outcome]).toEqual([2, 'hit']);
  });

  it('does not hold up answers about other organizations, nor requests with no commit in between', async () => {
    const g = gate();
    const a = cache.answer('summary', 'org-b', g.compute);
    const same = cache.answer('summary', 'org-b', g.compute);
    const other = cache.answer('summary', 'org-c', g.compute);
    await eventually(async () => (g.count() === 2 ? true : undefined), 5_000, 'both organizations to be computed', 5);
    g.release(1);
    expect([value(await other), (await other).outcome]).toEqual([2, 'miss']);
    g.release(0);
    expect([value(await a), value(await same), (await same).outcome]).toEqual([1, 1, 'shared']);
  });
});
