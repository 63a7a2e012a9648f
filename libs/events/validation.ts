/**
 * The calendar every stored timestamp must lie in: 1970-01-01T00:00:00.000Z through
 * 9999-12-31T23:59:59.999Z: four-digit years, which Postgres `timestamptz` and a JS `Date`
 * both hold to the millisecond and write and read alike (ISO 8601 and SQL). No link expires
 * or is revoked before 1970. A time outside it is invalid input for the dead-letter topic,
 * never a value Postgres refuses and a batch retried forever.
 */
export const CALENDAR = { from: Date.UTC(1970, 0, 1), to: Date.UTC(10000, 0, 1) - 1 } as const;

/** Event times (when something happened) must lie after this and at most a day ahead of now. */
const MIN_EVENT_TIME = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = 24 * 3600 * 1000;

const isMillis = (value: number): boolean => Number.isSafeInteger(value);

/**
 * Field checks shared by every event, the ingest and aggregator workers and the webhook alike:
 * required ids are non-empty and at most 256 characters; `times` (when something happened:
 * occurredAt, createdAt, updatedAt) are integers between 2000-01-01 and a day from now;
 * `instants` (states that may lie far ahead: expiresAt, revokedAt) are integers within
 * CALENDAR. The answer names the first field that breaks its rule, or is null.
 */
export function check(
  fields: Record<string, string | null | undefined>,
  times: Record<string, number | null | undefined>,
  instants: Record<string, number | null | undefined> = {},
): string | null {
  // for...in, not Object.entries: this runs for every record, and entries allocates an array per field.
  for (const name in fields) {
    const value = fields[name];
    if (value !== undefined && value !== null && value.trim() === '') return `${name} is empty`;
    if (value !== undefined && value !== null && value.length > 256) return `${name} is longer than 256 characters`;
  }
  for (const name in times) {
    const value = times[name];
    if (value === undefined || value === null) continue;
    if (!isMillis(value) || value < MIN_EVENT_TIME || value > Date.now() + MAX_FUTURE_MS) return `${name} ${value} is not a plausible timestamp`;
  }
  for (const name in instants) {
    const value = instants[name];
    if (value === undefined || value === null) continue;
    if (!isMillis(value) || value < CALENDAR.from || value > CALENDAR.to) return `${name} ${value} is not a timestamp between 1970-01-01 and 9999-12-31 (UTC)`;
  }
  return null;
}

/**
 * The path of the first string anywhere in a record that holds a NUL character, or null.
 * Postgres text cannot store NUL, so such a record could never be written: it is invalid input
 * for the dead-letter topic, never a batch that fails forever.
 */
export function nulField(value: unknown): string | null {
  const at = nulAt(value);
  if (!at) return null;
  // The path is built only for a NUL found (nearly every record holds none), from the segments
  // nulAt gathered on its way back up, innermost first.
  let path = '';
  for (let i = at.length - 1; i >= 0; i--) {
    const step = at[i] as string | number;
    path += typeof step === 'number' ? `[${step}]` : path ? `.${step}` : step;
  }
  return path || 'value';
}

/** The segments (innermost first) leading to the first string holding a NUL, or null. */
function nulAt(value: unknown): (string | number)[] | null {
  if (typeof value === 'string') return value.includes('\u0000') ? [] : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const at = nulAt(value[i]);
      if (at) return (at.push(i), at);
    }
  } else if (value && typeof value === 'object') {
    // Own keys only, without for-in: a decoded Avro record is an instance of avsc's record
    // class, whose prototype's enumerable methods for-in would walk and skip on every record
    // (4x the time, 2% of the ingest worker's CPU at a steady rate).
    const keys = Object.keys(value);
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i] as string;
      const at = nulAt((value as Record<string, unknown>)[k]);
      if (at) return (at.push(k), at);
    }
  }
  return null;
}
