import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startQueryApp } from '../support/query.js';

/**
 * Issue 20 finding 5: with CORS_ORIGINS=* the dashboard's frame-ancestors became * and
 * X-Frame-Options was dropped, so any site could frame it and hand it a token. Framing now
 * follows DASHBOARD_EMBED_ORIGINS alone, through the real app.
 */
let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv('dashboard-framing');
});
afterAll(async () => {
  await env?.close();
});

async function dashboardHeaders(http: Partial<TestEnv['config']['http']>) {
  const q = await startQueryApp(env, { config: { http: { ...env.config.http, ...http } } });
  try {
    const page = await q.app.inject({ method: 'GET', url: '/dashboard/' });
    const embed = await q.app.inject({ method: 'GET', url: '/dashboard/embed.json' });
    return { csp: String(page.headers['content-security-policy']), xfo: page.headers['x-frame-options'], embed: embed.json() as unknown, embedStatus: embed.statusCode };
  } finally {
    await q.close();
  }
}

describe('dashboard framing', () => {
  it('with CORS_ORIGINS=* and no embed list: framed by its own origin only, X-Frame-Options kept, no origin may hand a token', async () => {
    const h = await dashboardHeaders({ corsOrigins: ['*'], embedOrigins: [] });
    expect(h.csp).toMatch(/frame-ancestors 'self'(;|$)/);
    expect(h.csp).not.toContain('*');
    expect(h.xfo).toBe('SAMEORIGIN');
    expect([h.embedStatus, h.embed]).toEqual([200, { embedOrigins: [] }]);
  });

  it('with CORS_ORIGINS=* and DASHBOARD_EMBED_ORIGINS: framed by exactly those, which the page is told', async () => {
    const h = await dashboardHeaders({ corsOrigins: ['*'], embedOrigins: ['https://lms.example.org', 'http://localhost:5173'] });
    expect(h.csp).toMatch(/frame-ancestors 'self' https:\/\/lms\.example\.org http:\/\/localhost:5173(;|$)/);
    expect(h.csp).not.toContain('*');
    expect(h.xfo).toBeUndefined();
    expect(h.embed).toEqual({ embedOrigins: ['https://lms.example.org', 'http://localhost:5173'] });
  });

  it('a list of CORS origins does not open framing', async () => {
    const h = await dashboardHeaders({ corsOrigins: ['https://app.example.org'], embedOrigins: [] });
    expect(h.csp).toMatch(/frame-ancestors 'self'(;|$)/);
    expect(h.xfo).toBe('SAMEORIGIN');
  });
});
