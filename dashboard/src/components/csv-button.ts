import { h } from '../dom.js';
import { t, type Strings } from '../i18n.js';

/** Which table a CSV button downloads: a key of the catalogue's `csvParts` (and the button's data-csv). */
export type CsvPart = keyof Strings['csvParts'];

/**
 * "Download CSV" for a table: runs `download` (csv-download.ts: a fetch with the viewer's
 * token), busy while it runs, and says why when it fails, beside the button.
 */
export function csvButton(part: CsvPart, download: () => Promise<void>): HTMLElement {
  const s = t();
  const button = h('button', { type: 'button', class: 'csv-download secondary', 'aria-label': s.csv.label(s.csvParts[part]), 'data-csv': part }, s.csv.download);
  const status = h('span', { class: 'csv-status', role: 'status' });
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = t().csv.preparing;
    download()
      .then(() => (status.textContent = ''))
      .catch((err: Error) => (status.textContent = t().csv.failed(err.message)))
      .finally(() => (button.disabled = false));
  });
  return h('div', { class: 'csv-actions' }, button, status);
}

/** Puts a CSV button at the top of a section (under its heading). */
export function withCsv(section: { root: HTMLElement }, part: CsvPart, download: () => Promise<void>): void {
  const heading = section.root.querySelector('h2');
  const button = csvButton(part, download);
  if (heading) heading.after(button);
  else section.root.prepend(button);
}
