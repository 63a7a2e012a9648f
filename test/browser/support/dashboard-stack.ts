import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { SignJWT } from 'jose';
import { createTestEnv, type TestEnv } from '../../support/env.js';
import { startQueryApp, type QueryApp } from '../../support/query.js';
import { loadQueryFixture } from '../../support/query-fixture.js';
import type { TokenRole } from '../../../libs/auth/tokens.js';

/**
 * The real query service, listening on a free port, on a database of its own holding the
 * query fixture (test/support/query-fixture.ts: org-a on Oslo time, org-b on New York time,
 * March 2026), serving the built dashboard. Its log lines are kept, to prove no token reaches
 * them.
 */
export interface DashboardStack {
  env: TestEnv;
  q: QueryApp;
  origin: string;
  logLines: string[];
  token(role: TokenRole, sub: string, org?: string | null): Promise<string>;
  /** A token that expired an hour ago, signed with the right secret. */
  expiredToken(role: TokenRole, sub: string, org: string): Promise<string>;
  /** The API's own answer to a GET, for comparing with the page. */
  api<T = unknown>(path: string, token: string): Promise<{ status: number; body: T }>;
  /** The dashboard URL of a view, with a token in the fragment as make demo prints it. */
  link(token: string | null, view?: Record<string, string>): string;
  close(): Promise<void>;
}

export async function startDashboardStack(name: string, options: { http?: Partial<TestEnv['config']['http']> } = {}): Promise<DashboardStack> {
  const env = await createTestEnv(name);
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(String(chunk));
      done();
    },
  });
  const log = pino({ name: `test:${name}`, level: 'info' }, sink);
  const q = await startQueryApp({ ...env, log }, options.http ? { config: { http: { ...env.config.http, ...options.http } } } : {});
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
  await q.app.listen({ port: 0, host: '127.0.0.1' });
  const origin = `http://127.0.0.1:${(q.app.server.address() as AddressInfo).port}`;
  return {
    env,
    q,
    origin,
    logLines,
    token: (role, sub, org) => q.token(role, sub, org),
    expiredToken: (role, sub, org) =>
      new SignJWT({ role, org })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setSubject(sub)
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(new TextEncoder().encode(env.config.auth.jwtSecret)),
    async api<T>(path: string, token: string) {
      const res = await fetch(`${origin}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, body: (await res.json()) as T };
    },
    link(token, view = {}) {
      const query = new URLSearchParams(view).toString();
      return `${origin}/dashboard/${query ? `?${query}` : ''}${token ? `#token=${token}` : ''}`;
    },
    async close() {
      await q.close();
      await env.close();
    },
  };
}
