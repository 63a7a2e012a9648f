import { describe, expect, it } from 'vitest';
import { mondayOf, monthEnd, presetOf, presetRange, todayIn } from './presets.js';

describe('date range presets in the organization timezone', () => {
  it('this week and last week are ISO weeks, Monday first, across a year end', () => {
    expect(presetRange('thisWeek', '2026-03-15')).toEqual({ from: '2026-03-09', to: '2026-03-15' }); // a Sunday
    expect(presetRange('thisWeek', '2026-03-16')).toEqual({ from: '2026-03-16', to: '2026-03-16' }); // a Monday
    expect(presetRange('lastWeek', '2026-03-15')).toEqual({ from: '2026-03-02', to: '2026-03-08' });
    expect(presetRange('lastWeek', '2026-01-02')).toEqual({ from: '2025-12-22', to: '2025-12-28' });
    expect(mondayOf('2027-01-01')).toBe('2026-12-28'); // ISO week 53 of 2026
  });

  it('months end on their last day, February 28 or 29', () => {
    expect(presetRange('thisMonth', '2026-03-15')).toEqual({ from: '2026-03-01', to: '2026-03-15' });
    expect(presetRange('lastMonth', '2026-03-31')).toEqual({ from: '2026-02-01', to: '2026-02-28' });
    expect(presetRange('lastMonth', '2024-03-01')).toEqual({ from: '2024-02-01', to: '2024-02-29' });
    expect(presetRange('lastMonth', '2026-01-10')).toEqual({ from: '2025-12-01', to: '2025-12-31' });
    expect(monthEnd('2026-04-10')).toBe('2026-04-30');
  });

  it('this year and the last 12 months (this month so far and the eleven before)', () => {
    expect(presetRange('thisYear', '2026-03-15')).toEqual({ from: '2026-01-01', to: '2026-03-15' });
    expect(presetRange('last12Months', '2026-03-15')).toEqual({ from: '2025-04-01', to: '2026-03-15' });
    expect(presetRange('last12Months', '2026-12-31')).toEqual({ from: '2026-01-01', to: '2026-12-31' });
  });

  it("today is the organization's date, also on the nights clocks change", () => {
    // Oslo goes from UTC+1 to UTC+2 at 01:00Z on 29 March 2026, and back at 01:00Z on 25 October.
    expect(todayIn('Europe/Oslo', Date.parse('2026-03-28T22:59:00Z'))).toBe('2026-03-28');
    expect(todayIn('Europe/Oslo', Date.parse('2026-03-28T23:00:00Z'))).toBe('2026-03-29');
    expect(todayIn('Europe/Oslo', Date.parse('2026-03-29T21:59:00Z'))).toBe('2026-03-29');
    expect(todayIn('Europe/Oslo', Date.parse('2026-03-29T22:00:00Z'))).toBe('2026-03-30'); // midnight now at 22:00Z
    expect(todayIn('Europe/Oslo', Date.parse('2026-10-25T22:59:00Z'))).toBe('2026-10-25');
    expect(todayIn('Europe/Oslo', Date.parse('2026-10-25T23:00:00Z'))).toBe('2026-10-26');
    expect(todayIn('America/New_York', Date.parse('2026-03-02T04:30:00Z'))).toBe('2026-03-01');
    // A Monday in Oslo is still Sunday in New York: this week differs by organization.
    const instant = Date.parse('2026-03-15T23:30:00Z');
    expect(presetRange('thisWeek', todayIn('Europe/Oslo', instant))).toEqual({ from: '2026-03-16', to: '2026-03-16' });
    expect(presetRange('thisWeek', todayIn('America/New_York', instant))).toEqual({ from: '2026-03-09', to: '2026-03-15' });
  });

  it('recognizes a range that is a preset', () => {
    expect(presetOf({ from: '2026-02-01', to: '2026-02-28' }, '2026-03-15')).toBe('lastMonth');
    expect(presetOf({ from: '2026-02-01', to: '2026-02-27' }, '2026-03-15')).toBeNull();
  });
});
