import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium, watchedPage } from './support/chromium.js';
import { startDashboardStack, type DashboardStack } from './support/dashboard-stack.js';
import { readFunnel, readRows, valuesOf } from './support/read-page.js';
import { events } from '../support/query-fixture.js';
import { applyIncrements } from '../../libs/funnel/funnel-store.js';
import { sumIncrements } from '../../libs/funnel/increments.js';

/**
 * Each role's dashboard in a real browser against the real query service and the query
 * fixture: every number read from the page equals the API's answer to the same query for the
 * same token, and editing the URL towards another scope shows the API's refusal, not numbers.
 */
let stack: DashboardStack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
const pages: (Page & { problems: string[] })[] = [];
const PERIOD = { from: '2026-03-01', to: '2026-03-31' };
const en = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const pct = new Intl.NumberFormat('en-US', { style: 'percent', maximumFractionDigits: 1 });
const rateText = (r: number | null) => (r === null ? '–' : pct.format(r));
const STEPS = ['clicks', 'uniqueClicks', 'installs', 'registrations', 'activations'] as const;
type Totals = Record<(typeof STEPS)[number], number>;
type Conversion = { clickToRegistration: number | null; registrationToActivation: number | null; clickToActivation: number | null };
type Point = Totals & { periodStart: string; partial?: true };
type Mentor = { mentorId: string; mentorName: string | null; rank: number; totals: Totals; conversion: Conversion };
type Referral = { referralId: string; stage: string; clickedAt: string | null; installedAt: string | null; registeredAt: string | null; activatedAt: string | null };

/**
 * Fourteen more recruits of m-a3 (org-a), so the referral lists have several pages; one display
 * name is markup. Their clicks, registrations and activations are counted into the funnel tables
 * too, as the aggregator would, so the page's numbers agree with its recruit list.
 */
const EXTRA = 14;
export const XSS_NAME = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';

beforeAll(async () => {
  stack = await startDashboardStack('browser_roles');
  for (let i = 1; i <= EXTRA; i++) {
    const at = new Date(Date.UTC(2026, 2, 14, 8, i));
    await stack.q.pool.query(
      `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, clicked_at, registered_at, activated_at, registration_event_id)
       values ($1, $2, 'org-a', 'm-a3', 'l-a3', null, 'LINK', $3, $4, $4, $5, $6)`,
      [`r-e${i}`, `u-e${i}`, i === 3 ? XSS_NAME : `Extra ${i}`, at, i % 3 === 0 ? new Date(at.getTime() + 3_600_000) : null, `evt-e${i}`],
    );
  }
  const activated = Math.floor(EXTRA / 3);
  await applyIncrements(stack.q.pool, sumIncrements(events('org-a', 'm-a3', null, '2026-03-14T08:01:00Z', { CLICKED: EXTRA, UNIQUE: EXTRA, REGISTERED: EXTRA })), stack.env.config.defaultTimezone);
  await applyIncrements(stack.q.pool, sumIncrements(events('org-a', 'm-a3', null, '2026-03-14T09:03:00Z', { ACTIVATED: activated })), stack.env.config.defaultTimezone);
  browser = await launchChromium();
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
}, 180_000);

afterAll(async () => {
  for (const page of pages) expect(page.problems, 'script errors, CSP violations or requests to other hosts').toEqual([]);
  await context?.close();
  await browser?.closeAll();
  await stack?.close();
});

async function open(token: string | null, view: Record<string, string> = {}) {
  const page = await watchedPage(context, stack.origin);
  pages.push(page);
  await page.goto(stack.link(token, view));
  return page;
}
const query = (q: Record<string, string | number>) => new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)])).toString();

/** The funnel section equals the API's totals and conversion, with each step's conversion from the step before. */
async function expectFunnel(page: Page, totals: Totals, conversion: Conversion) {
  const shown = await readFunnel(page);
  for (const step of STEPS) {
    expect(shown[step], step).toEqual({ value: totals[step], text: en.format(totals[step]) });
  }
  for (const [name, r] of Object.entries(conversion)) expect(shown[name], name).toEqual({ value: r, text: rateText(r) });
  STEPS.slice(1).forEach((step, i) => {
    const before = totals[STEPS[i] as (typeof STEPS)[number]];
    const r = before === 0 ? null : totals[step] / before;
    expect(shown[`step-${step}`], `step ${step}`).toEqual({ value: r, text: rateText(r) });
  });
}

async function expectSeries(page: Page, series: Point[]) {
  const rows = await readRows(page, '[data-section="series"]', 'data-period');
  expect(rows.map((r) => ({ periodStart: r.key, ...valuesOf(r.cells) }))).toEqual(series.map(({ partial: _p, ...p }) => p));
  expect(rows.filter((r) => r.heading?.includes('(partial)')).map((r) => r.key)).toEqual(series.filter((p) => p.partial).map((p) => p.periodStart));
}

function mentorRow(m: Mentor) {
  return { key: m.mentorId, name: m.mentorName ?? m.mentorId, rank: m.rank, registrations: m.totals.registrations, activations: m.totals.activations, clickToRegistration: m.conversion.clickToRegistration, uniqueClicks: m.totals.uniqueClicks, clicks: m.totals.clicks };
}
/** The mentor rows shown (hidden ones, left out by a search, too), each with the name it shows. */
async function readMentors(page: Page, scope: string) {
  const names = await page.$$eval(`${scope} tr[data-mentor] .mentor-name`, (els) => els.map((e) => e.textContent));
  return (await readRows(page, scope, 'data-mentor')).map((r, i) => ({ key: r.key, name: names[i], ...valuesOf(r.cells) }));
}
const visibleMentors = (page: Page, scope: string) => page.$$eval(`${scope} tr[data-mentor]:not([hidden])`, (rows) => rows.map((r) => r.getAttribute('data-mentor')));

const referralRow = (r: Referral) => ({ key: r.referralId, stage: r.stage, times: [r.clickedAt, r.installedAt, r.registeredAt, r.activatedAt] });
async function readReferrals(page: Page, pageNumber = 1) {
  await page.waitForSelector(`.referrals-body[data-state="ready"][data-page="${pageNumber}"]`);
  return (await readRows(page, '[data-section="referrals"]', 'data-referral')).map((r) => ({ key: r.key, stage: r.stage, times: r.times }));
}

async function screenshot(page: Page, name: string) {
  await page.waitForTimeout(700); // chart animations settle
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** A view outside the token's scope: the API's status explained, no number shown. */
async function expectRefused(page: Page, status: 403 | 404) {
  await page.waitForSelector(`[data-error-status="${status}"]`);
  expect(await page.locator('main [data-metric], main [data-rate]').count()).toBe(0);
  expect(await page.locator('[role="alert"]').first().textContent()).toMatch(status === 404 ? /Not found, or outside what you may see/ : /Not available to your role/);
}

describe('org admin', () => {
  it('sees the organization exactly as the API answers: funnel, weekly series, top mentors, campaigns, referrals', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const page = await open(token, { ...PERIOD, granularity: 'week' });
    const { body: summary } = await stack.api<{ totals: Totals; conversion: Conversion; series: Point[]; topMentors: Mentor[]; campaigns: { campaignId: string | null; totals: Totals; conversion: Conversion }[]; timezone: string }>(
      `/v1/orgs/org-a/recruitment-summary?${query({ ...PERIOD, granularity: 'week' })}`, token,
    );
    expect(summary.totals.registrations).toBeGreaterThan(0);
    await expectFunnel(page, summary.totals, summary.conversion);
    await expectSeries(page, summary.series);
    expect(await page.locator('[data-timezone="Europe/Oslo"]').textContent()).toContain('Europe/Oslo');
    expect(await readMentors(page, '[data-section="top-mentors"]')).toEqual(summary.topMentors.map(mentorRow));
    const campaigns = await readRows(page, '[data-section="campaigns"]', 'data-campaign');
    expect(campaigns.map((c) => ({ key: c.key, ...valuesOf(c.cells) }))).toEqual(
      summary.campaigns.map((c) => ({
        key: c.campaignId ?? '', uniqueClicks: c.totals.uniqueClicks, installs: c.totals.installs, registrations: c.totals.registrations, activations: c.totals.activations,
        clickToRegistration: c.conversion.clickToRegistration, registrationToActivation: c.conversion.registrationToActivation,
      })),
    );
    const { body: referrals } = await stack.api<{ items: Referral[]; nextCursor: string | null }>('/v1/orgs/org-a/referrals?limit=25', token);
    expect(await readReferrals(page)).toEqual(referrals.items.map(referralRow));
    await screenshot(page, 'org-admin');
    // The top of the view, as the README shows it (docs/dashboard-org-admin.png is a copy).
    await page.screenshot({ path: join(ARTIFACTS, 'org-admin-overview.png'), fullPage: true, clip: { x: 0, y: 0, width: 1280, height: 1720 } });
  });

  it('sorts the leaderboard by any column, and the sort is in the URL', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const page = await open(token, PERIOD);
    await page.waitForSelector('[data-section="top-mentors"] tr[data-mentor]');
    await page.getByRole('button', { name: /^Clicks/ }).click();
    await page.waitForURL(/sort=clicks&dir=desc/);
    const { body } = await stack.api<{ topMentors: Mentor[] }>(`/v1/orgs/org-a/recruitment-summary?${query(PERIOD)}`, token);
    const byClicks = [...body.topMentors].sort((a, b) => b.totals.clicks - a.totals.clicks || a.rank - b.rank);
    expect((await readMentors(page, '[data-section="top-mentors"]')).map((m) => m.key)).toEqual(byClicks.map((m) => m.mentorId));
    expect(await page.locator('th[aria-sort="descending"]').textContent()).toMatch(/^Clicks/);
    // Sorted by the Mentor column: by name (a mentor without one by id).
    await page.getByRole('button', { name: /^Mentor/ }).click();
    await page.waitForURL(/sort=mentorId&dir=asc/);
    const label = (m: Mentor) => (m.mentorName ?? m.mentorId).toLocaleLowerCase();
    expect((await readMentors(page, '[data-section="top-mentors"]')).map((m) => m.key)).toEqual([...body.topMentors].sort((a, b) => (label(a) < label(b) ? -1 : 1)).map((m) => m.mentorId));
  });

  it('finds a mentor of the leaderboard by name as it is typed, ids beneath the names', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const page = await open(token, PERIOD);
    await page.waitForSelector('[data-section="top-mentors"] tr[data-mentor]');
    expect(await page.locator('[data-section="top-mentors"] tr[data-mentor="m-x"] th').innerText()).toBe('Xavier A\nm-x');
    expect(await page.locator('[data-section="top-mentors"] tr[data-mentor="m-a3"] th').innerText()).toBe('m-a3'); // no registration: no name
    await page.getByLabel('Find a mentor').fill('kari');
    expect(await visibleMentors(page, '[data-section="top-mentors"]')).toEqual(['m-a1']);
    expect(await page.locator('.search-status').textContent()).toBe('1 of 4 mentors match.');
    await page.getByLabel('Find a mentor').fill('m-a');
    expect((await visibleMentors(page, '[data-section="top-mentors"]')).sort()).toEqual(['m-a1', 'm-a2', 'm-a3']);
    await page.getByLabel('Find a mentor').fill('nobody');
    expect(await visibleMentors(page, '[data-section="top-mentors"]')).toEqual([]);
    expect(await page.locator('.search-status').textContent()).toBe('No mentor matches “nobody”.');
    // The search is in the URL, and stays through a re-sort.
    await page.getByLabel('Find a mentor').fill('ola');
    await page.waitForURL(/q=ola/);
    await page.getByRole('button', { name: /^Clicks/ }).click();
    await page.waitForURL(/sort=clicks/);
    expect(await visibleMentors(page, '[data-section="top-mentors"]')).toEqual(['m-a2']);
    // The referral list names each recruit's mentor.
    await page.waitForSelector('.referrals-body[data-state="ready"]');
    expect(await page.locator('[data-section="referrals"] td.mentor .mentor-name').allTextContents()).toContain('Kari Nordmann');
  });

  it('pages through the referrals and filters them by stage and mentor, each equal to the API', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const page = await open(token, { ...PERIOD, limit: '10' });
    const first = await stack.api<{ items: Referral[]; nextCursor: string }>('/v1/orgs/org-a/referrals?limit=10', token);
    expect(await readReferrals(page, 1)).toEqual(first.body.items.map(referralRow));
    await page.getByRole('button', { name: 'Next page' }).click();
    const second = await stack.api<{ items: Referral[]; nextCursor: string }>(`/v1/orgs/org-a/referrals?limit=10&cursor=${first.body.nextCursor}`, token);
    expect(await readReferrals(page, 2)).toEqual(second.body.items.map(referralRow));
    await page.getByRole('button', { name: 'Next page' }).click();
    const third = await stack.api<{ items: Referral[]; nextCursor: string | null }>(`/v1/orgs/org-a/referrals?limit=10&cursor=${second.body.nextCursor}`, token);
    expect(third.body.nextCursor).toBeNull();
    expect(await readReferrals(page, 3)).toEqual(third.body.items.map(referralRow));
    expect(await page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true);
    await page.getByRole('button', { name: 'Previous page' }).click();
    expect(await readReferrals(page, 2)).toEqual(second.body.items.map(referralRow));

    await page.getByLabel('Stage').focus(); // as a keyboard user would be, on the control
    await page.getByLabel('Stage').selectOption('ACTIVATED');
    await page.waitForURL(/stage=ACTIVATED/);
    const activated = await stack.api<{ items: Referral[] }>('/v1/orgs/org-a/referrals?limit=10&stage=ACTIVATED', token);
    expect(await readReferrals(page, 1)).toEqual(activated.body.items.map(referralRow));
    expect(activated.body.items.every((r) => r.stage === 'ACTIVATED')).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('filter-stage');

    await page.getByLabel('Mentor', { exact: true }).fill('m-a2');
    await page.getByLabel('Mentor', { exact: true }).press('Enter');
    await page.waitForURL(/filterMentor=m-a2/);
    const ofMentor = await stack.api<{ items: Referral[] }>('/v1/orgs/org-a/referrals?limit=10&stage=ACTIVATED&mentorId=m-a2', token);
    expect(ofMentor.body.items.length).toBe(3);
    expect(await readReferrals(page, 1)).toEqual(ofMentor.body.items.map(referralRow));

    // The filtered view is in the URL: opened afresh it shows the same list.
    const again = await open(token, Object.fromEntries(new URL(page.url()).searchParams));
    expect(await readReferrals(again, 1)).toEqual(ofMentor.body.items.map(referralRow));
  });

  it('shows markup in an API string as text and never runs it', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const page = await open(token, { ...PERIOD, filterMentor: 'm-a3' });
    await page.waitForSelector('.referrals-body[data-state="ready"]');
    expect(await page.locator('th.recruit', { hasText: 'window.__xss=1' }).first().textContent()).toContain(XSS_NAME);
    expect(await page.locator('main img, main script').count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  });

  it('cannot reach another organization or the platform by editing the URL', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    await expectRefused(await open(token, { view: 'org', org: 'org-b', ...PERIOD }), 404);
    await expectRefused(await open(token, { view: 'platform', ...PERIOD }), 403);
    await expectRefused(await open(token, { view: 'mentor', mentor: 'm-b1', ...PERIOD }), 404);
  });
});

describe('coordinator', () => {
  it("sees their scope's funnel, series and campaigns, and their mentors by name as the API answers, and drills down into one", async () => {
    const token = await stack.token('coordinator', 'coord-a', 'org-a');
    const page = await open(token, { ...PERIOD, granularity: 'week' });
    const { body: scope } = await stack.api<{ totals: Totals; conversion: Conversion; series: Point[]; campaigns: { campaignId: string | null; totals: Totals }[] }>(
      `/v1/coordinators/coord-a/recruitment-summary?${query({ ...PERIOD, granularity: 'week' })}`, token,
    );
    expect(scope.totals.registrations).toBe(6);
    await expectFunnel(page, scope.totals, scope.conversion);
    await expectSeries(page, scope.series);
    const campaigns = await readRows(page, '[data-section="campaigns"]', 'data-campaign');
    expect(campaigns.map((c) => [c.key, c.cells.registrations?.value])).toEqual(scope.campaigns.map((c) => [c.campaignId ?? '', c.totals.registrations]));
    const { body } = await stack.api<{ items: Mentor[] }>(`/v1/coordinators/coord-a/mentor-performance?${query({ ...PERIOD, limit: 200 })}`, token);
    expect(body.items.map((m) => [m.mentorId, m.mentorName])).toEqual([['m-a1', 'Kari Nordmann'], ['m-a2', 'Ola Hansen']]);
    await page.waitForSelector('[data-section="mentor-performance"] tr[data-mentor]');
    expect(await readMentors(page, '[data-section="mentor-performance"]')).toEqual(body.items.map(mentorRow));
    await screenshot(page, 'coordinator');
    await page.getByLabel('Find a mentor').fill('Ola');
    expect(await visibleMentors(page, '[data-section="mentor-performance"]')).toEqual(['m-a2']);
    await page.locator('[data-section="mentor-performance"]').screenshot({ path: join(ARTIFACTS, 'coordinator-search.png') });

    await page.getByRole('link', { name: 'Ola Hansen' }).click();
    await page.waitForURL(/view=mentor&mentor=m-a2/);
    await page.waitForSelector('h1 .subject .mentor-id');
    expect(await page.locator('h1').innerText()).toMatch(/^Mentor Ola Hansen\s*m-a2$/);
    const { body: stats } = await stack.api<{ totals: Totals; conversion: Conversion; series: Point[] }>(`/v1/mentors/m-a2/referral-stats?${query({ ...PERIOD, granularity: 'week' })}`, token);
    await expectFunnel(page, stats.totals, stats.conversion);
    await expectSeries(page, stats.series);
    const { body: recruits } = await stack.api<{ items: Referral[] }>('/v1/mentors/m-a2/recruits?limit=25', token);
    expect(await readReferrals(page)).toEqual(recruits.items.map(referralRow));
    await page.getByRole('link', { name: '← All your mentors' }).click();
    await page.waitForSelector('[data-section="mentor-performance"] tr[data-mentor]');
  });

  it('cannot reach a mentor outside the scope, another coordinator or the organization by editing the URL', async () => {
    const token = await stack.token('coordinator', 'coord-a', 'org-a');
    await expectRefused(await open(token, { view: 'mentor', mentor: 'm-a3', ...PERIOD }), 404);
    await expectRefused(await open(token, { view: 'coordinator', coordinator: 'coord-x', ...PERIOD }), 404);
    await expectRefused(await open(token, { view: 'org', org: 'org-a', ...PERIOD }), 403);
  });
});

describe('mentor', () => {
  it('sees their own funnel, series, recruits and annual summary (rank and percentile) as the API answers', async () => {
    const token = await stack.token('mentor', 'm-a1', 'org-a');
    const page = await open(token, { ...PERIOD, granularity: 'week', year: '2026' });
    const { body: stats } = await stack.api<{ totals: Totals; conversion: Conversion; series: Point[] }>(`/v1/mentors/m-a1/referral-stats?${query({ ...PERIOD, granularity: 'week' })}`, token);
    expect(stats.totals.clicks).toBe(8);
    await expectFunnel(page, stats.totals, stats.conversion);
    await expectSeries(page, stats.series);
    const { body: annual } = await stack.api<{ recruits: number; rankInOrg: number; percentileInOrg: number; totals: Totals }>('/v1/mentors/m-a1/annual-summary?year=2026', token);
    await page.waitForSelector('[data-section="annual"] [data-metric="recruits"]');
    const year = Object.fromEntries((await page.$$eval('[data-section="annual"] [data-metric], [data-section="annual"] [data-rate]', (els) => els.map((e) => [(e as HTMLElement).dataset.metric ?? (e as HTMLElement).dataset.rate, (e as HTMLElement).dataset.value]))));
    expect(year).toEqual({ recruits: String(annual.recruits), rankInOrg: String(annual.rankInOrg), percentileInOrg: String(annual.percentileInOrg), activations: String(annual.totals.activations), uniqueClicks: String(annual.totals.uniqueClicks) });
    const { body: recruits } = await stack.api<{ items: Referral[] }>('/v1/mentors/m-a1/recruits?limit=25', token);
    expect(await readReferrals(page)).toEqual(recruits.items.map(referralRow));
    await screenshot(page, 'mentor');
  });

  it('cannot read another mentor, a coordinator page or the organization by editing the URL', async () => {
    const token = await stack.token('mentor', 'm-a1', 'org-a');
    await expectRefused(await open(token, { view: 'mentor', mentor: 'm-a2', ...PERIOD }), 404);
    await expectRefused(await open(token, { view: 'coordinator', coordinator: 'coord-a', ...PERIOD }), 403);
    await expectRefused(await open(token, { view: 'org', org: 'org-a', ...PERIOD }), 403);
  });
});

describe('platform admin', () => {
  it('sees growth across organizations as the API answers, and opens one organization', async () => {
    const token = await stack.token('platform_admin', 'platform', null);
    const page = await open(token, { ...PERIOD, granularity: 'month' });
    const { body } = await stack.api<{ organizations: { orgId: string; totals: Totals; conversion: Conversion }[] }>(`/v1/platform/growth?${query({ ...PERIOD, granularity: 'month', limit: 25 })}`, token);
    await page.waitForSelector('[data-section="organizations"] tr[data-org]');
    const rows = await readRows(page, '[data-section="organizations"]', 'data-org');
    expect(rows.map((r) => ({ key: r.key, ...valuesOf(r.cells) }))).toEqual(body.organizations.map((o) => ({ key: o.orgId, ...o.totals, clickToRegistration: o.conversion.clickToRegistration })));
    expect(rows.map((r) => r.key)).toEqual(expect.arrayContaining(['org-a', 'org-b']));
    await screenshot(page, 'platform-admin');

    await page.getByRole('link', { name: 'org-b' }).click();
    await page.waitForURL(/view=org&org=org-b/);
    const { body: summary } = await stack.api<{ totals: Totals; conversion: Conversion; series: Point[] }>(`/v1/orgs/org-b/recruitment-summary?${query({ ...PERIOD, granularity: 'month' })}`, token);
    await expectFunnel(page, summary.totals, summary.conversion);
    await expectSeries(page, summary.series);
    expect(await page.locator('[data-timezone="America/New_York"]').count()).toBe(1);
  });
});
