import fc from 'fast-check';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { SLOT_MS, daysBetween, localDay, periodSql, periodStart, periodStarts, slotStart } from './periods.js';

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

  it('lists the same periods as luxon for any range, leap days, early years and the calendar\'s end included', () => {
    const units = { day: 'days', week: 'weeks', month: 'months', year: 'years' } as const;
    const reference = (from: string, to: string, g: keyof typeof units) => {
      const out: string[] = [];
      const end = DateTime.fromISO(to, { zone: 'utc' });
      for (let t = DateTime.fromISO(from, { zone: 'utc' }).startOf(g === 'week' ? 'week' : g); t <= end; t = t.plus({ [units[g]]: 1 })) out.push(t.toISODate() as string);
      return out;
    };
    const day = fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9999-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    fc.assert(
      fc.property(day, fc.integer({ min: 0, max: 800 }), fc.constantFrom('day', 'week', 'month', 'year' as const), (from, span, g) => {
        const to = DateTime.fromISO(from, { zone: 'utc' }).plus({ days: g === 'day' ? span : span * (g === 'year' ? 9 : 3) });
        const last = to.year > 9999 ? '9999-12-31' : (to.toISODate() as string);
        expect(periodStarts(from, last, g)).toEqual(reference(from, last, g));
      }),
      { numRuns: 400 },
    );
    expect(periodStarts('9999-12-01', '9999-12-31', 'week').at(-1)).toBe('9999-12-27');
    expect(periodStarts('0099-12-30', '0100-01-02', 'day')).toEqual(['0099-12-30', '0099-12-31', '0100-01-01', '0100-01-02']);
    expect(periodStarts('2024-02-27', '2024-03-01', 'day')).toEqual(['2024-02-27', '2024-02-28', '2024-02-29', '2024-03-01']);
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

describe('15-minute slots', () => {
  const at = (iso: string) => Date.parse(iso);
  const iso = (ms: number) => new Date(ms).toISOString();

  it('cuts slots on UTC quarter hours, the boundary opening the next one', () => {
    expect(iso(slotStart(at('2026-10-25T00:59:59.999Z')))).toBe('2026-10-25T00:45:00.000Z');
    expect(iso(slotStart(at('2026-10-25T01:00:00.000Z')))).toBe('2026-10-25T01:00:00.000Z');
    expect(iso(slotStart(at('2026-10-25T01:14:59.999Z')))).toBe('2026-10-25T01:00:00.000Z');
    expect(iso(slotStart(at('2026-10-25T01:15:00.000Z')))).toBe('2026-10-25T01:15:00.000Z');
  });

  it('cuts slots before 1970 downwards too', () => {
    expect(slotStart(-1)).toBe(-SLOT_MS);
    expect(slotStart(-SLOT_MS)).toBe(-SLOT_MS);
    expect(slotStart(0)).toBe(0);
  });

  it('counts the minutes after a clock change at 00:01 (St_Johns until 2010) on the slot start\'s day', () => {
    const instant = at('2010-11-07T02:31:00Z'); // 00:01 NDT became 23:01 NST on the 6th
    expect([localDay(instant, 'America/St_Johns'), localDay(slotStart(instant), 'America/St_Johns')]).toEqual(['2010-11-06', '2010-11-07']);
  });

  // Why a slot may stand for its instants: every offset in use is a multiple of 15 minutes
  // (Adelaide +9:30/+10:30, Kathmandu +5:45, Chatham +12:45/+13:45), and clocks change on a
  // quarter hour, so no local midnight falls inside a slot. From 2011 on: until 2010 St_Johns
  // turned its clocks back at 00:01 local time, and 14 minutes a year (02:31-02:45 UTC on that
  // day) lie on the day before their slot start's (see SLOT_MS), which the first property found.
  it.each(['Europe/Oslo', 'America/New_York', 'Australia/Adelaide', 'Asia/Kathmandu', 'Pacific/Chatham', 'America/St_Johns', 'Asia/Kolkata', 'UTC'])(
    'puts every instant of a slot on the slot start\'s local day in %s',
    (timezone) => {
      fc.assert(
        fc.property(fc.integer({ min: at('2011-01-01T00:00:00Z'), max: at('2037-12-31T23:59:59Z') }), (instant) => localDay(slotStart(instant), timezone) === localDay(instant, timezone)),
        { numRuns: 2000 },
      );
      // Either side of every local midnight of a year with both clock changes, to the millisecond.
      const first = DateTime.fromObject({ year: 2026, month: 1, day: 1 }, { zone: timezone });
      for (let d = 0; d < 365; d++) {
        const midnight = first.plus({ days: d }).startOf('day').toMillis();
        for (const instant of [midnight - 1, midnight, midnight + SLOT_MS - 1]) expect(localDay(slotStart(instant), timezone)).toBe(localDay(instant, timezone));
      }
    },
  );
});

describe('periodSql', () => {
  it('builds the cuts from the expressions it is given, with the slot width of SLOT_MS', () => {
    expect(periodSql.slotStart('t.occurred_at')).toBe('to_timestamp(floor(extract(epoch from t.occurred_at) / 900) * 900)');
    expect(periodSql.utcHour('slot')).toBe("date_trunc('hour', slot, 'UTC')");
    expect(periodSql.localDay('slot', 'coalesce(s.timezone, $1)')).toBe('(slot at time zone coalesce(s.timezone, $1))::date');
    expect(periodSql.monthOf('day')).toBe("date_trunc('month', day::timestamp)::date");
    expect(periodSql.yearOf('day')).toBe('extract(year from day)::int');
  });
});
