/**
 * Dates typed and shown the way the chosen locale writes them (31.03.2026 in Norwegian,
 * 31/03/2026 in British English, 03/31/2026 in American English): a native date input follows
 * the browser's own language, not the page's, so the period's inputs are text fields that
 * read and write the locale's numeric date, and hold the API's YYYY-MM-DD behind it.
 */
export type Part = 'day' | 'month' | 'year';

/** The order of day, month and year in the locale's numeric dates, and what separates them. */
export function datePattern(locale: string): { order: Part[]; separator: string } {
  const parts = new Intl.DateTimeFormat(locale, { year: 'numeric', month: '2-digit', day: '2-digit', timeZone: 'UTC' }).formatToParts(new Date(Date.UTC(2026, 10, 22)));
  const order = parts.filter((p) => p.type === 'day' || p.type === 'month' || p.type === 'year').map((p) => p.type as Part);
  const separator = parts.find((p) => p.type === 'literal')?.value ?? '-';
  return { order, separator };
}

/** A YYYY-MM-DD date written the locale's way, with two-digit day and month. */
export function formatDateInput(day: string, locale: string): string {
  const [y, m, d] = day.split('-') as [string, string, string];
  const { order, separator } = datePattern(locale);
  return order.map((p) => (p === 'year' ? y : p === 'month' ? m : d)).join(separator);
}

/** What the user typed, read in the locale's order (any non-digits separate), as YYYY-MM-DD; null when it is no date. */
export function parseDateInput(text: string, locale: string): string | null {
  const trimmed = text.trim();
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) return valid(trimmed);
  const numbers = trimmed.split(/\D+/).filter(Boolean);
  const { order } = datePattern(locale);
  if (numbers.length !== 3) return null;
  const at = (p: Part) => numbers[order.indexOf(p)] as string;
  const [y, m, d] = [at('year'), at('month'), at('day')];
  if (y.length !== 4 || m.length > 2 || d.length > 2) return null;
  return valid(`${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`);
}

function valid(day: string): string | null {
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === day ? day : null;
}
