import { daysBetween } from '../../libs/funnel/periods.js';
import { MAX_RANGE_DAYS } from './ranges.js';
import { CSV_MAX_ROWS, MAX_PAGE } from './schemas.js';

/**
 * What the CSV export of a list costs, in requests: the pages it may read in one request
 * (CSV_MAX_ROWS rows, MAX_PAGE at a time), each a query as a JSON page's is. Priced as one page,
 * an export was up to 50 queries for one unit.
 */
export const CSV_LIST_PAGES = Math.ceil(CSV_MAX_ROWS / MAX_PAGE);

/** Days of range one cost unit pays for: the default 30-day range costs 1, ten years 118. */
export const DAYS_PER_UNIT = 31;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * What a read costs against the caller's rate limit: 1, or one unit per DAYS_PER_UNIT days of
 * its range (a ten-year summary reads a hundred times the rows of a month's), doubled with
 * `compare` (which reads a second range of the same length). `year` (annual-summary) is a
 * year's range, however it is written. Dates not yet validated count as the default range, and
 * a range longer than any route answers costs what the longest answered one does: the route
 * answers them 400.
 */
export function requestCost(query: unknown, today?: string): number {
  const q = (query && typeof query === 'object' ? query : {}) as Record<string, unknown>;
  const text = (v: unknown) => (typeof v === 'string' ? v : Array.isArray(v) && typeof v[0] === 'string' ? v[0] : undefined);
  let days = 30;
  const from = text(q.from);
  const to = text(q.to);
  const year = text(q.year);
  try {
    if (from && DAY.test(from)) days = daysBetween(from, to && DAY.test(to) ? to : (today ?? new Date().toISOString().slice(0, 10)));
    // Any spelling of a year the route accepts (`2026`, `2026.0`, `2.026e3`) costs a year; one it refuses is answered 400.
    else if (year !== undefined) days = 366;
  } catch {
    days = 30;
  }
  if (!Number.isFinite(days) || days < 1) days = 30;
  days = Math.min(days, MAX_RANGE_DAYS.other);
  const units = Math.max(1, Math.ceil(days / DAYS_PER_UNIT));
  return text(q.compare) ? 2 * units : units;
}

/**
 * Requests in flight in this process per key (an identity, an organization): `enter` refuses
 * when the key is at its cap, and answers the release to call exactly once when the request
 * is answered.
 */
export function createInFlight() {
  const counts = new Map<string, number>();
  return {
    enter(keys: { key: string; cap: number }[]): (() => void) | null {
      if (keys.some(({ key, cap }) => (counts.get(key) ?? 0) >= cap)) return null;
      for (const { key } of keys) counts.set(key, (counts.get(key) ?? 0) + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        for (const { key } of keys) {
          const n = (counts.get(key) ?? 1) - 1;
          if (n <= 0) counts.delete(key);
          else counts.set(key, n);
        }
      };
    },
    size: () => counts.size,
    /** Requests in flight under `key` now. */
    count: (key: string) => counts.get(key) ?? 0,
  };
}

/** A cached answer: every caller within `ttlMs` of the last computation (or during it) shares it. */
export function cached<T>(ttlMs: number, compute: () => Promise<T>): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    const now = Date.now();
    if (last && now - last.at < ttlMs) return last.value;
    const value = compute();
    const entry = { at: now, value };
    last = entry;
    // Kept for ttlMs from when it settles, not from when it started.
    void value.then(
      () => { if (last === entry) entry.at = Date.now(); },
      () => { if (last === entry) entry.at = Date.now(); },
    );
    return value;
  };
}
