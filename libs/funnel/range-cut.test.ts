import { describe, expect, it } from 'vitest';
import { cutRange } from './range-cut.js';
import { periodEnd, periodStarts } from './periods.js';

/** Every day the cut covers, months expanded to their days, in order. */
const daysOf = (cut: ReturnType<typeof cutRange>): string[] => {
  const months = cut.months ? periodStarts(cut.months.from, cut.months.to, 'month').flatMap((m) => periodStarts(m, periodEnd(m, 'month'), 'day')) : [];
  const days = cut.days.flatMap((d) => periodStarts(d.from, d.to, 'day'));
  return [...months, ...days].sort();
};

describe('cutting a range of days into whole months and edge days', () => {
  it('reads a range of whole months from the monthly rows alone', () => {
    expect(cutRange('2025-11-01', '2026-10-31', null)).toEqual({ months: { from: '2025-11-01', to: '2026-10-01' }, days: [] });
    expect(cutRange('2026-01-01', '2026-12-31', 'year')).toEqual({ months: { from: '2026-01-01', to: '2026-12-01' }, days: [] });
    expect(cutRange('2026-02-01', '2026-02-28', 'month')).toEqual({ months: { from: '2026-02-01', to: '2026-02-01' }, days: [] });
    expect(cutRange('2028-02-01', '2028-02-29', 'month')).toEqual({ months: { from: '2028-02-01', to: '2028-02-01' }, days: [] }); // a leap year
  });

  it('reads the partial first and last months day by day', () => {
    expect(cutRange('2025-11-02', '2026-10-30', 'month')).toEqual({
      months: { from: '2025-12-01', to: '2026-09-01' },
      days: [{ from: '2025-11-02', to: '2025-11-30' }, { from: '2026-10-01', to: '2026-10-30' }],
    });
    expect(cutRange('2026-01-31', '2026-03-31', null)).toEqual({ months: { from: '2026-02-01', to: '2026-03-01' }, days: [{ from: '2026-01-31', to: '2026-01-31' }] });
    expect(cutRange('2026-01-01', '2026-03-01', null)).toEqual({ months: { from: '2026-01-01', to: '2026-02-01' }, days: [{ from: '2026-03-01', to: '2026-03-01' }] });
    expect(cutRange('2025-12-15', '2026-01-31', null)).toEqual({ months: { from: '2026-01-01', to: '2026-01-01' }, days: [{ from: '2025-12-15', to: '2025-12-31' }] });
  });

  it('reads days only when no month lies wholly inside the range', () => {
    expect(cutRange('2026-03-02', '2026-03-31', 'month')).toEqual({ months: null, days: [{ from: '2026-03-02', to: '2026-03-31' }] });
    expect(cutRange('2026-03-15', '2026-04-14', null)).toEqual({ months: null, days: [{ from: '2026-03-15', to: '2026-04-14' }] });
    expect(cutRange('2026-02-28', '2026-02-28', 'year')).toEqual({ months: null, days: [{ from: '2026-02-28', to: '2026-02-28' }] });
  });

  it('reads days only for a series by day or week, whose periods cross month ends', () => {
    expect(cutRange('2026-01-01', '2026-12-31', 'day')).toEqual({ months: null, days: [{ from: '2026-01-01', to: '2026-12-31' }] });
    expect(cutRange('2026-01-01', '2026-12-31', 'week')).toEqual({ months: null, days: [{ from: '2026-01-01', to: '2026-12-31' }] });
  });

  it('cuts the last days of the calendar without reaching past 9999-12-31', () => {
    expect(cutRange('9999-01-01', '9999-12-31', 'year')).toEqual({ months: { from: '9999-01-01', to: '9999-12-01' }, days: [] });
    expect(cutRange('9999-12-05', '9999-12-31', null)).toEqual({ months: null, days: [{ from: '9999-12-05', to: '9999-12-31' }] });
    expect(cutRange('9999-11-15', '9999-12-31', 'month')).toEqual({ months: { from: '9999-12-01', to: '9999-12-01' }, days: [{ from: '9999-11-15', to: '9999-11-30' }] });
    expect(cutRange('9999-10-01', '9999-12-30', null)).toEqual({ months: { from: '9999-10-01', to: '9999-11-01' }, days: [{ from: '9999-12-01', to: '9999-12-30' }] });
    expect(cutRange('1970-01-01', '1970-03-15', null)).toEqual({ months: { from: '1970-01-01', to: '1970-02-01' }, days: [{ from: '1970-03-01', to: '1970-03-15' }] });
  });

  it('covers every day of the range exactly once', () => {
    const starts = ['1970-01-01', '9997-12-31', '2024-02-28', '2024-02-29', '2024-03-01', '2025-12-31', '2026-01-01', '2026-01-17', '2026-06-30'];
    for (const from of starts) {
      for (const days of [1, 2, 27, 28, 29, 30, 31, 32, 59, 60, 61, 62, 90, 365, 366, 731]) {
        const to = new Date(Date.parse(`${from}T00:00:00Z`) + (days - 1) * 86_400_000).toISOString().slice(0, 10);
        for (const granularity of [null, 'month', 'year', 'week', 'day'] as const) {
          const cut = cutRange(from, to, granularity);
          expect(daysOf(cut), `${from}..${to} ${granularity}`).toEqual(periodStarts(from, to, 'day'));
          expect(cut.days.length).toBeLessThanOrEqual(granularity === 'day' || granularity === 'week' || cut.months === null ? 1 : 2);
        }
      }
    }
  });
});
