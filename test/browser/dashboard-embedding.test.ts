import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import { join } from 'node:path';
import { ARTIFACTS, launchChromium } from './support/chromium.js';
import { startDashboardStack, type DashboardStack } from './support/dashboard-stack.js';

/**
 * Issue 20 finding 5: the dashboard took a token by postMessage from any parent once
 * CORS_ORIGINS was *. Now only the origins of DASHBOARD_EMBED_ORIGINS may frame it and hand it
 * a token, and a token that would replace the signed-in one is only taken after the viewer
 * says so. The embedding app is a page of a server of this test, reached as
 * http://localhost:<port> (listed) and http://127.0.0.1:<port> (not listed, another origin).
 */
let stack: DashboardStack;
let parentServer: Server;
let listed: string;
let unlisted: string;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;

beforeAll(async () => {
  // The embedding app: a page that frames ?src=, and records the dashboard's ready message.
  parentServer = createServer((req, res) => {
    const src = new URL(req.url ?? '/', 'http://x').searchParams.get('src') ?? '';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><title>embedding app</title>
<script>window.ready = false; window.loaded = false;
addEventListener('message', (e) => { if (e.data && e.data.type === 'recruitment-dashboard:ready') window.ready = true; });</script>
<iframe id="dash" width="1000" height="700" src="${src.replace(/"/g, '&quot;')}" onload="window.loaded = true"></iframe>`);
  });
  await new Promise<void>((r) => parentServer.listen(0, '127.0.0.1', r));
  const port = (parentServer.address() as AddressInfo).port;
  listed = `http://localhost:${port}`;
  unlisted = `http://127.0.0.1:${port}`;
  // CORS open to every origin, as in the finding: framing must not follow it.
  stack = await startDashboardStack('browser_embedding', { http: { corsOrigins: ['*'], embedOrigins: [listed] } });
  browser = await launchChromium();
  context = await browser.newContext({ locale: 'en-US' });
}, 180_000);

afterAll(async () => {
  await context?.close();
  await browser?.closeAll();
  await stack?.close();
  await new Promise<void>((r) => (parentServer ? parentServer.close(() => r()) : r()));
});

async function embedded(parentOrigin: string, token: string | null): Promise<{ page: Page; frame: () => Frame }> {
  const page = await context.newPage();
  await page.goto(`${parentOrigin}/?src=${encodeURIComponent(stack.link(token))}`);
  await page.waitForFunction(() => (window as unknown as { loaded: boolean }).loaded);
  const frame = () => page.frames().find((f) => f.url().startsWith(`${stack.origin}/dashboard/`)) as Frame;
  return { page, frame };
}
const hand = (page: Page, token: string) =>
  page.evaluate((t) => (document.getElementById('dash') as HTMLIFrameElement).contentWindow!.postMessage({ type: 'recruitment-dashboard:token', token: t }, '*'), token);
const signedInAs = async (frame: Frame) => (await frame.locator('.top .who .sub').count()) === 0 ? null : frame.locator('.top .who .sub').textContent();

describe('a token handed over by the embedding app', () => {
  it('from a listed origin signs a signed-out page in', async () => {
    const { page, frame } = await embedded(listed, null);
    await page.waitForFunction(() => (window as unknown as { ready: boolean }).ready);
    await frame().getByRole('heading', { name: 'Sign in to the recruitment dashboard' }).waitFor();
    await hand(page, await stack.token('org_admin', 'admin-a', 'org-a'));
    await frame().locator('.top .who .sub').waitFor();
    expect(await signedInAs(frame())).toBe('admin-a');
    await page.close();
  });

  it('from a listed origin replaces the signed-in token only after the viewer confirms', async () => {
    const { page, frame } = await embedded(listed, await stack.token('org_admin', 'admin-a', 'org-a'));
    await page.waitForFunction(() => (window as unknown as { ready: boolean }).ready);
    await frame().locator('.top .who .sub').waitFor();
    expect(await signedInAs(frame())).toBe('admin-a');

    await hand(page, await stack.token('coordinator', 'coord-a', 'org-a'));
    const offer = frame().getByRole('alertdialog');
    await offer.waitFor();
    expect(await offer.textContent()).toContain('Coordinator coord-a · org-a, replacing Organization admin admin-a');
    expect(await signedInAs(frame())).toBe('admin-a'); // not yet
    await offer.getByRole('button', { name: 'Stay admin-a' }).click();
    expect(await frame().getByRole('alertdialog').count()).toBe(0);
    expect(await signedInAs(frame())).toBe('admin-a');

    await hand(page, await stack.token('coordinator', 'coord-a', 'org-a'));
    await frame().getByRole('alertdialog').getByRole('button', { name: 'Switch to coord-a' }).click();
    await frame().locator('.top .who[data-role="coordinator"]').waitFor();
    expect(await signedInAs(frame())).toBe('coord-a');
    await page.close();
  });

  it('a link with another token, in a tab signed in already, is an offer too, not a silent switch', async () => {
    // A frame whose storage the browser partitions away holds its token in memory only, so a new address starts it
    // signed out; a tab (or a frame with storage) keeps its token, and a link must not replace it unasked.
    const page = await context.newPage();
    await page.goto(stack.link(await stack.token('org_admin', 'admin-a', 'org-a')));
    await page.locator('.top .who .sub').waitFor();
    await page.goto(stack.link(await stack.token('coordinator', 'coord-a', 'org-a'), { view: 'org' }));
    const offer = page.getByRole('alertdialog');
    await offer.waitFor();
    expect(await offer.textContent()).toContain('The link you opened signs you in as Coordinator coord-a · org-a, replacing Organization admin admin-a');
    await page.screenshot({ path: join(ARTIFACTS, 'token-offer-link.png') });
    expect(await signedInAs(page.mainFrame())).toBe('admin-a');
    expect(page.url()).not.toContain('token');
    await offer.getByRole('button', { name: 'Switch to coord-a' }).click();
    await page.locator('.top .who[data-role="coordinator"]').waitFor();
    expect(await signedInAs(page.mainFrame())).toBe('coord-a');
    await page.close();
  });

  it('from an origin not in the list does not sign in', async () => {
    // A parent of the dashboard's own origin (which frame-ancestors 'self' lets frame it) is not in the list.
    const page = await context.newPage();
    await page.goto(stack.link(null));
    await page.getByRole('heading', { name: 'Sign in to the recruitment dashboard' }).waitFor();
    await page.evaluate((src) => {
      const frame = document.createElement('iframe');
      frame.id = 'dash';
      frame.src = src;
      document.body.append(frame);
    }, stack.link(null));
    const frame = () => page.frames().find((f) => f !== page.mainFrame()) as Frame;
    await page.waitForFunction(() => (document.getElementById('dash') as HTMLIFrameElement | null)?.contentDocument?.documentElement?.dataset.embed === 'listening');
    await hand(page, await stack.token('org_admin', 'admin-a', 'org-a'));
    await page.waitForFunction(() => (document.getElementById('dash') as HTMLIFrameElement | null)?.contentDocument?.documentElement?.dataset.embedRefused === '1');
    expect(await signedInAs(frame())).toBeNull();
    expect(await frame().getByRole('heading', { name: 'Sign in to the recruitment dashboard' }).count()).toBe(1);
    expect(await frame().evaluate(() => sessionStorage.getItem('recruitment-dashboard.token'))).toBeNull();
    await page.close();
  });

  it('an origin not in the list cannot even frame the page, though CORS_ORIGINS is *', async () => {
    const { page } = await embedded(unlisted, await stack.token('org_admin', 'admin-a', 'org-a'));
    expect(page.frames().some((f) => f.url().startsWith(`${stack.origin}/dashboard/`) && f.url() !== '')).toBe(false);
    expect(await page.frameLocator('#dash').locator('#main').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { ready: boolean }).ready)).toBe(false);
    await page.close();
  });
});
