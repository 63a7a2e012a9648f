import { describe, expect, it } from 'vitest';
import { tablesToAnalyze } from './analyze-growth.js';

describe('tablesToAnalyze', () => {
  it('names a table once it has changed by as many rows as it held, at least minChanges, while under maxRows', () => {
    const due = tablesToAnalyze(
      [
        { table: 'empty_grown', rows: 0, changed: 1_000 },
        { table: 'empty_barely', rows: 0, changed: 999 },
        { table: 'doubled', rows: 5_000, changed: 5_000 },
        { table: 'not_yet_doubled', rows: 5_000, changed: 4_999 },
        { table: 'large', rows: 10_000, changed: 1_000_000 },
        { table: 'just_under', rows: 9_999, changed: 9_999 },
      ],
      1_000,
      10_000,
    );
    expect(due).toEqual(['empty_grown', 'doubled', 'just_under']);
  });
});
