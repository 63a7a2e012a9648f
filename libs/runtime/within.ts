export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/** Settles like `work`, or rejects with a TimeoutError after `ms`; the timer never outlives the answer. */
export async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimeoutError(`no answer in ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
