import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { CALENDAR, check, nulField } from './validation.js';

describe('check', () => {
  it('keeps event times plausible: from 2000 to a day ahead of now, whole milliseconds', () => {
    const now = Date.now();
    expect(check({}, { occurredAt: now })).toBeNull();
    expect(check({}, { occurredAt: Date.UTC(2000, 0, 1) })).toBeNull();
    expect(check({}, { occurredAt: Date.UTC(1999, 11, 31) })).toBe(`occurredAt ${Date.UTC(1999, 11, 31)} is not a plausible timestamp`);
    expect(check({}, { occurredAt: now + 2 * 24 * 3600 * 1000 })).toMatch(/^occurredAt \d+ is not a plausible timestamp$/);
    expect(check({}, { occurredAt: 9_000_000_000_000_000 })).toBe('occurredAt 9000000000000000 is not a plausible timestamp');
    expect(check({}, { updatedAt: now + 0.5 })).toMatch(/^updatedAt .* is not a plausible timestamp$/);
    expect(check({}, { createdAt: Number.NaN })).toBe('createdAt NaN is not a plausible timestamp');
  });

  it('lets expiry and revocation lie in the future, within years 1970 to 9999', () => {
    expect(CALENDAR).toEqual({ from: 0, to: Date.parse('9999-12-31T23:59:59.999Z') });
    expect(check({}, {}, { expiresAt: Date.UTC(2400, 0, 1), revokedAt: null })).toBeNull();
    expect(check({}, {}, { expiresAt: CALENDAR.from, revokedAt: CALENDAR.to })).toBeNull();
    const outside = 'is not a timestamp between 1970-01-01 and 9999-12-31 (UTC)';
    expect(check({}, {}, { expiresAt: 9_000_000_000_000_000 })).toBe(`expiresAt 9000000000000000 ${outside}`);
    expect(check({}, {}, { revokedAt: CALENDAR.to + 1 })).toBe(`revokedAt ${CALENDAR.to + 1} ${outside}`);
    expect(check({}, {}, { revokedAt: -1 })).toBe(`revokedAt -1 ${outside}`);
    expect(check({}, {}, { expiresAt: 1.5 })).toBe(`expiresAt 1.5 ${outside}`);
    expect(check({}, {}, { expiresAt: Number.POSITIVE_INFINITY })).toBe(`expiresAt Infinity ${outside}`);
  });

  it('the calendar ends are times a Date writes and reads back exactly', () => {
    for (const t of [CALENDAR.from, CALENDAR.to, Date.UTC(2400, 1, 29, 12)]) expect(Date.parse(new Date(t).toISOString())).toBe(t);
    expect(new Date(CALENDAR.to).toISOString()).toBe('9999-12-31T23:59:59.999Z');
  });

  it('names the first id that is empty or too long', () => {
    expect(check({ linkId: 'l', orgId: ' ' }, {})).toBe('orgId is empty');
    expect(check({ linkId: 'x'.repeat(257) }, {})).toBe('linkId is longer than 256 characters');
    expect(check({ linkId: 'x'.repeat(256), campaignId: null, deviceId: undefined }, {})).toBeNull();
  });
});

describe('nulField', () => {
  it('names the path of the first string holding a NUL, and nothing when none does', () => {
    expect(nulField({ eventId: 'e1', visitor: { deviceId: 'd', userAgent: 'ua' }, tags: ['a', 'b'] })).toBeNull();
    expect(nulField({ eventId: 'e1', visitor: { deviceId: 'dev\u0000ice' } })).toBe('visitor.deviceId');
    expect(nulField({ eventId: 'e\u0000' })).toBe('eventId');
    expect(nulField({ a: [{ b: 'x' }, { b: ['y', 'z\u0000'] }] })).toBe('a[1].b[1]');
    expect(nulField(['ok', 'n\u0000'])).toBe('[1]');
    expect(nulField('\u0000')).toBe('value');
    expect(nulField(Object.assign(Object.create({ inherited: '\u0000' }) as object, { own: 'ok' }))).toBeNull();
  });
  it('reads a decoded Avro record by its own fields, not its class\'s methods', () => {
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'eventId', type: 'string' },
        { name: 'visitor', type: { type: 'record', name: 'V', fields: [{ name: 'deviceId', type: ['null', 'string'] }, { name: 'userAgent', type: ['null', 'string'] }] } },
      ],
    });
    const decoded = (value: object) => type.fromBuffer(type.toBuffer(value)) as object;
    expect(nulField(decoded({ eventId: 'e1', visitor: { deviceId: 'd', userAgent: null } }))).toBeNull();
    expect(nulField(decoded({ eventId: 'e1', visitor: { deviceId: null, userAgent: 'u\u0000a' } }))).toBe('visitor.userAgent');
  });
});
