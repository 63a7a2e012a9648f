import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium, watchedPage } from './support/chromium.js';
import { startDashboardStack, type DashboardStack } from './support/dashboard-stack.js';
import { readFunnel } from './support/read-page.js';
import { events } from '../support/query-fixture.js';
import { applyIncrements } from '../../libs/funnel/funnel-store.js';
import { sumIncrements } from '../../libs/funnel/increments.js';
import { presetRange, todayIn } from '../../dashboard/src/presets.js';

/**
 * Comparison with an earlier period, date range presets, the two languages and the referral
 * table at 1280 px, in Chromium against the real query service. Besides the query fixture
 * (March 2026), org-a has earlier activity here, so March compares with 29 January to 28
 * February 2026 on a basis: its first activity is on 15 December 2025.
 *
 *   m-a3 none    2025-12-15 12:00Z  1 click (unique)
 *   m-a1 none    2026-02-10 12:00Z  2 clicks (2 unique), 1 registration
 *   m-a2 spring  2026-02-20 12:00Z  3 clicks (3 unique), 2 registrations, 1 activation
 *
 * org-a's March: 14 clicks (12 unique), 2 installs, 7 registrations, 4 activations; the period
 * before: 5 clicks (5 unique), 0 installs, 3 registrations, 1 activation. org-b's first
 * activity is on 9 March 2026, so its earlier periods have no basis.
 */
let stack: DashboardStack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
const pages: (Page & { problems: string[] })[] = [];
const MARCH = { from: '2026-03-01', to: '2026-03-31' };

beforeAll(async () => {
  stack = await startDashboardStack('browser_compare');
  const earlier = [
    ...events('org-a', 'm-a3', null, '2025-12-15T12:00:00Z', { CLICKED: 1, UNIQUE: 1 }),
    ...events('org-a', 'm-a1', null, '2026-02-10T12:00:00Z', { CLICKED: 2, UNIQUE: 2, REGISTERED: 1 }),
    ...events('org-a', 'm-a2', 'spring', '2026-02-20T12:00:00Z', { CLICKED: 3, UNIQUE: 3, REGISTERED: 2, ACTIVATED: 1 }),
  ];
  await applyIncrements(stack.q.pool, sumIncrements(earlier), stack.env.config.defaultTimezone);
  // A recruit as production has them: a long name, an opaque id with no place to break, and a
  // time in every stage column. At 1280 px all eight columns must still show.
  await stack.q.pool.query(
    `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, clicked_at, installed_at, registered_at, activated_at, registration_event_id)
     values ('r-long', $1, 'org-a', 'm-a1', 'l-a1', 'spring', 'LINK', 'Maximilian Oppenheimer-Lindqvist', $2, $3, $4, $5, 'evt-long')`,
    ['usr_01HV8J3ZK2Q4W5X6Y7Z8A9B0C1', new Date('2026-03-31T09:00:00Z'), new Date('2026-03-31T09:20:00Z'), new Date('2026-03-31T09:40:00Z'), new Date('2026-03-31T12:00:00Z')],
  );
  browser = await launchChromium();
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
}, 180_000);

afterAll(async () => {
  for (const page of pages) expect(page.problems, 'script errors, CSP violations or requests to other hosts').toEqual([]);
  await context?.close();
  await browser?.closeAll();
  await stack?.close();
});

async function open(token: string, view: Record<string, string>, ctx = context) {
  const page = await watchedPage(ctx, stack.origin);
  pages.push(page);
  await page.goto(stack.link(token, view));
  return page;
}
/** The changes the funnel shows: per step and rate, the number (null for n/a) and its text. */
async function readChanges(page: Page, scope = '[data-section="funnel"]') {
  await page.waitForSelector(`${scope} [data-change="clicks"]`);
  const rows = await page.$$eval(`${scope} [data-change]`, (els) => els.map((e) => [(e as HTMLElement).dataset.change, (e as HTMLElement).dataset.value, e.textContent] as const));
  return Object.fromEntries(rows.map(([k, v, text]) => [k as string, { value: v === 'null' ? null : Number(v), text }]));
}
const heading = (page: Page, text: string) => page.waitForFunction((t) => document.querySelector('h1')?.textContent === t, text);
const shot = async (page: Page, name: string) => {
  await page.waitForTimeout(700); // charts animate in
  await page.screenshot({ path: join(ARTIFACTS, name), fullPage: true });
};

describe('compared with before', () => {
  it('shows each total with its change against the period before, and n/a where that period had none', async () => {
    const page = await open(await stack.token('org_admin', 'admin-a', 'org-a'), MARCH);
    const changes = await readChanges(page);
    expect(changes).toEqual({
      clickToRegistration: { value: 7 / 12 - 3 / 5, text: '-1.7 pp' },
      registrationToActivation: { value: 4 / 7 - 1 / 3, text: '+23.8 pp' },
      clickToActivation: { value: 4 / 12 - 1 / 5, text: '+13.3 pp' },
      clicks: { value: (14 - 5) / 5, text: '+180%' },
      uniqueClicks: { value: (12 - 5) / 5, text: '+140%' },
      installs: { value: null, text: 'n/a' }, // 0 installs before: no percentage, not ∞
      registrations: { value: (7 - 3) / 3, text: '+133.3%' },
      activations: { value: 3, text: '+300%' },
    });
    expect(await page.locator('[data-section="funnel"] .compared').textContent()).toBe('Changes compared with Jan 29, 2026 to Feb 28, 2026. “n/a” where the earlier period had none.');
    expect(await page.locator('[data-change="registrations"]').getAttribute('title')).toBe('Before: 3');
    await shot(page, 'compare-org-previous.png');
  });

  it('says n/a for every total when the earlier period begins before the organization’s first activity', async () => {
    const page = await open(await stack.token('org_admin', 'admin-b', 'org-b'), MARCH);
    const changes = await readChanges(page);
    expect(Object.values(changes).map((c) => c.text)).toEqual(Array(8).fill('n/a'));
    expect(await page.locator('[data-section="funnel"] .compared').getAttribute('data-basis')).toBe('false');
    expect(await page.locator('[data-section="funnel"] .compared').textContent()).toBe("No changes shown: the organization's first activity was on Mar 9, 2026, after Jan 29, 2026 to Feb 28, 2026 began.");
    // A year earlier, org-a had not started either.
    const year = await open(await stack.token('org_admin', 'admin-a', 'org-a'), { ...MARCH, compare: 'year' });
    expect(Object.values(await readChanges(year)).every((c) => c.value === null && c.text === 'n/a')).toBe(true);
    expect(await year.locator('[data-section="funnel"] .compared').getAttribute('data-compared')).toBe('2025-03-01..2025-03-31');
    await shot(page, 'compare-no-basis.png');
  });

  it("shows each of a coordinator's mentors with their change", async () => {
    const page = await open(await stack.token('coordinator', 'coord-a', 'org-a'), MARCH);
    await page.waitForSelector('[data-section="mentor-performance"] tr[data-mentor="m-a1"] [data-change="registrations"]');
    const registrations = await page.$$eval('[data-section="mentor-performance"] tr[data-mentor]', (rows) =>
      rows.map((r) => [r.getAttribute('data-mentor'), r.querySelector('[data-change="registrations"]')?.textContent, r.querySelector('[data-change="activations"]')?.textContent]));
    // m-a1: 3 registrations (1 before), 1 activation (0 before); m-a2: 3 and 3 (2 and 1 before).
    expect(registrations).toEqual([['m-a1', '+200%', 'n/a'], ['m-a2', '+50%', '+200%']]);
    await shot(page, 'compare-coordinator.png');
  });
});

describe('date range presets', () => {
  it("a preset sets the range, cut in the organization's timezone, and is marked as chosen", async () => {
    const page = await open(await stack.token('org_admin', 'admin-a', 'org-a'), MARCH);
    await readFunnel(page);
    const expected = presetRange('lastMonth', todayIn('Europe/Oslo'));
    await page.getByRole('button', { name: 'Last month' }).click();
    await page.waitForURL(new RegExp(`from=${expected.from}&to=${expected.to}`));
    await page.waitForSelector('[data-section="funnel"] [data-metric="clicks"]');
    expect(await page.getByRole('button', { name: 'Last month' }).getAttribute('aria-pressed')).toBe('true');
    const [y, m, d] = expected.from.split('-');
    expect(await page.locator('#range-from').inputValue()).toBe(`${m}/${d}/${y}`);
    const thisWeek = presetRange('thisWeek', todayIn('Europe/Oslo'));
    await page.getByRole('button', { name: 'This week' }).click();
    await page.waitForURL(new RegExp(`from=${thisWeek.from}&to=${thisWeek.to}`));
  });

  it('typed dates are read the way the language writes them', async () => {
    const page = await open(await stack.token('org_admin', 'admin-a', 'org-a'), MARCH);
    await readFunnel(page);
    await page.locator('#range-from').fill('03/09/2026');
    await page.locator('#range-to').fill('03/15/2026');
    await page.locator('#range-apply').click();
    await page.waitForURL(/from=2026-03-09&to=2026-03-15/);
    await page.locator('#range-from').fill('31/12/2026'); // no 31st month
    await page.locator('#range-apply').click();
    expect(await page.locator('#range-from').getAttribute('aria-invalid')).toBe('true');
    expect(page.url()).toMatch(/from=2026-03-09/);
  });
});

describe('in Norwegian and English', () => {
  it('follows a Norwegian browser, switches to English and back, and keeps the choice', async () => {
    const nb = await browser.newContext({ locale: 'nb-NO', viewport: { width: 1280, height: 900 } });
    try {
      const page = await open(await stack.token('org_admin', 'admin-a', 'org-a'), MARCH, nb);
      await readFunnel(page);
      expect(await page.locator('h1').textContent()).toBe('Rekruttering i org-a');
      expect(await page.locator('[data-section="funnel"] h2').textContent()).toBe('Trakt');
      expect(await page.locator('html').getAttribute('lang')).toBe('nb');
      expect(await page.locator('#range-from').inputValue()).toBe('01.03.2026');
      expect(await page.locator('[data-section="funnel"] .intro').first().textContent()).toBe('Fra klikk på invitasjonslenker til aktiverte medlemmer, 1. mars 2026–31. mars 2026.');
      expect(await page.locator('[data-change="installs"]').textContent()).toBe('i.t.');
      expect(await page.locator('[data-change="registrations"]').textContent()).toBe('+133,3\u00a0%'); // a no-break space before the sign
      expect(await page.getByRole('button', { name: 'Forrige måned' }).count()).toBe(1);
      await shot(page, 'language-nb.png');
      await page.screenshot({ path: join(ARTIFACTS, 'language-nb-top.png') }); // the first screen: presets, comparison, funnel

      await page.getByLabel('Språk').selectOption('en');
      await heading(page, 'Recruitment in org-a');
      expect(await page.locator('[data-section="funnel"] h2').textContent()).toBe('Funnel');
      expect(await page.locator('#range-from').inputValue()).toBe('01/03/2026'); // English, written the British way (the browser is not English)
      expect(await page.locator('[data-section="funnel"] .intro').first().textContent()).toBe('From clicks on invite links to activated members, 1 Mar 2026 to 31 Mar 2026.');
      expect(await page.locator('html').getAttribute('lang')).toBe('en');
      await page.reload();
      await heading(page, 'Recruitment in org-a'); // the choice is kept
      await shot(page, 'language-en.png');

      await page.getByLabel('Language').selectOption('nb');
      await heading(page, 'Rekruttering i org-a');
      expect(await page.locator('#range-from').inputValue()).toBe('01.03.2026');
      // The newer parts of the page speak Norwegian too: the follow-up list, the CSV buttons
      // and a recruit's attribution explained.
      await page.waitForSelector('[data-section="follow-up"] .follow-up-list[data-state="ready"]');
      expect(await page.locator('[data-section="follow-up"] h2').textContent()).toBe('Trenger oppfølging');
      expect(await page.locator('label[for="follow-up-days"]').textContent()).toBe('Har ventet minst (dager)');
      const funnelCsv = page.locator('[data-section="funnel"] button.csv-download');
      expect(await funnelCsv.textContent()).toBe('Last ned CSV');
      expect(await funnelCsv.getAttribute('aria-label')).toBe('Last ned trakten som CSV');
      expect(await page.getByRole('button', { name: 'Last ned oppfølgingslisten som CSV' }).count()).toBe(1);
      await page.waitForSelector('.referrals-body[data-state="ready"]');
      const explain = page.locator('tr[data-referral="r-a1"] button.explain');
      expect(await explain.textContent()).toBe('Hvorfor talt med');
      await explain.click();
      const explained = page.locator(`#${await explain.getAttribute('aria-controls')}`);
      await explained.locator('.explanation-body[data-state="ready"]').waitFor();
      expect(await explained.locator('.rule').textContent()).toBe('Registrerte seg gjennom lenken l-a1 til Kari Nordmann.');
      expect(await explained.locator('li.outcome-won .outcome').textContent()).toBe('vant: registreringen oppga denne lenken');
      expect(await explain.textContent()).toBe('Skjul forklaringen');
      await explained.screenshot({ path: join(ARTIFACTS, 'language-nb-explanation.png') });
    } finally {
      await nb.close();
    }
  });

  it('follows an English browser, with its own way of writing dates', async () => {
    const page = await open(await stack.token('mentor', 'm-a1', 'org-a'), MARCH);
    await readFunnel(page);
    expect(await page.locator('h1').textContent()).toBe('Your referrals');
    expect(await page.locator('#range-to').inputValue()).toBe('03/31/2026');
    expect(await page.locator('[data-section="funnel"] .intro').first().textContent()).toBe('Mar 1, 2026 to Mar 31, 2026.');
  });
});

describe('the referral table at 1280 px', () => {
  it('shows its last column, Activated, without scrolling sideways', async () => {
    const page = await open(await stack.token('org_admin', 'admin-a', 'org-a'), MARCH);
    await page.waitForSelector('.referrals-body[data-state="ready"]');
    const last = page.locator('table.referrals thead th').last();
    expect(await last.textContent()).toBe('Activated');
    const box = await last.boundingBox();
    expect(box).not.toBeNull();
    expect((box?.x ?? 0) + (box?.width ?? 0)).toBeLessThanOrEqual(1280);
    const region = await page.locator('[data-section="referrals"] .table-scroll').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, right: el.getBoundingClientRect().right }));
    expect(region.scroll).toBeLessThanOrEqual(region.client);
    expect(region.right).toBeLessThanOrEqual(1280);
    // Activation times show in the column, inside the screen.
    const activated = page.locator('tr[data-referral="r-long"] td.when').last();
    expect(await activated.getAttribute('data-value')).toBe('2026-03-31T12:00:00.000Z');
    const cell = await activated.boundingBox();
    expect((cell?.x ?? 0) + (cell?.width ?? 0)).toBeLessThanOrEqual(1280);
    await page.locator('[data-section="referrals"]').scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
    await page.locator('[data-section="referrals"]').screenshot({ path: join(ARTIFACTS, 'referrals-1280.png') });
  });
});
