import type { Page } from 'playwright-core';

/**
 * Reads the numbers a view shows. Every number on the page carries the API's value in
 * data-value beside the text formatted for the viewer's locale; these return both, so a test
 * compares the value with the API and the text with the locale's formatting.
 */
export type Shown = { value: number | null; text: string };
const shown = (value: string | undefined, text: string | null): Shown => ({ value: value === 'null' || value === undefined ? null : Number(value), text: (text ?? '').trim() });

/** Waits until a section (data-section) has loaded, or failed. */
export async function loaded(page: Page, section: string): Promise<void> {
  await page.waitForSelector(`[data-section="${section}"] .section-body > :not(.loading), [data-section="${section}"] [data-state="ready"], .view-content[data-state="error"]`, { timeout: 20_000 });
}

/** The funnel table: count and step conversion of each step, and the three API rates. */
export async function readFunnel(page: Page, scope = '[data-section="funnel"]') {
  await page.waitForSelector(`${scope} [data-metric="clicks"]`);
  const rows = await page.$$eval(`${scope} [data-metric], ${scope} [data-rate]`, (els) => els.map((e) => [(e as HTMLElement).dataset.metric ?? (e as HTMLElement).dataset.rate, (e as HTMLElement).dataset.value, e.textContent] as const));
  return Object.fromEntries(rows.map(([k, v, t]) => [k as string, shown(v, t)])) as Record<string, Shown>;
}

/** Rows of a table whose rows carry a data attribute (data-mentor, data-period, data-org, data-campaign, data-referral). */
export async function readRows(page: Page, scope: string, rowAttr: string) {
  return page.$$eval(`${scope} tr[${rowAttr}]`, (rows, attr) =>
    rows.map((row) => {
      const cells: Record<string, { value: string | undefined; text: string | null }> = {};
      for (const el of row.querySelectorAll('[data-metric], [data-rate]')) {
        const e = el as HTMLElement;
        cells[(e.dataset.metric ?? e.dataset.rate) as string] = { value: e.dataset.value, text: e.textContent };
      }
      const times = [...row.querySelectorAll('td.when')].map((td) => { const v = (td as HTMLElement).dataset.value; return v === undefined || v === 'null' ? null : v; });
      const stage = (row.querySelector('[data-stage]') as HTMLElement | null)?.dataset.stage ?? null;
      const key = row.getAttribute(attr);
      const heading = row.querySelector('th')?.textContent ?? null;
      return { key, heading, cells, times, stage };
    }), rowAttr).then((rows) => rows.map((r) => ({ ...r, cells: Object.fromEntries(Object.entries(r.cells).map(([k, c]) => [k, shown(c.value, c.text)])) as Record<string, Shown> })));
}

/** Just the values of a row's numbers, for toEqual against the API. */
export const valuesOf = (cells: Record<string, Shown>) => Object.fromEntries(Object.entries(cells).map(([k, c]) => [k, c.value]));
