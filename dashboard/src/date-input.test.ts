import { describe, expect, it } from 'vitest';
import { datePattern, formatDateInput, parseDateInput } from './date-input.js';

describe('dates in the inputs, written the locale’s way', () => {
  it('writes Norwegian, British and American dates', () => {
    expect(formatDateInput('2026-03-01', 'nb-NO')).toBe('01.03.2026');
    expect(formatDateInput('2026-03-01', 'en-GB')).toBe('01/03/2026');
    expect(formatDateInput('2026-03-01', 'en-US')).toBe('03/01/2026');
    expect(datePattern('nb-NO')).toEqual({ order: ['day', 'month', 'year'], separator: '.' });
  });

  it('reads them back, and refuses what is no date', () => {
    expect(parseDateInput('01.03.2026', 'nb-NO')).toBe('2026-03-01');
    expect(parseDateInput('1.3.2026', 'nb-NO')).toBe('2026-03-01');
    expect(parseDateInput('03/01/2026', 'en-US')).toBe('2026-03-01');
    expect(parseDateInput('2026-03-01', 'en-GB')).toBe('2026-03-01');
    expect(parseDateInput('29.02.2026', 'nb-NO')).toBeNull();
    expect(parseDateInput('29.02.2024', 'nb-NO')).toBe('2024-02-29');
    expect(parseDateInput('31/04/2026', 'en-GB')).toBeNull();
    expect(parseDateInput('tomorrow', 'en-GB')).toBeNull();
    expect(parseDateInput('01.03.26', 'nb-NO')).toBeNull();
  });
});
