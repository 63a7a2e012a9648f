import { randomBytes, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import { mintToken } from '../../libs/auth/tokens.js';
import { buildApp } from './app.js';
import type { QueryServiceDeps } from './types.js';

/** What the warm-up asked about: stored referrals' mentors (with their organization) and recruits, and coordinators. */
export interface WarmUpIds {
  mentors: { org: string; mentor: string }[];
  users: { org: string; user: string }[];
  coordinators: { org: string; coordinator: string }[];
  orgs: string[];
}

/** A read route and the requests the warm-up sends it: `paths(i)` is its i-th request. */
export interface WarmUpRoute {
  route: string;
  path: (i: number) => string;
}

export interface WarmUpReport {
  /** Requests answered, by route and status. */
  answered: Record<string, Record<string, number>>;
  requests: number;
  seconds: number;
  /** Why nothing was asked (no stored referral to ask about), when nothing was. */
  skipped?: string;
}

const SAMPLE = 40;
const DAY_MS = 86_400_000;

/**
 * Ids of stored facts to ask about: a sample of referrals from all over the table (a block
 * sample, cheap however large it is) topped up with its first rows (a small table's block
 * sample may be empty), and coordinators.
 */
export async function sampleIds(pool: Pick<Pool, 'query'>): Promise<WarmUpIds> {
  const { rows } = await pool.query<{ org_id: string; mentor_id: string; user_id: string }>(
    `(select org_id, mentor_id, user_id from referrals tablesample system (1) limit ${SAMPLE})
     union all (select org_id, mentor_id, user_id from referrals limit ${SAMPLE})`,
  );
  const { rows: scopes } = await pool.query<{ coordinator_id: string; org_id: string }>(`select coordinator_id, org_id from coordinator_scopes limit ${SAMPLE}`);
  const distinct = <T>(items: T[], key: (t: T) => string) => [...new Map(items.map((t) => [key(t), t])).values()].slice(0, SAMPLE);
  return {
    mentors: distinct(rows.map((r) => ({ org: r.org_id, mentor: r.mentor_id })), (m) => `${m.org}\0${m.mentor}`),
    users: distinct(rows.map((r) => ({ org: r.org_id, user: r.user_id })), (u) => `${u.org}\0${u.user}`),
    coordinators: distinct(scopes.map((s) => ({ org: s.org_id, coordinator: s.coordinator_id })), (c) => `${c.org}\0${c.coordinator}`),
    orgs: distinct([...rows.map((r) => r.org_id), ...scopes.map((s) => s.org_id)], (o) => o),
  };
}

/**
 * Every read route of SPEC §5 with the parameters dashboards send (the ranges of the bench's
 * part 3 and the defaults), ids taken in turn from `ids`. A route whose ids are missing (no
 * coordinator stored) is left out.
 */
export function warmUpRoutes(ids: WarmUpIds, today: Date): WarmUpRoute[] {
  const day = (daysBack: number) => new Date(today.getTime() - daysBack * DAY_MS).toISOString().slice(0, 10);
  const [to, quarter, year] = [day(0), day(89), day(364)];
  const e = encodeURIComponent;
  const of = <T>(list: T[], i: number) => list[i % list.length] as T;
  const variants = (i: number, ...choices: string[]) => of(choices, i);
  // Mentor and coordinator ids may lie in several organizations: the warm-up's platform token names the one sampled.
  const inOrg = (path: string, orgId: string) => `${path}${path.includes('?') ? '&' : '?'}orgId=${e(orgId)}`;
  const mentor = (i: number, rest: string) => {
    const m = of(ids.mentors, i);
    return inOrg(`/v1/mentors/${e(m.mentor)}/${rest}`, m.org);
  };
  const coordinator = (i: number, rest: string) => {
    const c = of(ids.coordinators, i);
    return inOrg(`/v1/coordinators/${e(c.coordinator)}/${rest}`, c.org);
  };
  const org = (i: number, rest: string) => `/v1/orgs/${e(of(ids.orgs, i))}/${rest}`;
  return [
    ...(ids.mentors.length === 0 ? [] : [
      { route: '/v1/mentors/:mentorId/referral-stats', path: (i: number) => mentor(i, variants(i, `referral-stats?from=${quarter}&to=${to}&granularity=day`, 'referral-stats', `referral-stats?from=${year}&to=${to}&granularity=month&compare=previous`, `referral-stats?from=${quarter}&to=${to}&granularity=day&format=csv`)) },
      { route: '/v1/mentors/:mentorId/recruits', path: (i: number) => mentor(i, variants(i, 'recruits?limit=20', 'recruits')) },
      { route: '/v1/mentors/:mentorId/annual-summary', path: (i: number) => mentor(i, 'annual-summary') },
    ]),
    ...(ids.coordinators.length === 0 ? [] : [
      { route: '/v1/coordinators/:coordinatorId/mentor-performance', path: (i: number) => coordinator(i, variants(i, `mentor-performance?from=${year}&to=${to}&sort=registrations&limit=20`, 'mentor-performance')) },
      { route: '/v1/coordinators/:coordinatorId/recruitment-summary', path: (i: number) => coordinator(i, variants(i, `recruitment-summary?from=${year}&to=${to}&granularity=month&compare=previous`, 'recruitment-summary')) },
      { route: '/v1/coordinators/:coordinatorId/referrals', path: (i: number) => coordinator(i, variants(i, 'referrals?stuckDays=14&limit=20', 'referrals?limit=20')) },
    ]),
    ...(ids.orgs.length === 0 ? [] : [
      { route: '/v1/orgs/:orgId/recruitment-summary', path: (i: number) => org(i, variants(i, `recruitment-summary?from=${year}&to=${to}&granularity=month`, 'recruitment-summary')) },
      { route: '/v1/orgs/:orgId/referrals', path: (i: number) => org(i, variants(i, 'referrals?limit=20', 'referrals?stuckDays=14&limit=20')) },
    ]),
    { route: '/v1/platform/growth', path: (i: number) => variants(i, `/v1/platform/growth?from=${year}&to=${to}&granularity=month`, '/v1/platform/growth') },
    ...(ids.users.length === 0 ? [] : [{ route: '/v1/conversions/:userId', path: (i: number) => { const u = of(ids.users, i); return `/v1/conversions/${e(u.user)}?orgId=${e(u.org)}`; } }]),
  ];
}

/**
 * The query service's warm start, before it listens: `requestsPerRoute` requests to every
 * read route about stored facts, `concurrency` at a time, so that the first requests it takes
 * find what a cold process and cold connections lack. Measured on the bench's 10M-click
 * database, a fresh process took 1.7 ms of CPU per request on its first route against 0.7 ms
 * warm, and its Postgres backends 0.8–1 ms against 0.3–0.5 ms: at 500 requests/s the first
 * seconds queued, for a p99 of 0.3–5 s where the same route warm had 15–30 ms.
 *
 * The requests go through a second app on the same pool and the same code (token check,
 * validation, scope, queries, serialization): every connection of the pool runs every route's
 * statements (its catalog caches filled, its statements prepared) and the process's hot
 * functions get compiled. That app has no answer cache, so every request computes, and keeps
 * nothing the real one serves; its token is signed by a key made for it and forgotten, for an
 * identity of its own (the rate limits' counts in Redis are per identity, shared with the
 * service's), and it is closed before the service listens. Best effort: main.ts logs a failure
 * and listens without it.
 */
export async function warmUp(deps: QueryServiceDeps, options: { requestsPerRoute: number; concurrency: number; now?: Date }): Promise<WarmUpReport> {
  const started = performance.now();
  const report: WarmUpReport = { answered: {}, requests: 0, seconds: 0 };
  if (options.requestsPerRoute <= 0) return { ...report, skipped: 'QUERY_WARMUP_REQUESTS is 0' };
  const ids = await sampleIds(deps.pool);
  if (ids.mentors.length === 0) return { ...report, skipped: 'no stored referral to ask about' };
  const key = randomBytes(32).toString('base64url');
  const { config } = deps;
  const unbounded = 1_000_000;
  const app = await buildApp({
    ...deps,
    log: deps.log.child({ warmUp: true }, { level: 'warn' }),
    config: {
      ...config,
      auth: { ...config.auth, jwtSecret: key, jwksUrl: undefined, issuer: undefined, audience: undefined },
      http: { ...config.http, answerCacheMb: 0 },
      fairUse: { ...config.fairUse, inFlightPerIdentity: unbounded, inFlightPerOrg: unbounded, inFlightTotal: unbounded },
    },
    rateLimitPerMinute: Number.MAX_SAFE_INTEGER,
    processMetrics: false,
  });
  try {
    const authorization = `Bearer ${await mintToken({ role: 'platform_admin', sub: `query-service warm-up ${randomUUID()}` }, key, '1h')}`;
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const get = async (path: string) => {
      const res = await fetch(`${address}${path}`, { headers: { authorization } });
      await res.arrayBuffer();
      return res.status;
    };
    for (const { route, path } of warmUpRoutes(ids, options.now ?? new Date())) {
      const answered: Record<string, number> = (report.answered[route] = {});
      let next = 0;
      await Promise.all(Array.from({ length: options.concurrency }, async () => {
        for (let i = next++; i < options.requestsPerRoute; i = next++) {
          const status = await get(path(i));
          answered[status] = (answered[status] ?? 0) + 1;
          report.requests += 1;
        }
      }));
    }
  } finally {
    await app.close();
  }
  report.seconds = Math.round(performance.now() - started) / 1000;
  return report;
}
