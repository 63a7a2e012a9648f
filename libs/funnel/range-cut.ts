import { periodEnd, periodStart, type Granularity } from './periods.js';

/** An inclusive range of local dates (YYYY-MM-DD). */
export interface DayRange {
  from: string;
  to: string;
}

/**
 * Where the rows of a range of local days are read: the months wholly inside it from the
 * monthly tables (`months`: the first and last month start), every other day of it from the
 * daily tables (`days`: the partial first and last months, at most two ranges, in order).
 */
export interface RangeCut {
  months: DayRange | null;
  days: DayRange[];
}

const dayBefore = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
const dayAfter = (day: string) => new Date(Date.parse(`${day}T00:00:00Z`) + 86_400_000).toISOString().slice(0, 10);

/**
 * Cuts [from, to] into whole months and edge days. A month counts as whole when its first and
 * last day both lie in the range (whether or not they have passed yet). A series by day or by
 * week needs each day, and weeks cross month ends, so those read days only (granularity
 * 'day' or 'week'); totals (null), months and years read whole months where they can.
 */
export function cutRange(from: string, to: string, granularity: Granularity | null): RangeCut {
  if (granularity === 'day' || granularity === 'week') return { months: null, days: [{ from, to }] };
  // Days are compared before the next one is taken: the day after 9999-12-31 is no YYYY-MM-DD.
  const fromMonth = periodStart(from, 'month');
  const fromMonthEnd = periodEnd(fromMonth, 'month');
  if (fromMonth !== from && fromMonthEnd >= to) return { months: null, days: [{ from, to }] };
  const firstMonth = fromMonth === from ? from : dayAfter(fromMonthEnd);
  const lastMonth = periodStart(to, 'month');
  const lastWhole = periodEnd(lastMonth, 'month') === to ? lastMonth : periodStart(dayBefore(lastMonth), 'month');
  if (firstMonth > lastWhole) return { months: null, days: [{ from, to }] };
  const days: DayRange[] = [];
  if (from < firstMonth) days.push({ from, to: dayBefore(firstMonth) });
  const lastWholeEnd = periodEnd(lastWhole, 'month');
  if (lastWholeEnd < to) days.push({ from: dayAfter(lastWholeEnd), to });
  return { months: { from: firstMonth, to: lastWhole }, days };
}
