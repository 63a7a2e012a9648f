import type { Queryable } from './queryable.js';
import { isDataError } from './errors.js';

/**
 * Runs `work` inside a savepoint of the open transaction `tx`: when it fails with a data error
 * (see isDataError), its statements are undone and the transaction goes on, its locks and
 * earlier work kept; the error is thrown on. Any other error leaves the transaction as it is,
 * aborted, for the caller to roll back. Savepoints may nest.
 */
export async function withSavepoint<R>(tx: Queryable, work: () => Promise<R>): Promise<R> {
  await tx.query('savepoint isolate');
  let result: R;
  try {
    result = await work();
  } catch (err) {
    if (isDataError(err)) {
      await tx.query('rollback to savepoint isolate');
      await tx.query('release savepoint isolate');
    }
    throw err;
  }
  await tx.query('release savepoint isolate');
  return result;
}
