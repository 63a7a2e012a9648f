import { describe, expect, it } from 'vitest';
import { countChange, hasBasis, rateChange } from './compare.js';

describe('changes against an earlier period', () => {
  it('has no basis before the organization’s first activity, or without any', () => {
    expect(hasBasis({ from: '2026-02-01', to: '2026-02-28', orgFirstDay: '2025-06-10' })).toBe(true);
    expect(hasBasis({ from: '2026-02-01', to: '2026-02-28', orgFirstDay: '2026-02-01' })).toBe(true);
    expect(hasBasis({ from: '2026-02-01', to: '2026-02-28', orgFirstDay: '2026-02-10' })).toBe(false);
    expect(hasBasis({ from: '2026-02-01', to: '2026-02-28', orgFirstDay: null })).toBe(false);
  });

  it('a count that was 0 before has no change to show, never 0 % or infinity', () => {
    expect(countChange(12, 8, true)).toBe(0.5);
    expect(countChange(4, 8, true)).toBe(-0.5);
    expect(countChange(8, 8, true)).toBe(0);
    expect(countChange(3, 0, true)).toBeNull();
    expect(countChange(0, 0, true)).toBeNull();
    expect(countChange(12, 8, false)).toBeNull();
  });

  it('rates change in percentage points, none when either is missing', () => {
    expect(rateChange(0.5, 0.25, true)).toBe(0.25);
    expect(rateChange(null, 0.25, true)).toBeNull();
    expect(rateChange(0.5, null, true)).toBeNull();
    expect(rateChange(0.5, 0.25, false)).toBeNull();
  });
});
