import { daysBetween, periodEnd, periodStart } from './periods.js';
import type { DayRange } from './range-cut.js';

/** What a range is compared with (SPEC §5 `compare`). */
export const COMPARE_MODES = ['previous', 'year'] as const;
export type CompareMode = (typeof COMPARE_MODES)[number];

const DAY_MS = 86_400_000;
const shiftDays = (day: string, days: number) => new Date(Date.parse(`${day}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);

/** The same month and day a year earlier; 29 February becomes 28 February. */
function yearBefore(day: string): string {
  const [y, m, d] = day.split('-') as [string, string, string];
  const year = String(Number(y) - 1).padStart(4, '0');
  if (m === '02' && d === '29') return `${year}-02-28`;
  return `${year}-${m}-${d}`;
}

/**
 * The range a range of local dates is compared with:
 * - `previous`: the range of equal length that ends the day before `from` (7 days before a
 *   7-day range, the 31 days before March for March);
 * - `year`: the same dates a year earlier. 29 February, which the year before lacks, becomes
 *   28 February; and a `to` on the last day of February stays the last day of February, so a
 *   whole February (or twelve months ending with one) is compared with a whole February, 29
 *   February included when the earlier year has it. The earlier range can then be a day
 *   longer or shorter than the range itself, as the two years' Februaries differ.
 * Pure date arithmetic: both ranges are local dates of the same organization's timezone.
 */
export function comparisonRange(range: DayRange, mode: CompareMode): DayRange {
  if (mode === 'previous') {
    const days = daysBetween(range.from, range.to);
    return { from: shiftDays(range.from, -days), to: shiftDays(range.from, -1) };
  }
  const to = range.to.slice(5, 7) === '02' && periodEnd(periodStart(range.to, 'month'), 'month') === range.to
    ? periodEnd(`${yearBefore(range.to).slice(0, 7)}-01`, 'month')
    : yearBefore(range.to);
  return { from: yearBefore(range.from), to };
}
