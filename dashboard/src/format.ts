/**
 * Numbers and dates in the viewer's own locale (Norwegian, English, …), as the browser
 * reports it. Elements that show an API number also carry it raw in data-value, so a test can
 * compare the page with the API without parsing a locale's digits.
 */
const locale = (): string => navigator.languages?.[0] ?? navigator.language ?? 'en';

const integer = () => new Intl.NumberFormat(locale(), { maximumFractionDigits: 0 });
const percent = () => new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 });

export const formatCount = (n: number): string => integer().format(n);
/** A rate in [0, 1], or a dash when the API says there is none (denominator 0). */
export const formatRate = (r: number | null): string => (r === null ? '–' : percent().format(r));

/** A local date of the API (YYYY-MM-DD, already in the org's timezone) as the viewer writes dates. */
export function formatDay(day: string, granularity: 'day' | 'week' | 'month' | 'year' = 'day'): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const at = new Date(Date.UTC(y, m - 1, d));
  const options: Intl.DateTimeFormatOptions =
    granularity === 'month' ? { year: 'numeric', month: 'short' } : granularity === 'year' ? { year: 'numeric' } : { year: 'numeric', month: 'short', day: 'numeric' };
  return new Intl.DateTimeFormat(locale(), { ...options, timeZone: 'UTC' }).format(at);
}

/** An instant of the API shown in the organization's timezone. */
export function formatInstant(iso: string | null, timeZone: string | undefined): string {
  if (iso === null) return '–';
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).format(new Date(iso));
}

/** Today's date in a timezone, as YYYY-MM-DD. */
export function todayIn(timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date());
}
