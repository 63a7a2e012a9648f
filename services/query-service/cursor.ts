import { badParameter } from './errors.js';
import { CALENDAR } from './schemas.js';

/**
 * Keyset cursors: the sort key of the last row of a page (registration time and referral id),
 * base64url-encoded JSON. Opaque to clients; a tampered cursor is a 400 naming `cursor`.
 */
export interface RecruitCursor {
  registeredAt: string;
  referralId: string;
}

export function encodeCursor(c: RecruitCursor): string {
  return Buffer.from(JSON.stringify([c.registeredAt, c.referralId])).toString('base64url');
}

/**
 * Exactly the instants this service writes (toISOString): Date.parse would take 2026-02-30 as
 * 2 March, and Postgres refuses it, so only a string that survives the round trip is one. Its
 * day lies in the calendar the routes answer for: Postgres refuses year 0 and the signed years
 * toISOString writes beyond 9999.
 */
function isInstant(text: string): boolean {
  const ms = Date.parse(text);
  return !Number.isNaN(ms) && new Date(ms).toISOString() === text && /^\d{4}-/.test(text) && text.slice(0, 10) >= CALENDAR.firstDay;
}

/** The cursor of a page of organizations: the last organization id of the previous page. */
export const encodeOrgCursor = (orgId: string): string => Buffer.from(JSON.stringify(['org', orgId])).toString('base64url');

export function decodeOrgCursor(cursor: string | undefined): string | null {
  if (cursor === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && value[0] === 'org' && typeof value[1] === 'string' && value[1] !== '' && !value[1].includes('\u0000')) return value[1];
  } catch {
    // fall through
  }
  throw badParameter('cursor', 'is not a cursor this service issued');
}

export function decodeCursor(cursor: string | undefined): RecruitCursor | null {
  if (cursor === undefined) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && !value[1].includes('\u0000') && isInstant(value[0])) {
      return { registeredAt: value[0], referralId: value[1] };
    }
  } catch {
    // fall through
  }
  throw badParameter('cursor', 'is not a cursor this service issued');
}
