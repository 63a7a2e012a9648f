import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium, watchedPage } from './support/chromium.js';
import { startDashboardStack, type DashboardStack } from './support/dashboard-stack.js';
import { readFunnel, readRows } from './support/read-page.js';

/**
 * The dashboard's states and promises beyond the numbers: signing in (link fragment, paste
 * box, refused and expired tokens), the token never reaching the server's log or the URL,
 * retry after a 503, empty periods, the viewer's locale, a phone-sized screen, keyboard use,
 * contrast, and the headers the page is served with.
 */
let stack: DashboardStack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
const pages: (Page & { problems: string[] })[] = [];
const tokens: string[] = [];
const PERIOD = { from: '2026-03-01', to: '2026-03-31' };

beforeAll(async () => {
  stack = await startDashboardStack('browser_states');
  browser = await launchChromium();
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
}, 180_000);

afterAll(async () => {
  for (const page of pages) expect(page.problems, 'script errors, CSP violations or requests to other hosts').toEqual([]);
  await context?.close();
  await browser?.closeAll();
  await stack?.close();
});

async function open(token: string | null, view: Record<string, string> = {}, ctx = context) {
  const page = await watchedPage(ctx, stack.origin);
  pages.push(page);
  await page.goto(stack.link(token, view));
  return page;
}
async function adminToken() {
  const token = await stack.token('org_admin', 'admin-a', 'org-a');
  tokens.push(token);
  return token;
}

describe('signing in', () => {
  it('without a token shows the sign-in state and calls no API', async () => {
    const page = await watchedPage(context, stack.origin);
    pages.push(page);
    const apiCalls: string[] = [];
    page.on('request', (r) => r.url().includes('/v1/') && apiCalls.push(r.url()));
    await page.goto(stack.link(null, PERIOD));
    await page.getByRole('heading', { name: 'Sign in to the recruitment dashboard' }).waitFor();
    expect(await page.getByLabel('Access token').count()).toBe(1);
    expect(apiCalls).toEqual([]);
  });

  it('takes the token from the link fragment, clears it from the URL, keeps it for the tab only, and never lets it reach the log', async () => {
    const token = await adminToken();
    const page = await open(token, PERIOD);
    const shown = await readFunnel(page);
    expect(shown.clicks?.value).toBe(14);
    expect(page.url()).not.toContain('token');
    expect(page.url()).not.toContain(token.split('.')[2]);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([token]);
    expect(await page.evaluate(() => Object.keys(localStorage).length + document.cookie.length)).toBe(0);
    // A reload in the same tab stays signed in; the URL alone (shared, bookmarked) carries no token.
    await page.reload();
    expect((await readFunnel(page)).clicks?.value).toBe(14);
    const log = stack.logLines.join('');
    expect(log).toContain('"route":"/v1/orgs/:orgId/recruitment-summary"');
    for (const t of tokens) {
      expect(log).not.toContain(t.split('.')[2]);
      expect(log).not.toContain(t.split('.')[1]);
    }
  });

  it('a token the API refuses (bad signature) brings back the sign-in state, saying why', async () => {
    const good = await adminToken();
    const [head, body] = good.split('.');
    const page = await open(`${head}.${body}.${'A'.repeat(43)}`, PERIOD);
    await page.locator('[data-reason]').waitFor();
    expect(await page.locator('[data-reason]').textContent()).toContain('Your token was refused (invalid or expired token)');
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(await page.locator('main [data-metric]').count()).toBe(0);
  });

  it('an expired token shows the sign-in state, and the API refuses it too', async () => {
    const expired = await stack.expiredToken('org_admin', 'admin-a', 'org-a');
    expect((await stack.api('/v1/orgs/org-a/recruitment-summary', expired)).status).toBe(401);
    const page = await open(expired, PERIOD);
    await page.locator('[data-reason]').waitFor();
    expect(await page.locator('[data-reason]').textContent()).toContain('Your token has expired');
  });

  it('the paste box signs in with a valid token and explains a malformed one', async () => {
    const page = await open(null, PERIOD);
    await page.getByLabel('Access token').fill('not a token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.locator('#token-problem').textContent()).toContain('That is not a valid token');
    await page.getByLabel('Access token').fill(await stack.token('mentor', 'm-a1', 'org-a'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect((await readFunnel(page)).clicks?.value).toBe(8);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to the recruitment dashboard' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it('a service token, which reads nothing, is sent back to sign-in', async () => {
    const page = await open(await stack.token('service', 'hook', 'org-a'), PERIOD);
    await page.locator('[data-reason]').waitFor();
    expect(await page.locator('[data-reason]').textContent()).toContain('service token');
  });
});

describe('designed states', () => {
  it('a 503 offers a retry that keeps the view, and the retry shows the numbers', async () => {
    const token = await adminToken();
    const page = await watchedPage(context, stack.origin);
    pages.push(page);
    await page.route('**/v1/orgs/org-a/recruitment-summary**', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', headers: { 'retry-after': '1' }, body: JSON.stringify({ error: { code: 'unavailable', message: 'statement timeout' } }) }),
    );
    page.problems.length = 0;
    await page.goto(stack.link(token, PERIOD));
    await page.locator('[data-error-status="503"]').waitFor();
    expect(await page.locator('[data-error-status="503"]').textContent()).toContain('The service is busy or unavailable');
    await page.unroute('**/v1/orgs/org-a/recruitment-summary**');
    await page.getByRole('button', { name: 'Try again' }).click();
    expect((await readFunnel(page)).clicks?.value).toBe(14);
    // The console error of the refused request is the browser's, not the page's.
    page.problems.splice(0, page.problems.length, ...page.problems.filter((p) => !p.includes('503')));
  });

  it('an empty period shows zeros, dashes for rates and says there is nothing to list', async () => {
    const page = await open(await adminToken(), { from: '2026-05-01', to: '2026-05-31', granularity: 'month' });
    const shown = await readFunnel(page);
    expect(Object.fromEntries(['clicks', 'uniqueClicks', 'installs', 'registrations', 'activations', 'clickToRegistration'].map((k) => [k, shown[k]]))).toEqual({
      clicks: { value: 0, text: '0' }, uniqueClicks: { value: 0, text: '0' }, installs: { value: 0, text: '0' }, registrations: { value: 0, text: '0' }, activations: { value: 0, text: '0' },
      clickToRegistration: { value: null, text: '–' },
    });
    expect(await page.locator('[data-section="top-mentors"] .state.empty').textContent()).toBe('No mentors with numbers in this period.');
    expect(await page.locator('[data-section="campaigns"] .state.empty').textContent()).toBe('No campaign had any activity in this period.');
  });
});

describe('for everyone', () => {
  it('writes numbers and dates the Norwegian way for a Norwegian browser', async () => {
    const nb = await browser.newContext({ locale: 'nb-NO', viewport: { width: 1280, height: 900 } });
    try {
      const token = await adminToken();
      const page = await open(token, { ...PERIOD, granularity: 'week' }, nb);
      const { body } = await stack.api<{ conversion: { clickToRegistration: number }; series: { periodStart: string }[] }>(`/v1/orgs/org-a/recruitment-summary?from=${PERIOD.from}&to=${PERIOD.to}&granularity=week`, token);
      const shown = await readFunnel(page);
      const nbPercent = new Intl.NumberFormat('nb-NO', { style: 'percent', maximumFractionDigits: 1 }).format(body.conversion.clickToRegistration);
      expect(shown.clickToRegistration?.text).toBe(nbPercent);
      expect(nbPercent).toMatch(/^\d+,\d\s%$/); // a decimal comma and a space before the sign
      const week = await readRows(page, '[data-section="series"]', 'data-period');
      expect(week[2]?.heading).toBe(new Intl.DateTimeFormat('nb-NO', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(new Date(`${body.series[2]?.periodStart}T00:00:00Z`)));
      await page.waitForSelector('.referrals-body[data-state="ready"]');
      const registered = await page.locator('tr[data-referral="r-a1"] td.when time').nth(1).textContent();
      expect(registered).toBe(new Intl.DateTimeFormat('nb-NO', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Oslo' }).format(new Date('2026-03-10T10:05:00Z')));
    } finally {
      await nb.close();
    }
  });

  it('fits a phone-sized screen without sideways scrolling of the page', async () => {
    const phone = await browser.newContext({ locale: 'en-GB', viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    try {
      const page = await open(await adminToken(), { ...PERIOD, granularity: 'week' }, phone);
      await readFunnel(page);
      await page.waitForSelector('.referrals-body[data-state="ready"]');
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
      await page.waitForTimeout(700);
      await page.screenshot({ path: join(ARTIFACTS, 'org-admin-phone.png'), fullPage: true });
    } finally {
      await phone.close();
    }
  });

  it('works from the keyboard: skip link first, sortable headers and filters reachable and labelled', async () => {
    const page = await open(await adminToken(), PERIOD);
    await readFunnel(page);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    await page.getByRole('button', { name: /^Registrations/ }).first().focus();
    await page.keyboard.press('Enter');
    await page.waitForURL(/sort=registrations&dir=desc/);
    await page.waitForFunction(() => document.activeElement?.id === 'sort-registrations'); // focus stays on the header after the redraw
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toMatch(/^Registrations/);
    // Every form control has a label, every table a caption, every chart a description.
    const unlabelled = await page.$$eval('input, select, textarea', (els) => els.filter((e) => !(e as HTMLInputElement).labels?.length).map((e) => e.id));
    expect(unlabelled).toEqual([]);
    expect(await page.$$eval('table', (els) => els.filter((t) => !t.querySelector('caption')).length)).toBe(0);
    expect(await page.$$eval('.chart', (els) => els.filter((c) => !c.getAttribute('aria-label')).length)).toBe(0);
  });

  it('meets WCAG AA contrast for every piece of text on the page', async () => {
    const page = await open(await adminToken(), PERIOD);
    await readFunnel(page);
    await page.waitForSelector('.referrals-body[data-state="ready"]');
    const failures = await page.evaluate(() => {
      const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
      const lum = ([r, g, b]: number[]) => {
        const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
        return 0.2126 * f(r ?? 0) + 0.7152 * f(g ?? 0) + 0.0722 * f(b ?? 0);
      };
      const background = (el: Element | null): number[] => {
        for (let e = el; e; e = e.parentElement) {
          const c = parse(getComputedStyle(e).backgroundColor);
          if (c.length < 4 || (c[3] ?? 1) > 0) return c.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const out: string[] = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!el || !node.textContent?.trim() || el.closest('svg, .visually-hidden, .skip-link, noscript')) continue;
        const style = getComputedStyle(el);
        const fg = lum(parse(style.color));
        const bg = lum(background(el));
        const ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
        const large = parseFloat(style.fontSize) >= 24 || (parseFloat(style.fontSize) >= 18.66 && Number(style.fontWeight) >= 700);
        if (ratio < (large ? 3 : 4.5)) out.push(`${ratio.toFixed(2)} ${el.tagName} "${node.textContent.trim().slice(0, 30)}"`);
      }
      return out;
    });
    expect(failures).toEqual([]);
  });
});

describe('serving', () => {
  it('serves the page with a strict CSP, long-cached hashed assets, and leaves the docs viewer working', async () => {
    const page = await stack.q.app.inject({ method: 'GET', url: '/dashboard/' });
    expect(page.statusCode).toBe(200);
    const csp = String(page.headers['content-security-policy']);
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(page.headers['cache-control']).toBe('no-cache');
    expect(page.body).not.toMatch(/<script(?![^>]*\bsrc=)/); // no inline script
    expect(page.body).not.toMatch(/https?:\/\//); // nothing from another host
    const asset = /src="\.\/(assets\/[^"]+\.js)"/.exec(page.body)?.[1] as string;
    const js = await stack.q.app.inject({ method: 'GET', url: `/dashboard/${asset}` });
    expect(js.statusCode).toBe(200);
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await stack.q.app.inject({ method: 'GET', url: '/dashboard' })).headers.location).toBe('/dashboard/');
    const docs = await stack.q.app.inject({ method: 'GET', url: '/docs/' });
    expect(docs.statusCode).toBe(200);
    expect(String(docs.headers['content-security-policy'])).not.toBe(csp);
  });
});
