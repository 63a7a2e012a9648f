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

/** The start of every period that overlaps [from, to] (inclusive), in order. */
export function periodStarts(from: string, to: string, granularity: Granularity): string[] {
  const end = parseDay(to);
  const out: string[] = [];
  for (let d = parseDay(periodStart(from, granularity)); d <= end; d = d.plus({ [`${granularity}s`]: 1 })) out.push(d.toISODate() as string);
  return out;
}

/** Whole days from `from` to `to`, both included (1 for a single day, 0 or less when reversed). */
export function daysBetween(from: string, to: string): number {
  return parseDay(to).diff(parseDay(from), 'days').days + 1;
}

/** The local calendar day of an instant in an IANA timezone. */
export function localDay(instant: number, timezone: string): string {
  return DateTime.fromMillis(instant, { zone: timezone }).toISODate() as string;
}
