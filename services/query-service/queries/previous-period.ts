import type { Queryable } from '../../../libs/db/queryable.js';
import { conversionOf, type Conversion } from '../../../libs/funnel/conversion.js';
import { comparisonRange, type CompareMode } from '../../../libs/funnel/compare-range.js';
import { zeroTotals, type FunnelTotals } from '../../../libs/funnel/increments.js';
import { FUNNEL_SUMS, totalsOf, type SumRow } from '../../../libs/funnel/series.js';
import { cutRange, type DayRange } from '../../../libs/funnel/range-cut.js';
import { FUNNEL_GRAINS, rangeRows, sqlParams } from '../../../libs/funnel/range-rows.js';
import type { Target } from './grant-filter.js';

/** SPEC §5 `previous`: the earlier range, its totals and conversion, and the organization's first day of activity. */
export interface PreviousPeriod {
  from: string;
  to: string;
  orgFirstDay: string | null;
  totals: FunnelTotals;
  conversion: Conversion;
}

/**
 * The organization's first day with any funnel activity: its earliest funnel_org_daily row with
 * a count (a row can be all zeros after a retraction), a local date; null when it has none. An
 * earlier period that begins before it has no basis for a comparison (the dashboard says n/a).
 */
export async function orgFirstDay(db: Queryable, orgId: string): Promise<string | null> {
  const { rows } = await db.query<{ first: string | null }>(
    `select min(day)::text as first from ${FUNNEL_GRAINS.org.daily}
      where org_id = $1 and clicks + unique_clicks + installs + registrations + activations > 0`,
    [orgId],
  );
  return rows[0]?.first ?? null;
}

/** Funnel totals of some of an organization's mentors (null: all) over a range, optionally one campaign's. */
async function rangeTotals(db: Queryable, target: Target, range: DayRange, campaignId: string | null): Promise<FunnelTotals> {
  const { values, add } = sqlParams();
  const [org, mentors, campaign] = [add(target.orgId), add(target.mentorIds), add(campaignId)];
  const where = `org_id = ${org} and (${mentors}::text[] is null or mentor_id = any(${mentors})) and (${campaign}::text is null or campaign_id = ${campaign})`;
  const { rows } = await db.query<SumRow>(`select ${FUNNEL_SUMS} from (${rangeRows(cutRange(range.from, range.to, null), FUNNEL_GRAINS.mentor, where, add)}) f`, values);
  // sum() over no rows is null: no activity is zeros.
  const row = rows[0];
  return row && row.clicks !== null ? totalsOf(row) : zeroTotals();
}

/**
 * `previous` of a summary (referral-stats, recruitment-summary): the same target over the
 * earlier range. `firstDay`: the organization's first day already read (orgFirstDay), else read here.
 */
export async function previousPeriod(db: Queryable, target: Target, range: DayRange, mode: CompareMode, campaignId: string | null = null, firstDay?: string | null): Promise<PreviousPeriod> {
  const earlier = comparisonRange(range, mode);
  const [totals, first] = await Promise.all([rangeTotals(db, target, earlier, campaignId), firstDay !== undefined ? firstDay : orgFirstDay(db, target.orgId)]);
  return previousOf(earlier, first, totals);
}

/** A `previous` of totals over an earlier range. */
export const previousOf = (earlier: DayRange, first: string | null, totals: FunnelTotals): PreviousPeriod => ({ ...earlier, orgFirstDay: first, totals, conversion: conversionOf(totals) });
