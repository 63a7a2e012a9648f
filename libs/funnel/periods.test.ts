import { describe, expect, it } from 'vitest';
import { daysBetween, localDay, periodStart, periodStarts } from './periods.js';

describe('periods', () => {
  it('starts ISO weeks on Monday, months and years on their first day', () => {
    expect(periodStart('2026-03-29', 'week')).toBe('2026-03-23'); // a Sunday belongs to the week before
    expect(periodStart('2026-03-30', 'week')).toBe('2026-03-30');
    expect(periodStart('2026-03-31', 'month')).toBe('2026-03-01');
    expect(periodStart('2026-10-25', 'year')).toBe('2026-01-01');
    expect(periodStart('2027-01-01', 'week')).toBe('2026-12-28'); // ISO week 53 of 2026
  });

  it('lists every period overlapping an inclusive range, empty or not', () => {
    expect(periodStarts('2026-03-28', '2026-03-31', 'day')).toEqual(['2026-03-28', '2026-03-29', '2026-03-30', '2026-03-31']);
    expect(periodStarts('2026-03-29', '2026-04-06', 'week')).toEqual(['2026-03-23', '2026-03-30', '2026-04-06']);
    expect(periodStarts('2026-01-31', '2026-03-01', 'month')).toEqual(['2026-01-01', '2026-02-01', '2026-03-01']);
    expect(periodStarts('2026-05-05', '2026-05-05', 'year')).toEqual(['2026-01-01']);
    expect(periodStarts('2026-05-06', '2026-05-05', 'day')).toEqual([]);
  });

  it('counts days across clock changes as calendar days', () => {
    expect(daysBetween('2026-03-01', '2026-03-31')).toBe(31);
    expect(daysBetween('2026-10-25', '2026-10-25')).toBe(1);
  });

  it('cuts local days in the org timezone across the March and October changes', () => {
    // 2026-03-29 02:00 CET becomes 03:00 CEST; 2026-10-25 03:00 CEST becomes 02:00 CET.
    expect(localDay(Date.parse('2026-03-28T22:59:59Z'), 'Europe/Oslo')).toBe('2026-03-28');
    expect(localDay(Date.parse('2026-03-28T23:00:00Z'), 'Europe/Oslo')).toBe('2026-03-29');
    expect(localDay(Date.parse('2026-03-29T21:59:59Z'), 'Europe/Oslo')).toBe('2026-03-29');
    expect(localDay(Date.parse('2026-03-29T22:00:00Z'), 'Europe/Oslo')).toBe('2026-03-30');
    expect(localDay(Date.parse('2026-10-24T22:00:00Z'), 'Europe/Oslo')).toBe('2026-10-25');
    expect(localDay(Date.parse('2026-10-25T22:59:59Z'), 'Europe/Oslo')).toBe('2026-10-25');
    expect(localDay(Date.parse('2026-10-25T23:00:00Z'), 'Europe/Oslo')).toBe('2026-10-26');
    expect(() => periodStart('2026-02-30', 'day')).toThrow(RangeError);
  });
});
