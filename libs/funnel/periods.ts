import { DateTime } from 'luxon';

export const GRANULARITIES = ['day', 'week', 'month', 'year'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

const LUXON_UNIT = { day: 'day', week: 'week', month: 'month', year: 'year' } as const;

/**
 * Reporting periods (SPEC §4). Days are calendar dates in the organization's timezone (the
 * funnel_daily table is already cut that way), so periods are plain date arithmetic here:
 * ISO weeks start on Monday, months and years on their first day. A daylight-saving change
 * makes a local day 23 or 25 hours long but never moves it.
 */
function parseDay(day: string): DateTime {
  const d = DateTime.fromISO(day, { zone: 'UTC' });
  if (!d.isValid || !/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new RangeError(`not a YYYY-MM-DD date: ${day}`);
  return d;
}

/** The first day of the period that contains `day`. */
export function periodStart(day: string, granularity: Granularity): string {
  return parseDay(day).startOf(LUXON_UNIT[granularity]).toISODate() as string;
}

/**
 * The start of every period that overlaps [from, to] (inclusive), in order. Plain UTC date
 * arithmetic: calendar dates have no clock, so no timezone can shift them (and it runs on
 * every series request, where luxon objects per day would dominate the cost).
 */
export function periodStarts(from: string, to: string, granularity: Granularity): string[] {
  const end = Date.parse(`${parseDay(to).toISODate()}T00:00:00Z`);
  const first = new Date(`${periodStart(from, granularity)}T00:00:00Z`);
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const y = first.getUTCFullYear();
    const m = first.getUTCMonth();
    const d = first.getUTCDate();
    const t =
      granularity === 'day' ? Date.UTC(y, m, d + i) : granularity === 'week' ? Date.UTC(y, m, d + 7 * i) : granularity === 'month' ? Date.UTC(y, m + i, 1) : Date.UTC(y + i, 0, 1);
    if (t > end) return out;
    out.push(new Date(t).toISOString().slice(0, 10));
  }
}

/** The last day of the period that starts on `start`. */
export function periodEnd(start: string, granularity: Granularity): string {
  const [y, m, d] = start.split('-').map(Number) as [number, number, number];
  const next =
    granularity === 'day' ? Date.UTC(y, m - 1, d + 1) : granularity === 'week' ? Date.UTC(y, m - 1, d + 7) : granularity === 'month' ? Date.UTC(y, m, 1) : Date.UTC(y + 1, 0, 1);
  return new Date(next - 86_400_000).toISOString().slice(0, 10);
}

/** Whole days from `from` to `to`, both included (1 for a single day, 0 or less when reversed). */
export function daysBetween(from: string, to: string): number {
  return parseDay(to).diff(parseDay(from), 'days').days + 1;
}

/** The local calendar day of an instant in an IANA timezone. */
export function localDay(instant: number, timezone: string): string {
  return DateTime.fromMillis(instant, { zone: timezone }).toISODate() as string;
}
