import { DateTime } from 'luxon';
import { daysBetween, localDay, periodStart, type Granularity } from '../../libs/funnel/periods.js';
import { badParameter } from './errors.js';
import { CALENDAR } from './schemas.js';

/** Longest ranges accepted, in days: a daily series of two years, anything else ten years. */
export const MAX_RANGE_DAYS = { day: 731, other: 3660 } as const;
const DEFAULT_DAYS = 30;

/** DEFAULT_DAYS ending on `to`, from the calendar's first day at the earliest (only when a request gives no `from`: date arithmetic is a few percent of a cheap request). */
function defaultFrom(to: string): string {
  const from = DateTime.fromISO(to, { zone: 'UTC' }).minus({ days: DEFAULT_DAYS - 1 }).toISODate() as string;
  return from < CALENDAR.firstDay ? CALENDAR.firstDay : from;
}

/**
 * The inclusive date range of a request, in the org's timezone: `to` defaults to today there,
 * `from` to 29 days before `to` (the calendar's first day at the earliest). Names the parameter
 * that is wrong, a date outside the calendar (schemas.ts CALENDAR) included.
 */
export function resolveRange(query: { from?: string | undefined; to?: string | undefined }, timezone: string, granularity: Granularity | null, now = Date.now()): { from: string; to: string } {
  const valid = (name: 'from' | 'to', value: string) => {
    try {
      periodStart(value, 'day');
    } catch {
      throw badParameter(name, `${value} is not a valid date (YYYY-MM-DD)`);
    }
    // YYYY-MM-DD strings compare as the dates they name.
    if (value < CALENDAR.firstDay || value > CALENDAR.lastDay) throw badParameter(name, `${value} is outside the dates this service answers for, ${CALENDAR.firstDay} to ${CALENDAR.lastDay}`);
    return value;
  };
  const given = query.from ? valid('from', query.from) : null;
  const to = query.to ? valid('to', query.to) : localDay(now, timezone);
  const from = given ?? defaultFrom(to);
  const days = daysBetween(from, to);
  if (days < 1) throw badParameter('from', `${from} is after to (${to})`);
  const max = granularity === 'day' ? MAX_RANGE_DAYS.day : MAX_RANGE_DAYS.other;
  // Named after what the caller sent: `to` when given, else `from` (to is today then).
  if (days > max) throw badParameter(query.to ? 'to' : 'from', `the range ${from}..${to} spans ${days} days; at most ${max} are allowed${granularity === 'day' ? ' for a daily series' : ''}`);
  return { from, to };
}
