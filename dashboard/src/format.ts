import { locale, t } from './i18n.js';

/**
 * Numbers and dates in the page's language (i18n.ts: Norwegian bokmål or English, from the
 * browser's preferences or the switch). Elements that show an API number also carry it raw in
 * data-value, so a test can compare the page with the API without parsing a locale's digits.
 */

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
  return instantParts(iso, timeZone).join('');
}

/**
 * An instant as its date (with the separator after it) and its time, which together read as
 * formatInstant: a table cell shows them as two unbreakable pieces, so a narrow column wraps
 * between the date and the time and nowhere else.
 */
export function instantParts(iso: string, timeZone: string | undefined): [string, string] {
  const parts = new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short', ...(timeZone ? { timeZone } : {}) }).formatToParts(new Date(iso));
  const hour = parts.findIndex((p) => p.type === 'hour');
  const cut = hour <= 0 ? parts.length : hour;
  return [parts.slice(0, cut).map((p) => p.value).join(''), parts.slice(cut).map((p) => p.value).join('')];
}

/** A range of local dates as the viewer writes them ("1 Mar 2026 to 31 Mar 2026"). */
export const formatRange = (range: { from: string; to: string }): string => t().range(formatDay(range.from), formatDay(range.to));

/** A change as a signed percentage (+25 %), or n/a when there is none to show. */
export const formatChange = (change: number | null): string =>
  change === null ? t().notApplicable : new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(change);

/** A change of a rate in signed percentage points (+5 pp), or n/a. */
export const formatPoints = (change: number | null): string =>
  change === null ? t().notApplicable : t().percentagePoints(new Intl.NumberFormat(locale(), { maximumFractionDigits: 1, signDisplay: 'exceptZero' }).format(change * 100));
