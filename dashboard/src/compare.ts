/**
 * Changes against an earlier period, as the page shows them. A change needs a basis: none when
 * the earlier period begins before the organization's first activity (it had not started, or
 * only partly: a comparison would flatter), and none for a count that was 0 before (any change
 * from 0 is an infinite percentage). Then the page says n/a, never a fake 0 % or ∞.
 */
export interface Earlier {
  from: string;
  to: string;
  orgFirstDay: string | null;
}

/** Whether the earlier period can be compared with at all. */
export const hasBasis = (earlier: Earlier): boolean => earlier.orgFirstDay !== null && earlier.from >= earlier.orgFirstDay;

/** A count's relative change (0.25 for +25 %), or null when there is no basis. */
export function countChange(now: number, before: number, basis: boolean): number | null {
  if (!basis || before === 0) return null;
  return (now - before) / before;
}

/** A rate's change in percentage points as a fraction (0.05 for +5 pp), or null when either rate or the basis is missing. */
export function rateChange(now: number | null, before: number | null, basis: boolean): number | null {
  if (!basis || now === null || before === null) return null;
  return now - before;
}
