const MIN_TIME = Date.UTC(2000, 0, 1);
const MAX_FUTURE_MS = 24 * 3600 * 1000;

/** Field checks shared by every event: required ids are non-empty, times are plausible. */
export function check(fields: Record<string, string | null | undefined>, times: Record<string, number | null | undefined>): string | null {
  for (const [name, value] of Object.entries(fields)) {
    if (value !== undefined && value !== null && value.trim() === '') return `${name} is empty`;
    if (value !== undefined && value !== null && value.length > 256) return `${name} is longer than 256 characters`;
  }
  for (const [name, value] of Object.entries(times)) {
    if (value === undefined || value === null) continue;
    if (!Number.isFinite(value) || value < MIN_TIME || value > Date.now() + MAX_FUTURE_MS) return `${name} ${value} is not a plausible timestamp`;
  }
  return null;
}

/**
 * The path of the first string anywhere in a record that holds a NUL character, or null.
 * Postgres text cannot store NUL, so such a record could never be written: it is invalid input
 * for the dead-letter topic, never a batch that fails forever.
 */
export function nulField(value: unknown, path = ''): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path || 'value' : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulField(value[i], `${path}[${i}]`);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const found = nulField(v, path ? `${path}.${k}` : k);
      if (found) return found;
    }
  }
  return null;
}
