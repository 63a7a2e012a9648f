import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Where the browser tests leave screenshots (git-ignored). */
export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts');

/**
 * Debian's Chromium (infra/scripts/chromium.sh installs it), headless. The networking flags
 * matter: without them Chromium tries to reach Google's update and field-trial servers and,
 * on a closed network, hangs. Playwright gives every launch a fresh temporary profile (it
 * refuses --user-data-dir for launch()) and removes it on close.
 */
export async function launchChromium(): Promise<Browser & { closeAll(): Promise<void> }> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath,
    headless: true,
    timeout: 60_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  return Object.assign(browser, {
    async closeAll() {
      await browser.close();
    },
  });
}

/** A page that records what must never happen: script errors, CSP violations, requests to other hosts. */
export async function watchedPage(context: BrowserContext, origin: string): Promise<Page & { problems: string[] }> {
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|403|404|503)/.test(msg.text())) problems.push(`console error: ${msg.text()}`);
  });
  page.on('request', (req) => {
    if (!req.url().startsWith(origin) && !req.url().startsWith('data:')) problems.push(`request to another host: ${req.url()}`);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e: SecurityPolicyViolationEvent) => console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  return Object.assign(page, { problems });
}
