import { describe, expect, it } from 'vitest';
import { comparisonRange } from './compare-range.js';

describe('the range a range is compared with', () => {
  it('previous: the range of equal length just before, across month and year ends', () => {
    expect(comparisonRange({ from: '2026-03-01', to: '2026-03-31' }, 'previous')).toEqual({ from: '2026-01-29', to: '2026-02-28' });
    expect(comparisonRange({ from: '2026-03-09', to: '2026-03-15' }, 'previous')).toEqual({ from: '2026-03-02', to: '2026-03-08' });
    expect(comparisonRange({ from: '2026-01-01', to: '2026-01-01' }, 'previous')).toEqual({ from: '2025-12-31', to: '2025-12-31' });
    expect(comparisonRange({ from: '2024-03-01', to: '2024-03-02' }, 'previous')).toEqual({ from: '2024-02-28', to: '2024-02-29' });
    expect(comparisonRange({ from: '1970-01-01', to: '1970-01-10' }, 'previous')).toEqual({ from: '1969-12-22', to: '1969-12-31' });
  });

  it('year: the same dates a year earlier', () => {
    expect(comparisonRange({ from: '2026-03-01', to: '2026-03-31' }, 'year')).toEqual({ from: '2025-03-01', to: '2025-03-31' });
    expect(comparisonRange({ from: '2026-01-05', to: '2026-12-20' }, 'year')).toEqual({ from: '2025-01-05', to: '2025-12-20' });
  });

  it('year: 29 February becomes 28 February, and a whole February stays a whole February', () => {
    expect(comparisonRange({ from: '2024-02-29', to: '2024-03-10' }, 'year')).toEqual({ from: '2023-02-28', to: '2023-03-10' });
    expect(comparisonRange({ from: '2024-02-01', to: '2024-02-29' }, 'year')).toEqual({ from: '2023-02-01', to: '2023-02-28' });
    expect(comparisonRange({ from: '2025-02-01', to: '2025-02-28' }, 'year')).toEqual({ from: '2024-02-01', to: '2024-02-29' });
    expect(comparisonRange({ from: '2024-03-01', to: '2025-02-28' }, 'year')).toEqual({ from: '2023-03-01', to: '2024-02-29' });
    // 28 February of a leap year is not its month's end: it stays the 28th.
    expect(comparisonRange({ from: '2024-02-01', to: '2024-02-28' }, 'year')).toEqual({ from: '2023-02-01', to: '2023-02-28' });
  });
});
