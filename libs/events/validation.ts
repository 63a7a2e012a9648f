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
