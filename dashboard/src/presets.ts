/**
 * Date range presets, cut in the organization's timezone. Everything works on local calendar
 * dates (YYYY-MM-DD) as the API does: "today" is the date an instant falls on in the
 * organization's timezone (todayIn), and the rest is calendar arithmetic that no daylight-saving
 * change can move. Weeks are ISO weeks, Monday first. "This" presets run to today (the rest of
 * the period has not happened); "last" presets are whole periods; the last 12 months are this
 * month so far and the eleven whole months before it, so a monthly series has twelve points.
 */
export const PRESETS = ['thisWeek', 'lastWeek', 'thisMonth', 'lastMonth', 'thisYear', 'last12Months'] as const;
export type Preset = (typeof PRESETS)[number];
export interface DayRange {
  from: string;
  to: string;
}

const DAY_MS = 86_400_000;
const parse = (day: string): Date => new Date(`${day}T00:00:00Z`);
const iso = (d: Date): string => d.toISOString().slice(0, 10);
const utc = (y: number, m: number, d: number): string => {
  const date = new Date(0);
  date.setUTCFullYear(y, m, d);
  return iso(date);
};

/** The local date of an instant in an IANA timezone (en-CA writes YYYY-MM-DD). */
export function todayIn(timeZone: string, now: number = Date.now()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(now));
}

/** The Monday of the ISO week holding a date. */
export function mondayOf(day: string): string {
  const d = parse(day);
  return iso(new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY_MS));
}

/** The last day of the month holding a date (28, 29, 30 or 31). */
export function monthEnd(day: string): string {
  const d = parse(day);
  return utc(d.getUTCFullYear(), d.getUTCMonth() + 1, 0);
}

/** The range of a preset when today is `today` (a local date of the organization). */
export function presetRange(preset: Preset, today: string): DayRange {
  const d = parse(today);
  const [y, m] = [d.getUTCFullYear(), d.getUTCMonth()];
  switch (preset) {
    case 'thisWeek':
      return { from: mondayOf(today), to: today };
    case 'lastWeek': {
      const monday = parse(mondayOf(today)).getTime() - 7 * DAY_MS;
      return { from: iso(new Date(monday)), to: iso(new Date(monday + 6 * DAY_MS)) };
    }
    case 'thisMonth':
      return { from: utc(y, m, 1), to: today };
    case 'lastMonth':
      return { from: utc(y, m - 1, 1), to: utc(y, m, 0) };
    case 'thisYear':
      return { from: utc(y, 0, 1), to: today };
    case 'last12Months':
      return { from: utc(y, m - 11, 1), to: today };
  }
}

/** The preset a range is, today, or null. */
export function presetOf(range: Partial<DayRange>, today: string): Preset | null {
  return PRESETS.find((p) => {
    const r = presetRange(p, today);
    return r.from === range.from && r.to === range.to;
  }) ?? null;
}
