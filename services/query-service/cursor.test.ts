import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('recruit cursors', () => {
  it('round-trip the sort key of the last row', () => {
    const c = { registeredAt: '2026-03-29T01:30:00.000Z', referralId: 'ref_abc' };
    expect(decodeCursor(encodeCursor(c))).toEqual(c);
    expect(decodeCursor(undefined)).toBeNull();
  });

  it('refuse anything else with a 400 naming the cursor', () => {
    for (const bad of ['x', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["yesterday","r"]').toString('base64url'), '%%%']) {
      expect(() => decodeCursor(bad)).toThrow(expect.objectContaining({ status: 400, message: expect.stringContaining('cursor') }));
    }
  });
});
