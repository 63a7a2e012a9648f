/**
 * What a failure from Postgres means for the batch that met it, decided here once for every
 * worker: a value the database refuses (isDataError) fails the same way however often it is
 * retried, so the record is isolated and dead-lettered; an outage or a lost race (isTransient)
 * passes, so the whole batch pauses and is retried. Anything else (a bug: an unknown column,
 * a syntax error) is retried as well, never dead-lettered: nothing is dropped on a guess.
 */

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Class 23 codes that a row's own values cause. The others of the class (unique, foreign key,
 * exclusion, restrict) depend on rows other transactions write: a race, retried.
 */
const VALUE_INTEGRITY = new Set(['23502', '23514']); // not_null_violation, check_violation

/** SQLSTATE classes and codes of failures that pass on their own. */
const TRANSIENT_CLASSES = new Set(['08', '53']); // connection exception, insufficient resources
const TRANSIENT_CODES = new Set([
  '40001', // serialization_failure
  '40P01', // deadlock_detected
  '40003', // statement_completion_unknown
  '55P03', // lock_not_available
  '57014', // query_canceled (a statement timeout)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, in recovery)
  '57P05', // idle_session_timeout
]);

/** Node's socket errors on the way to a server. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/** What pg says when a connection is lost or cannot be had (these errors carry no code). */
const CONNECTION_MESSAGE = /Connection terminated|connection error|not queryable|timeout exceeded when trying to connect|Connection refused/i;

type Coded = { code?: unknown; severity?: unknown; message?: unknown; cause?: unknown };

/** The error and its causes, outermost first. */
function chain(err: unknown): Coded[] {
  const found: Coded[] = [];
  for (let e = err; e && typeof e === 'object' && found.length < 10; e = (e as Coded).cause) found.push(e as Coded);
  return found;
}

/**
 * The SQLSTATE of a Postgres error (the error itself or one of its causes), or null when the
 * server did not answer with one. A server error carries a severity as well, which tells it
 * apart from a socket error with a five-letter code (EPIPE).
 */
export function sqlState(err: unknown): string | null {
  for (const e of chain(err)) {
    if (typeof e.code === 'string' && SQLSTATE.test(e.code) && typeof e.severity === 'string') return e.code;
  }
  return null;
}

/**
 * True when Postgres refused a value: class 22 (data exception: a malformed or out-of-range
 * value), class 23 for a value (not null, check), class 54 (program limit exceeded: an index
 * row too large, a statement too complex). Retrying the same records fails the same way.
 */
export function isDataError(err: unknown): boolean {
  const code = sqlState(err);
  if (code === null) return false;
  return code.startsWith('22') || code.startsWith('54') || VALUE_INTEGRITY.has(code);
}

/**
 * True when the failure is the dependency's, not the records': the connection is lost or
 * refused (class 08, a socket error), the server is short of resources (class 53), shutting
 * down or starting (57P01-57P03), or the transaction lost a race (serialization failure,
 * deadlock, a lock not available, a statement timeout). The batch is retried whole.
 */
export function isTransient(err: unknown): boolean {
  const code = sqlState(err);
  if (code !== null) return TRANSIENT_CLASSES.has(code.slice(0, 2)) || TRANSIENT_CODES.has(code);
  return chain(err).some((e) => (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) || (typeof e.message === 'string' && CONNECTION_MESSAGE.test(e.message)));
}

/**
 * A record the database refused (see isDataError): its class names it on the dead-letter
 * topic, its message is the database's, with the SQLSTATE.
 */
export class RefusedByDatabaseError extends Error {
  override name = 'RefusedByDatabaseError';
  /** The SQLSTATE Postgres answered with. */
  readonly sqlState: string;
  constructor(cause: unknown) {
    const code = sqlState(cause) ?? 'unknown';
    super(`${cause instanceof Error ? cause.message : String(cause)} (SQLSTATE ${code})`, { cause });
    this.sqlState = code;
  }
}
