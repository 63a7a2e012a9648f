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

describe('the built dashboard', () => {
  it('keeps only assets/ for a year, asks again for index.html wherever the build lies, and serves no dotfile', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    // A checkout under a directory named dist/assets: index.html was kept for a year there.
    const base = mkdtempSync(join(tmpdir(), 'dashboard-'));
    const root = join(base, 'dist', 'assets', 'dashboard', 'dist');
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
    writeFileSync(join(root, 'assets', 'main-abc123.js'), 'console.log(1)');
    writeFileSync(join(root, '.env'), 'SECRET=1');
    const app = Fastify();
    try {
      await registerDashboard(app as unknown as App, { root, embedOrigins: [] });
      const index = await app.inject({ method: 'GET', url: '/dashboard/' });
      expect([index.statusCode, index.headers['cache-control']]).toEqual([200, 'no-cache']);
      const asset = await app.inject({ method: 'GET', url: '/dashboard/assets/main-abc123.js' });
      expect([asset.statusCode, asset.headers['cache-control']]).toEqual([200, 'public, max-age=31536000, immutable']);
      expect((await app.inject({ method: 'GET', url: '/dashboard/.env' })).statusCode).not.toBe(200);
    } finally {
      await app.close();
      rmSync(base, { recursive: true, force: true });
    }
  });
});
