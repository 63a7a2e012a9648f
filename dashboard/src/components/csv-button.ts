import { h } from '../dom.js';
import { CSV_TEXT } from './follow-up-strings.js';

/**
 * "Download CSV" for a table: runs `download` (csv-download.ts: a fetch with the viewer's
 * token), busy while it runs, and says why when it fails, beside the button.
 */
export function csvButton(what: string, download: () => Promise<void>): HTMLElement {
  const button = h('button', { type: 'button', class: 'csv-download secondary', 'aria-label': CSV_TEXT.label(what), 'data-csv': what }, CSV_TEXT.download);
  const status = h('span', { class: 'csv-status', role: 'status' });
  button.addEventListener('click', () => {
    button.disabled = true;
    status.textContent = CSV_TEXT.preparing;
    download()
      .then(() => (status.textContent = ''))
      .catch((err: Error) => (status.textContent = CSV_TEXT.failed(err.message)))
      .finally(() => (button.disabled = false));
  });
  return h('div', { class: 'csv-actions' }, button, status);
}

/** Puts a CSV button at the top of a section (under its heading). */
export function withCsv(section: { root: HTMLElement }, what: string, download: () => Promise<void>): void {
  const heading = section.root.querySelector('h2');
  const button = csvButton(what, download);
  if (heading) heading.after(button);
  else section.root.prepend(button);
}
