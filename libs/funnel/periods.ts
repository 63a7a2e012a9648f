import { DateTime } from 'luxon';

export const GRANULARITIES = ['day', 'week', 'month', 'year'] as const;
export type Granularity = (typeof GRANULARITIES)[number];

const DAY_MS = 86_400_000;

/**
 * Reporting periods (SPEC §4). Days are calendar dates in the organization's timezone (the
 * funnel_daily table is already cut that way), so periods are plain date arithmetic here:
 * ISO weeks start on Monday, months and years on their first day. A daylight-saving change
 * makes a local day 23 or 25 hours long but never moves it. Calendar dates have no clock, so
 * they are computed as UTC midnights (every series request runs these per period; luxon
 * objects there cost more than the query).
 */

/** UTC midnight of a calendar date; years below 100 stay themselves (Date.UTC would add 1900). */
function utcDate(year: number, monthIndex: number, day: number): number {
  const d = new Date(0);
  d.setUTCFullYear(year, monthIndex, day);
  return d.getTime();
}

/** A YYYY-MM-DD date as its UTC midnight; a RangeError when it is not one (2026-02-30 included). */
function parseDay(day: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
    const t = utcDate(y, mo, d);
    const back = new Date(t);
    if (back.getUTCFullYear() === y && back.getUTCMonth() === mo && back.getUTCDate() === d) return t;
  }
  throw new RangeError(`not a YYYY-MM-DD date: ${day}`);
}

const isoDate = (t: number): string => new Date(t).toISOString().split('T')[0] as string;

/** The first day of the period that contains `day`. */
export function periodStart(day: string, granularity: Granularity): string {
  const t = parseDay(day);
  if (granularity === 'day') return isoDate(t);
  const d = new Date(t);
  if (granularity === 'week') return isoDate(t - ((d.getUTCDay() + 6) % 7) * DAY_MS);
  return isoDate(utcDate(d.getUTCFullYear(), granularity === 'month' ? d.getUTCMonth() : 0, 1));
}

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysIn = (y: number, m: number) => (m === 2 && isLeap(y) ? 29 : (DAYS_IN_MONTH[m - 1] as number));
const pad2 = (n: number) => (n < 10 ? `0${n}` : `${n}`);

/**
 * The start of every period that overlaps [from, to] (inclusive), in order. Calendar dates have
 * no clock, so no timezone can shift them; counted as year, month and day (proleptic Gregorian,
 * as Date's), not through Date objects: it runs on every series request, where a Date and its
 * ISO string per day cost more than the rest of building the answer.
 */
export function periodStarts(from: string, to: string, granularity: Granularity): string[] {
  parseDay(to);
  let [y, m, d] = periodStart(from, granularity).split('-').map(Number) as [number, number, number];
  const out: string[] = [];
  // YYYY-MM-DD strings compare as their dates do, up to year 9999.
  while (y <= 9999) {
    const day = `${y < 1000 ? String(y).padStart(4, '0') : y}-${pad2(m)}-${pad2(d)}`;
    if (day > to) break;
    out.push(day);
    if (granularity === 'year') y += 1;
    else if (granularity === 'month') m += 1;
    else d += granularity === 'day' ? 1 : 7;
    if (d > daysIn(y, m)) d -= daysIn(y, m++);
    if (m > 12) [m, y] = [1, y + 1];
  }
  return out;
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
  return (parseDay(to) - parseDay(from)) / DAY_MS + 1;
}

/**
 * Width of the time slots funnel counts are summed into. Every timezone offset in use today is a
 * multiple of 15 minutes, and clocks change on a quarter hour, so all instants of a 15-minute
 * UTC slot fall on the same local day in every zone: the slot start decides both the UTC hour
 * and the org's local day exactly. Not for a few minutes of the past: Newfoundland
 * (America/St_Johns) turned its clocks back at 00:01 local time until 2010, so in the slot of
 * that change the 14 minutes after 02:31 UTC belong to the day before the slot start's, and are
 * counted on the slot start's day.
 */
export const SLOT_MS = 15 * 60 * 1000;

/** The start of the 15-minute UTC slot that holds an instant (epoch milliseconds, before 1970 too). */
export function slotStart(instant: number): number {
  return Math.floor(instant / SLOT_MS) * SLOT_MS;
}

/** The local calendar day of an instant in an IANA timezone. */
export function localDay(instant: number, timezone: string): string {
  return DateTime.fromMillis(instant, { zone: timezone }).toISODate() as string;
}

/**
 * The same cuts for statements that count in Postgres (the aggregator's upsert, the rebuild, the
 * bench's bulk fill): each takes SQL expressions and gives one, so that the rule is written
 * once. They agree with slotStart and localDay (test/integration/period-cutting.test.ts).
 */
export const periodSql = {
  /** The start of the 15-minute UTC slot of a timestamptz, as a timestamptz. */
  slotStart: (instant: string) => `to_timestamp(floor(extract(epoch from ${instant}) / ${SLOT_MS / 1000}) * ${SLOT_MS / 1000})`,
  /** The UTC hour of a timestamptz (funnel_hourly.hour). */
  utcHour: (instant: string) => `date_trunc('hour', ${instant}, 'UTC')`,
  /** The local calendar day of a timestamptz in a timezone (an SQL expression giving an IANA name), as a date. */
  localDay: (instant: string, timezone: string) => `(${instant} at time zone ${timezone})::date`,
  /** The first day of a date's month, as a date (funnel_monthly.month). */
  monthOf: (day: string) => `date_trunc('month', ${day}::timestamp)::date`,
  /** A date's year, as an int (funnel_yearly.year). */
  yearOf: (day: string) => `extract(year from ${day})::int`,
} as const;
