import { COUNT_COLUMNS } from './increments.js';
import type { RangeCut } from './range-cut.js';

/** Query parameters collected as a query is written: `add(value)` returns its placeholder ($1, $2, ...). */
export function sqlParams(): { values: unknown[]; add: (value: unknown) => string } {
  const values: unknown[] = [];
  return { values, add: (value) => `$${values.push(value)}` };
}

/**
 * The two grains of the funnel tables: per mentor, campaign and organization, and per
 * organization; each kept per local day and per local month.
 */
export const FUNNEL_GRAINS = {
  mentor: { monthly: 'funnel_monthly', daily: 'funnel_daily', keys: 'org_id, mentor_id, campaign_id' },
  org: { monthly: 'funnel_org_monthly', daily: 'funnel_org_daily', keys: 'org_id' },
} as const;

/**
 * The funnel rows of a cut range (range-cut.ts) as one relation, with columns `day`, the
 * grain's keys and the counts: the monthly rows of its whole months (their `day` the 1st of
 * the month) and the daily rows of its edge days, `where` (a condition on the keys) applied to
 * both. Sums over it equal sums over the daily rows of the whole range, grouped by anything
 * but days and weeks (those ranges are cut into days only).
 */
export function rangeRows(cut: RangeCut, grain: (typeof FUNNEL_GRAINS)[keyof typeof FUNNEL_GRAINS], where: string, add: (value: unknown) => string): string {
  const parts: string[] = [];
  if (cut.months) {
    parts.push(`select month as day, ${grain.keys}, ${COUNT_COLUMNS} from ${grain.monthly}
                 where ${where} and month between ${add(cut.months.from)}::date and ${add(cut.months.to)}::date`);
  }
  if (cut.days.length > 0) {
    const days = cut.days.map((d) => `day between ${add(d.from)}::date and ${add(d.to)}::date`).join(' or ');
    parts.push(`select day, ${grain.keys}, ${COUNT_COLUMNS} from ${grain.daily} where ${where} and (${days})`);
  }
  return parts.join(' union all ');
}
