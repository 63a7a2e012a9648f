import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, launchChromium, watchedPage } from './support/chromium.js';
import { startDashboardStack, type DashboardStack } from './support/dashboard-stack.js';

/**
 * A recruit's attribution explained, opened from their row of the referral list, in a real
 * browser against the real query service and the query fixture (u-a2: six touches of its
 * device, the last on Kari's link won; u-a1: registered through Kari's link; u-a4: no stored
 * facts). Every touch the page shows is the API's, in time order, with its outcome in words.
 */
let stack: DashboardStack;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;
const pages: (Page & { problems: string[] })[] = [];

type Candidate = { eventId: string; kind: string; linkId: string | null; occurredAt: string; mentorId: string | null; mentorName: string | null; outcome: string; reason: string | null };
type Explanation = { rule: 'LINK' | 'DEVICE'; windowFrom: string; windowTo: string; winner: Omit<Candidate, 'mentorId' | 'mentorName' | 'outcome' | 'reason'>; candidates: Candidate[] };
type ConversionAnswer = { userId: string; mentorId: string; mentorName: string | null; linkId: string; explanation: Explanation | null };

const oslo = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/Oslo' });
/** The outcome of a touch as the page must say it (the fixture's window is 30 days). */
const WORDS: Record<string, string> = {
  WON: 'won: the last touch within 30 days before registering', EARLIER_TOUCH: 'an earlier touch', OUTSIDE_WINDOW: 'outside the 30-day window', OTHER_ORG: 'in another organization',
  SELF_REFERRAL: 'the mentor’s own link', bot: 'not counted: a bot', revoked: 'not counted: link revoked', expired: 'not counted: link expired', unknown_link: 'not counted: link unknown',
};
const words = (c: Candidate, rule: Explanation['rule']) => (c.outcome === 'NOT_COUNTED' ? WORDS[c.reason as string] : rule === 'LINK' && c.outcome === 'WON' ? 'won: the registration named this link' : WORDS[c.outcome]);

beforeAll(async () => {
  stack = await startDashboardStack('browser_explanation');
  browser = await launchChromium();
  context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
}, 180_000);

afterAll(async () => {
  for (const page of pages) expect(page.problems, 'script errors, CSP violations or requests to other hosts').toEqual([]);
  await context?.close();
  await browser?.closeAll();
  await stack?.close();
});

async function open(token: string, view: { [k: string]: string } = {}) {
  const page = await watchedPage(context, stack.origin);
  pages.push(page);
  await page.goto(stack.link(token, view));
  await page.waitForSelector('.referrals-body[data-state="ready"]');
  return page;
}

/** Opens a recruit's explanation with the keyboard and waits for it; returns its row. */
async function openExplanation(page: Page, referralId: string) {
  const button = page.locator(`tr[data-referral="${referralId}"] button.explain`);
  expect(await button.getAttribute('aria-expanded')).toBe('false');
  await button.focus();
  await page.keyboard.press('Enter');
  expect(await button.getAttribute('aria-expanded')).toBe('true');
  const row = page.locator(`#${await button.getAttribute('aria-controls')}`);
  await row.locator('.explanation-body[data-state="ready"]').waitFor();
  return { button, row };
}

/** The timeline as shown: each entry's data and its visible words. */
async function readTimeline(page: Page, row: ReturnType<Page['locator']>) {
  return row.locator('ol.timeline > li').evaluateAll((items) =>
    items.map((li) => {
      const e = li as HTMLElement;
      const text = (sel: string) => (e.querySelector(sel)?.textContent ?? null);
      return e.dataset.mark
        ? { mark: e.dataset.mark, when: e.querySelector('time')?.getAttribute('datetime') ?? null }
        : {
            eventId: e.dataset.event, kind: e.dataset.kind, linkId: e.dataset.link === 'null' ? null : e.dataset.link, mentorId: e.dataset.mentor === 'null' ? null : e.dataset.mentor,
            outcome: e.dataset.outcome, reason: e.dataset.reason === 'null' ? null : e.dataset.reason, occurredAt: e.dataset.occurred,
            whenText: text('time'), kindText: text('.kind'), linkText: text('.link'), mentorName: text('.mentor-name'), mentorIdText: text('.mentor-id'), outcomeText: text('.outcome'),
          };
    }),
  );
}

/** What the page must show for a candidate of the API's answer. */
function expected(c: Candidate, rule: Explanation['rule'], hiddenLinkText = 'a link outside what you may see') {
  return {
    eventId: c.eventId, kind: c.kind, linkId: c.linkId, mentorId: c.mentorId, outcome: c.outcome, reason: c.reason, occurredAt: c.occurredAt,
    whenText: oslo.format(new Date(c.occurredAt)), kindText: { CLICK: 'Click', INSTALL: 'Install', REGISTRATION: 'Registration' }[c.kind], linkText: c.linkId ? `link ${c.linkId}` : hiddenLinkText,
    mentorName: c.mentorId ? (c.mentorName ?? c.mentorId) : null, mentorIdText: c.mentorId && c.mentorName ? c.mentorId : null, outcomeText: words(c, rule),
  };
}
const oldestFirst = (cs: Candidate[]) => [...cs].sort((a, b) => Date.parse(a.occurredAt) - Date.parse(b.occurredAt));

describe('the explanation timeline', () => {
  it('shows an org admin every touch of a device-attributed recruit in time order, the window marked, each outcome in words, as the API answers', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const { status, body } = await stack.api<ConversionAnswer>('/v1/conversions/u-a2?orgId=org-a', token);
    expect(status).toBe(200);
    const e = body.explanation as Explanation;
    expect(e.rule).toBe('DEVICE');
    expect(e.candidates.map((c) => c.outcome).sort()).toEqual(['EARLIER_TOUCH', 'NOT_COUNTED', 'OTHER_ORG', 'OUTSIDE_WINDOW', 'OUTSIDE_WINDOW', 'WON']);
    const page = await open(token, { from: '2026-03-01', to: '2026-03-31' });
    const { button, row } = await openExplanation(page, 'r-a2');
    expect(await row.locator('h3').textContent()).toBe('How Name u-a2 was attributed');
    expect(await row.locator('.rule').textContent()).toBe('Attributed by device: the last touch before registering, on Kari Nordmann’s link l-a1.');
    expect(await row.locator('.window').textContent()).toBe(`The 30-day window: ${oslo.format(new Date(e.windowFrom))} to ${oslo.format(new Date(e.windowTo))}. Times in Europe/Oslo.`);
    const shown = await readTimeline(page, row);
    const touches = oldestFirst(e.candidates);
    const outside = touches.filter((c) => Date.parse(c.occurredAt) < Date.parse(e.windowFrom));
    expect(outside.map((c) => c.eventId)).toEqual(['evt-c-a2-jan', 'evt-i-a2-jan']);
    expect(shown).toEqual([
      ...outside.map((c) => expected(c, 'DEVICE')),
      { mark: 'window-opens', when: e.windowFrom },
      ...touches.slice(outside.length).map((c) => expected(c, 'DEVICE')),
      { mark: 'registered', when: e.windowTo },
    ]);
    // The winner is the API's, shown once as won.
    expect(shown.filter((s) => 'outcome' in s && s.outcome === 'WON').map((s) => 'eventId' in s && s.eventId)).toEqual([e.winner.eventId]);
    expect(await row.locator('li.outcome-won .outcome').textContent()).toBe('won: the last touch within 30 days before registering');

    await row.screenshot({ path: join(ARTIFACTS, 'explanation-timeline.png') }); // docs/dashboard-explanation.png is a copy
    await page.locator(`table.referrals tr[data-referral="r-a2"]`).scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'explanation-in-list.png'), fullPage: false });

    // Escape inside the timeline closes it and puts focus back on the button.
    await row.locator('.explanation').focus();
    await page.keyboard.press('Escape');
    expect(await row.count()).toBe(0);
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await page.evaluate(() => document.activeElement?.classList.contains('explain'))).toBe(true);
  });

  it('says a link-attributed recruit registered through the mentor’s link, and that the facts are missing where they are', async () => {
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const { body } = await stack.api<ConversionAnswer>('/v1/conversions/u-a1?orgId=org-a', token);
    const e = body.explanation as Explanation;
    const page = await open(token);
    const link = await openExplanation(page, 'r-a1');
    expect(await link.row.locator('.rule').textContent()).toBe('Registered through Kari Nordmann’s link l-a1.');
    expect(await readTimeline(page, link.row)).toEqual([{ mark: 'window-opens', when: e.windowFrom }, ...e.candidates.map((c) => expected(c, 'LINK'))]);
    expect(await link.row.locator('li.outcome-won .outcome').textContent()).toBe('won: the registration named this link');

    expect((await stack.api<ConversionAnswer>('/v1/conversions/u-a4?orgId=org-a', token)).body.explanation).toBeNull();
    const none = await openExplanation(page, 'r-a4');
    expect(await none.row.locator('.rule').textContent()).toBe('Registered through Ola Hansen’s link l-a2.');
    expect(await none.row.locator('.unavailable').textContent()).toMatch(/^The facts behind this attribution are not available/);
    expect(await none.row.locator('ol.timeline').count()).toBe(0);
  });

  it('shows the mentor the same touches with the links of others left out, as the API answers to their token', async () => {
    const token = await stack.token('mentor', 'm-a1', 'org-a');
    const { body } = await stack.api<ConversionAnswer>('/v1/conversions/u-a2?orgId=org-a', token);
    const e = body.explanation as Explanation;
    expect(e.candidates.filter((c) => c.linkId === null).map((c) => c.eventId).sort()).toEqual(['evt-c-a2-bot', 'evt-c-a2-ola', 'evt-c-a2-orgb']);
    const page = await open(token);
    const { row } = await openExplanation(page, 'r-a2');
    const shown = (await readTimeline(page, row)).filter((s) => 'eventId' in s);
    expect(shown).toEqual(oldestFirst(e.candidates).map((c) => expected(c, 'DEVICE')));
    expect(shown.find((s) => 'eventId' in s && s.eventId === 'evt-c-a2-ola')).toMatchObject({ linkText: 'a link outside what you may see', mentorName: null, outcomeText: 'an earlier touch' });
  });

  it('shows a coordinator, on a mentor of their scope, the touches on their mentors’ links and not the others', async () => {
    const token = await stack.token('coordinator', 'coord-a', 'org-a');
    const { body } = await stack.api<ConversionAnswer>('/v1/conversions/u-a2?orgId=org-a', token);
    const e = body.explanation as Explanation;
    expect(e.candidates.filter((c) => c.linkId === null).map((c) => c.eventId).sort()).toEqual(['evt-c-a2-bot', 'evt-c-a2-orgb']); // m-a3 and org-b are outside coord-a's scope
    const page = await open(token, { view: 'mentor', mentor: 'm-a1' });
    const { row } = await openExplanation(page, 'r-a2');
    expect((await readTimeline(page, row)).filter((s) => 'eventId' in s)).toEqual(oldestFirst(e.candidates).map((c) => expected(c, 'DEVICE')));
  });
  it('says how many touches of a device with many it leaves out (run last: it adds 120 bot clicks to u-a2’s device)', async () => {
    // Bots' clicks on d-a2 in the window, before the winning click of 10:55: the newest 100 of the window's touches are listed.
    for (let i = 0; i < 120; i++) {
      await stack.q.pool.query(
        `insert into clicks (event_id, link_id, occurred_at, visitor_hash, device_id, platform, is_bot, status, unique_visitor) values ($1, 'l-a3', $2, 'v-a2', 'd-a2', 'android', true, 'bot', false)`,
        [`evt-c-a2-many-${String(i).padStart(3, '0')}`, new Date(Date.parse('2026-03-10T00:00:00Z') + i * 60_000).toISOString()],
      );
    }
    const token = await stack.token('org_admin', 'admin-a', 'org-a');
    const { body } = await stack.api<ConversionAnswer & { explanation: Explanation & { candidatesOmitted?: number } }>('/v1/conversions/u-a2?orgId=org-a', token);
    // In the window: 124 touches, the newest 100 listed (the winner among them); outside it, both.
    expect([body.explanation.candidates.length, body.explanation.candidatesOmitted, body.explanation.winner.eventId]).toEqual([102, 24, 'evt-c-a2-kari']);
    const page = await open(token);
    const { row } = await openExplanation(page, 'r-a2');
    expect(await row.locator('.omitted').textContent()).toBe('24 more touches of this device (further from the winner) not shown.');
    expect(await row.locator('li.touch').count()).toBe(102);
    await row.locator('.omitted').scrollIntoViewIfNeeded();
    await row.screenshot({ path: join(ARTIFACTS, 'explanation-omitted.png') });
  });
});
