import { existsSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import fastifyStatic from '@fastify/static';
import { repoPath } from '../../libs/runtime/repo-paths.js';
import type { App } from './types.js';

/** Where `make install` leaves the built dashboard (vite build dashboard), from the sources and the compiled build/ alike. */
export const DASHBOARD_DIST = repoPath('dashboard', 'dist');

/**
 * The dashboard's Content-Security-Policy: its own bundled scripts, styles and images only
 * (no inline script or style, nothing from another host, so it also works on a closed
 * network), API calls to this origin only, and framing by this origin or those the operator
 * lists (DASHBOARD_EMBED_ORIGINS: the apps that embed it and hand it a token). Never any
 * origin: a `*` in the list is dropped.
 */
export function dashboardCsp(embedOrigins: readonly string[]): string {
  const ancestors = ["'self'", ...embedOrigins.filter((o) => /^https?:\/\/[^/\s*]+$/.test(o))];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    `frame-ancestors ${ancestors.join(' ')}`,
  ].join('; ');
}

/**
 * Serves the recruitment dashboard (a static single page that reads the /v1 routes with the
 * viewer's own token) under /dashboard/. Hashed assets are cached for a year; index.html is
 * revalidated on every load so a deploy is seen at once. Without a build the route answers
 * 503 naming the command that builds it. X-Frame-Options (SAMEORIGIN, from helmet) stays
 * unless embed origins are listed; the page reads the list from /dashboard/embed.json and
 * takes a token by postMessage from those origins only.
 */
export async function registerDashboard(app: App, options: { root: string; embedOrigins: readonly string[] }): Promise<void> {
  const embedOrigins = options.embedOrigins.filter((o) => /^https?:\/\/[^/\s*]+$/.test(o));
  const csp = dashboardCsp(embedOrigins);
  await app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply, payload) => {
      void reply.header('content-security-policy', csp);
      if (embedOrigins.length > 0) reply.removeHeader('x-frame-options');
      return payload;
    });
    const embed = JSON.stringify({ embedOrigins });
    scope.get('/dashboard/embed.json', { schema: { hide: true } }, async (_request, reply) => reply.header('cache-control', 'no-cache').type('application/json').send(embed));
    if (!existsSync(join(options.root, 'index.html'))) {
      const notBuilt = async (_request: unknown, reply: { status(code: number): { send(body: unknown): unknown } }) =>
        reply.status(503).send({ error: { code: 'unavailable', message: 'the dashboard is not built; run `make install` (or `make dashboard`)' } });
      scope.get('/dashboard', { schema: { hide: true } }, notBuilt);
      scope.get('/dashboard/*', { schema: { hide: true } }, notBuilt);
      return;
    }
    await scope.register(fastifyStatic, {
      root: options.root,
      prefix: '/dashboard',
      redirect: true,
      index: ['index.html'],
      cacheControl: false,
      // No dotfiles (a stray .env beside the build); the build writes none.
      dotfiles: 'deny',
      setHeaders: (res, path) => {
        // Hashed names under the root's assets/ never change; anything else (index.html) is asked again each time.
        res.setHeader('cache-control', relative(options.root, path).startsWith(`assets${sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  });
}
