import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('recruit cursors', () => {
  it('round-trip the sort key of the last row', () => {
    const c = { registeredAt: '2026-03-29T01:30:00.000Z', referralId: 'ref_abc' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(undefined)).toBeNull();
    const edge = { registeredAt: '9999-12-31T23:59:59.999Z', referralId: 'r' };
    expect(decodeCursor(encodeCursor(edge))).toEqual(edge);
  });

  it('refuse anything else with a 400 naming the cursor', () => {
    const forged = (json: string) => Buffer.from(json).toString('base64url');
    for (const bad of ['x', forged('[1,2]'), forged('["yesterday","r"]'), '%%%', forged('["2026-02-30T10:00:00.000Z","r"]'), forged('["2026-03-01T25:00:00.000Z","r"]'), forged('["2026-03-01T10:00:00Z","r"]'),
      // Instants Postgres refuses (year 0, signed years beyond 9999) and before the calendar's first day.
      forged('["0000-01-01T00:00:00.000Z","r"]'), forged('["+010000-01-01T00:00:00.000Z","r"]'), forged('["-000001-01-01T00:00:00.000Z","r"]'), forged('["1969-12-31T23:59:59.999Z","r"]')]) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ status: 400, message: expect.stringContaining('cursor') }));
    }
  });
});
