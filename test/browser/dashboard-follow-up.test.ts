import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page, Request } from 'playwright-core';
import { ARTIFACTS, launchChromium, watchedPage } from './support/chromium.js';
import { startDashboardStack, type DashboardStack } from './support/dashboard-stack.js';
import { parseCsv } from '../../services/query-service/csv.js';

/**
 * The "Needs follow-up" section and the CSV downloads in Chromium, against the real query
 * service and the query fixture plus recruits registered days before now: the groups and rows
 * the page shows are the API's stuck recruits, and a downloaded CSV is the API's CSV, fetched
 * with the token in a header, never in a URL.
 */
let stack: DashboardStack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
const pages: (Page & { problems: string[] })[] = [];
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY);

type Item = { referralId: string; mentorId: string; mentorName: string | null; stageSince: string };

beforeAll(async () => {
  stack = await startDashboardStack('browser_follow_up');
  const rows: [string, string, Date, Date | null, string][] = [
    ['r-new', 'm-a1', ago(3), null, 'Nina Ny'],
    ['r-old', 'm-a2', ago(10), null, 'Per Venter'],
    ['r-act', 'm-a2', ago(20), ago(15), 'Anne Aktiv'],
  ];
  for (const [referralId, mentorId, registeredAt, activatedAt, name] of rows) {
    await stack.q.pool.query(
      `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, attributed_by, display_name, registered_at, activated_at, registration_event_id)
       values ($1, $1, 'org-a', $2, 'l-a2', 'LINK', $3, $4, $5, $1)`,
      [referralId, mentorId, name, registeredAt, activatedAt],
    );
  }
  browser = await launchChromium();
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 }, acceptDownloads: true });
}, 180_000);

afterAll(async () => {
  for (const page of pages) expect(page.problems, 'script errors, CSP violations or requests to other hosts').toEqual([]);
  await context?.close();
  await browser?.closeAll();
  await stack?.close();
});

async function open(token: string, view: Record<string, string>) {
  const page = await watchedPage(context, stack.origin);
  pages.push(page);
  await page.goto(stack.link(token, view));
  return page;
}

/** The follow-up groups as shown: mentor id, the name shown, and the recruits' referral ids and stageSince. */
async function readFollowUp(page: Page) {
  await page.waitForSelector('[data-section="follow-up"] .follow-up-list[data-state="ready"]');
  return page.$$eval('[data-section="follow-up"] .follow-up-mentor', (groups) =>
    groups.map((g) => ({
      mentorId: g.getAttribute('data-mentor'),
      name: g.querySelector('.mentor-name')?.textContent ?? null,
      recruits: [...g.querySelectorAll('tr[data-referral]')].map((tr) => [tr.getAttribute('data-referral'), (tr.querySelector('td.when') as HTMLElement).dataset.value]),
    })),
  );
}

/** What the page should show for an API answer: by mentor (most waiting first), longest waiting first. */
function groupsOf(items: Item[]) {
  const by = new Map<string, Item[]>();
  for (const i of items) by.set(i.mentorId, [...(by.get(i.mentorId) ?? []), i]);
  return [...by.values()]
    .sort((a, b) => b.length - a.length || (a[0]!.mentorName ?? a[0]!.mentorId).localeCompare(b[0]!.mentorName ?? b[0]!.mentorId))
    .map((g) => ({ mentorId: g[0]!.mentorId, name: g[0]!.mentorName ?? g[0]!.mentorId, recruits: [...g].sort((a, b) => a.stageSince.localeCompare(b.stageSince)).map((i) => [i.referralId, i.stageSince]) }));
}

async function shot(page: Page, name: string, selector: string) {
  await page.waitForTimeout(500);
  await page.locator(selector).screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Clicks a CSV button and returns the downloaded file's text and the request that fetched it. */
async function downloadCsv(page: Page, button: string) {
  const requests: Request[] = [];
  const watch = (req: Request) => void (req.url().includes('format=csv') && requests.push(req));
  page.on('request', watch);
  const [download] = await Promise.all([page.waitForEvent('download'), page.locator(button).click()]);
  page.off('request', watch);
  const path = await download.path();
  return { name: download.suggestedFilename(), text: readFileSync(path, 'utf8'), request: requests[0] };
}

describe('needs follow-up', () => {
  it("a coordinator sees their mentors' recruits waiting 7 days or more, grouped by mentor, and can widen the wait", async () => {
    const token = await stack.token('coordinator', 'coord-a', 'org-a');
    const page = await open(token, { view: 'coordinator', from: '2026-03-01', to: '2026-03-31' });
    const { body } = await stack.api<{ items: Item[] }>('/v1/coordinators/coord-a/referrals?stuckDays=7&limit=200', token);
    expect(body.items.map((i) => i.referralId)).toEqual(['r-old', 'r-a3', 'r-a2']);
    const shown = await readFollowUp(page);
    expect(shown).toEqual(groupsOf(body.items));
    expect(shown.map((g) => [g.name, g.recruits.map((r) => r[0])])).toEqual([['Kari Nordmann', ['r-a2', 'r-a3']], ['Ola Hansen', ['r-old']]]);
    expect(await page.locator('[data-section="follow-up"] tr[data-referral="r-old"] [data-metric="waitingDays"]').getAttribute('data-value')).toBe('10');
    await shot(page, 'follow-up-coordinator', '[data-section="follow-up"]');

    // Only the last 2 days: the recruit of 3 days ago joins; 400 days: nobody.
    await page.fill('#follow-up-days', '2');
    await page.locator('#follow-up-days').dispatchEvent('change');
    await page.waitForFunction(() => document.querySelectorAll('[data-section="follow-up"] tr[data-referral]').length === 4);
    expect((await readFollowUp(page)).map((g) => [g.mentorId, g.recruits.map((r) => r[0])])).toEqual([['m-a1', ['r-a2', 'r-a3', 'r-new']], ['m-a2', ['r-old']]]);
    await page.fill('#follow-up-days', '400');
    await page.locator('#follow-up-days').dispatchEvent('change');
    await page.waitForSelector('[data-section="follow-up"] .state.empty');
    expect(await page.locator('[data-section="follow-up"] .state.empty').textContent()).toMatch(/^No recruit has been waiting 400 days or more/);
  });

  it('an org admin sees every mentor of the organization in it', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const page = await open(token, { view: 'org', org: 'org-a', from: '2026-03-01', to: '2026-03-31' });
    const { body } = await stack.api<{ items: Item[] }>('/v1/orgs/org-a/referrals?stuckDays=7&limit=200', token);
    const shown = await readFollowUp(page);
    expect(shown).toEqual(groupsOf(body.items));
    expect(shown.map((g) => g.name)).toEqual(['Kari Nordmann', 'Ola Hansen', 'Xavier A']);
    await shot(page, 'follow-up-org-admin', '[data-section="follow-up"]');
  });
});

describe('Download CSV', () => {
  it("downloads the follow-up list and the mentor performance as the API's CSV, with the token in a header only", async () => {
    const token = await stack.token('coordinator', 'coord-a', 'org-a');
    const page = await open(token, { view: 'coordinator', from: '2026-03-01', to: '2026-03-31' });
    await readFollowUp(page);
    const api = async (path: string) => (await fetch(`${stack.origin}${path}`, { headers: { authorization: `Bearer ${token}`, accept: 'text/csv' } })).text();

    const followUp = await downloadCsv(page, '[data-section="follow-up"] button.csv-download');
    expect(followUp.name).toBe('referrals-coord-a.csv');
    expect(followUp.text).toBe(await api('/v1/coordinators/coord-a/referrals?stuckDays=7'));
    expect(parseCsv(followUp.text).slice(1).map((r) => r[2])).toEqual(['r-old', 'r-a3', 'r-a2']);
    expect(followUp.request?.url()).not.toContain(token);
    expect(await followUp.request?.headerValue('authorization')).toBe(`Bearer ${token}`);

    await page.waitForSelector('[data-section="mentor-performance"] button.csv-download');
    const perf = await downloadCsv(page, '[data-section="mentor-performance"] button.csv-download');
    expect(perf.name).toBe('mentor-performance-coord-a-2026-03-01-2026-03-31.csv');
    expect(perf.text).toBe(await api('/v1/coordinators/coord-a/mentor-performance?from=2026-03-01&to=2026-03-31&limit=200'));
    expect(parseCsv(perf.text).map((r) => r.slice(0, 3))).toEqual([['rank', 'mentorId', 'mentorName'], ['1', 'm-a1', 'Kari Nordmann'], ['2', 'm-a2', 'Ola Hansen']]);
    await shot(page, 'csv-buttons-coordinator', '[data-section="mentor-performance"]');
    // Every table of the view has its button.
    expect(await page.locator('button.csv-download').count()).toBe(5);
  });

  it('a CSV the service refuses says why beside the button', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const page = await open(token, { view: 'org', org: 'org-a', from: '2026-03-01', to: '2026-03-31' });
    await readFollowUp(page);
    await page.route('**/v1/orgs/org-a/referrals?*format=csv*', (route) => route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { code: 'unavailable', message: 'retry in 7 s' } }) }));
    await page.locator('[data-section="referrals"] button.csv-download').click();
    await page.waitForSelector('[data-section="referrals"] .csv-status:text("retry in 7 s")');
    expect(await page.locator('[data-section="referrals"] .csv-status').textContent()).toBe('The CSV could not be downloaded: retry in 7 s');
  });
});
