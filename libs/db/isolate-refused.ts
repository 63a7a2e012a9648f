import { isDataError, RefusedByDatabaseError } from './errors.js';

/** An item the database refused on its own, with the database's answer. */
export interface Refusal<T> {
  item: T;
  error: RefusedByDatabaseError;
}

/**
 * Applies items with `apply` and isolates those the database refuses. The first attempt is
 * the whole list, so a batch nobody refuses costs exactly what it did before. When an attempt
 * fails with a data error (see isDataError), the list is split in two halves, applied in
 * order, the first before the second, each split again while it fails, until the record that
 * fails alone is found; it is given back as refused, and everything else is applied. Any
 * other error (an outage, a deadlock, a bug) is thrown at once: the caller retries the whole
 * batch, as it would have without this. Parts applied before such an error stay applied, so
 * `apply` must be safe to repeat (the workers' facts are keyed by event id).
 *
 * A record that fails in one combination only (two records that are fine apart) is never
 * refused: both halves succeed. One refused record among n costs about 2·log2(n) attempts
 * and three times the work of the batch.
 */
export async function isolateRefused<T, R>(
  items: readonly T[],
  apply: (items: T[]) => Promise<R>,
  options: { onSplit?(error: unknown, size: number): void } = {},
): Promise<{ applied: R[]; refused: Refusal<T>[] }> {
  const applied: R[] = [];
  const refused: Refusal<T>[] = [];
  async function attempt(part: T[]): Promise<void> {
    if (part.length === 0) return;
    try {
      applied.push(await apply(part));
      return;
    } catch (err) {
      if (!isDataError(err)) throw err;
      if (part.length === 1) {
        refused.push({ item: part[0] as T, error: new RefusedByDatabaseError(err) });
        return;
      }
      options.onSplit?.(err, part.length);
    }
    const middle = Math.ceil(part.length / 2);
    await attempt(part.slice(0, middle));
    await attempt(part.slice(middle));
  }
  await attempt([...items]);
  return { applied, refused };
}
