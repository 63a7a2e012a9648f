import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { dashboardCsp, registerDashboard } from './dashboard.js';
import type { App } from './types.js';

describe('dashboardCsp', () => {
  it('allows only this origin, no inline script, and framing by the listed origins', () => {
    expect(dashboardCsp([])).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
    );
    expect(dashboardCsp(['https://app.example'])).toContain("frame-ancestors 'self' https://app.example");
  });
});

describe('registerDashboard', () => {
  it('answers 503 naming the command when the dashboard is not built, under the same CSP', async () => {
    const app = Fastify();
    await registerDashboard(app as unknown as App, { root: '/nonexistent/dashboard/dist', embedOrigins: ['https://app.example'] });
    const res = await app.inject({ method: 'GET', url: '/dashboard/' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: { code: 'unavailable', message: 'the dashboard is not built; run `make install` (or `make dashboard`)' } });
    expect(res.headers['content-security-policy']).toBe(dashboardCsp(['https://app.example']));
    await app.close();
  });
});
