import { DateTime } from 'luxon';
import type { Static } from 'typebox';
import type { CsvCell } from './csv.js';
import type {
  AnnualSummary, Conversion, CoordinatorRecruitmentSummary, FunnelTotals, MentorPerformance, MentorReferralStats, OrgGrowth, OrgRecruitmentSummary, OrgRecruitProfileT, RecruitProfileT,
  SeriesPoint,
} from './schemas.js';

/**
 * How each JSON answer of SPEC §5 flattens to CSV rows (the README's "CSV export" lists the
 * same). Column names are the JSON field names; instants are written in the organization's
 * timezone as ISO 8601 with its offset (2026-03-10T11:05:00+01:00); dates (periodStart, from,
 * to) are the org's local dates already; numbers are unformatted; rates are in [0, 1] or empty
 * for null. Summaries put several kinds of row in one table, told apart by the `row` column.
 */
export interface CsvTable {
  header: string[];
  rows: CsvCell[][];
}

const TOTALS = ['clicks', 'uniqueClicks', 'installs', 'registrations', 'activations'] as const;
const RATES = ['clickToRegistration', 'registrationToActivation', 'clickToActivation'] as const;
type Totals = Static<typeof FunnelTotals>;
type Rates = Static<typeof Conversion>;
const totalsCells = (t: Totals): CsvCell[] => TOTALS.map((k) => t[k]);
const rateCells = (c: Rates | null): CsvCell[] => RATES.map((k) => (c ? c[k] : null));

/** An instant of the service (toISOString) in the organization's timezone, with its offset. */
export function localInstant(iso: string | null, timezone: string): string | null {
  if (iso === null) return null;
  return DateTime.fromISO(iso, { zone: 'utc' }).setZone(timezone).toISO({ suppressMilliseconds: true });
}

// ---- lists ---------------------------------------------------------------------------------

const RECRUIT = ['referralId', 'userId', 'displayName', 'linkId', 'campaignId', 'stage', 'clickedAt', 'installedAt', 'registeredAt', 'activatedAt'] as const;
const INSTANTS = new Set<string>(['clickedAt', 'installedAt', 'registeredAt', 'activatedAt', 'stageSince']);

/** GET /v1/mentors/{mentorId}/recruits: one row per recruit. */
export const recruitHeader = [...RECRUIT];
export const recruitRow = (r: RecruitProfileT, timezone: string): CsvCell[] => RECRUIT.map((k) => (INSTANTS.has(k) ? localInstant(r[k], timezone) : r[k]));

/** GET /v1/orgs/{orgId}/referrals and /v1/coordinators/{coordinatorId}/referrals: one row per recruit, with the mentor and stageSince. */
export const referralHeader = ['mentorId', 'mentorName', ...RECRUIT, 'stageSince'];
export const referralRow = (r: OrgRecruitProfileT, timezone: string): CsvCell[] => [r.mentorId, r.mentorName, ...recruitRow(r, timezone), localInstant(r.stageSince, timezone)];

/**
 * GET /v1/platform/growth: per organization one `period` row per series point and a `total`
 * row (periodStart empty) with the conversion; each organization's dates are in its own
 * timezone, named in the row.
 */
export const growthHeader = ['orgId', 'timezone', 'row', 'periodStart', 'partial', ...TOTALS, ...RATES];
export function growthRows(o: Static<typeof OrgGrowth>): CsvCell[][] {
  return [
    ...o.series.map((p) => [o.orgId, o.timezone, 'period', p.periodStart, p.partial ?? false, ...totalsCells(p), ...rateCells(null)]),
    [o.orgId, o.timezone, 'total', null, null, ...totalsCells(o.totals), ...rateCells(o.conversion)],
  ];
}

// ---- summaries -----------------------------------------------------------------------------

const seriesRows = (series: Static<typeof SeriesPoint>[], pad: number): CsvCell[][] =>
  series.map((p) => ['period', p.periodStart, p.partial ?? false, ...Array<CsvCell>(pad).fill(null), ...totalsCells(p), ...rateCells(null)]);

/** GET /v1/mentors/{mentorId}/referral-stats: `period` rows (the series), then one `total` row with the conversion. */
export function statsTable(s: Static<typeof MentorReferralStats>): CsvTable {
  return {
    header: ['row', 'periodStart', 'partial', ...TOTALS, ...RATES],
    rows: [...seriesRows(s.series, 0), ['total', null, null, ...totalsCells(s.totals), ...rateCells(s.conversion)]],
  };
}

/**
 * GET /v1/orgs/{orgId}/recruitment-summary: `period` rows, a `total` row, a `mentor` row per
 * top mentor (rank, mentorId, mentorName) and a `campaign` row per campaign (campaignId empty:
 * links of no campaign). GET /v1/coordinators/{coordinatorId}/recruitment-summary: the same
 * without mentor rows (its mentors: mentor-performance).
 */
export function summaryTable(s: Static<typeof OrgRecruitmentSummary> | Static<typeof CoordinatorRecruitmentSummary>): CsvTable {
  const mentors = 'topMentors' in s ? s.topMentors : [];
  return {
    header: ['row', 'periodStart', 'partial', 'rank', 'mentorId', 'mentorName', 'campaignId', ...TOTALS, ...RATES],
    rows: [
      ...seriesRows(s.series, 4),
      ['total', null, null, null, null, null, null, ...totalsCells(s.totals), ...rateCells(s.conversion)],
      ...mentors.map((m) => ['mentor', null, null, m.rank, m.mentorId, m.mentorName, null, ...totalsCells(m.totals), ...rateCells(m.conversion)]),
      ...s.campaigns.map((c) => ['campaign', null, null, null, null, null, c.campaignId, ...totalsCells(c.totals), ...rateCells(c.conversion)]),
    ],
  };
}

/** GET /v1/coordinators/{coordinatorId}/mentor-performance: one row per mentor, in rank order. */
export function performanceTable(p: Static<typeof MentorPerformance>): CsvTable {
  return {
    header: ['rank', 'mentorId', 'mentorName', ...TOTALS, ...RATES],
    rows: p.items.map((m) => [m.rank, m.mentorId, m.mentorName, ...totalsCells(m.totals), ...rateCells(m.conversion)]),
  };
}

/** GET /v1/mentors/{mentorId}/annual-summary: one row. */
export function annualTable(a: Static<typeof AnnualSummary>): CsvTable {
  return {
    header: ['mentorId', 'mentorName', 'year', 'from', 'to', ...TOTALS, 'recruits', 'rankInOrg', 'percentileInOrg'],
    rows: [[a.mentorId, a.mentorName, a.year, a.from, a.to, ...totalsCells(a.totals), a.recruits, a.rankInOrg, a.percentileInOrg]],
  };
}
