import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { errorChain } from '../../libs/kafka/client.js';

/** An error with the HTTP status and machine-readable code it is answered with. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const badParameter = (name: string, problem: string) => new ApiError(400, 'invalid_parameter', `${name}: ${problem}`);

/** Names the parameter an Ajv validation error is about: "from", "visitor.platform", "limit". */
function parameterOf(err: FastifyError): string {
  const first = err.validation?.[0];
  if (!first) return 'request';
  const path = first.instancePath.replace(/^\//, '').replace(/\//g, '.');
  const missing = (first.params as { missingProperty?: string; additionalProperty?: string }).missingProperty ?? (first.params as { additionalProperty?: string }).additionalProperty;
  return [path, missing].filter(Boolean).join('.') || (err.validationContext ?? 'request');
}

/** For a value outside an enumeration (a union of literals), the values it could have been. */
function allowedValues(err: FastifyError): string | null {
  const first = err.validation?.[0];
  if (!first || first.keyword !== 'const') return null;
  const values = (err.validation ?? []).filter((e) => e.keyword === 'const' && e.instancePath === first.instancePath).map((e) => String((e.params as { allowedValue?: unknown }).allowedValue));
  return `must be one of ${values.join(', ')}`;
}

/** Errors of a dependency that is down or overloaded (Postgres, connection pool): worth a retry. */
const UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006']);

/** A network failure as the registry client words it (it answers those as a status 400). */
const NETWORK_FAILURE = /ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|socket hang up|Timeout \(\d+ms\)/;

/**
 * Whether an error, or any error it was caused by, is a dependency's that a retry may get past:
 * Postgres or the pool unreachable or gone (codes above, pg's own messages, its client-side
 * query timeout); the Kafka client's errors it deems retriable (a connection refused or closed,
 * a request timed out, a leader moving) or its retries spent on them; the schema registry
 * answering 5xx, 408 or 429, or not reachable at all. A registry's 4xx (a schema it refuses)
 * or a broker's refusal that no retry changes (a record too large, no authorization) stays an
 * error of ours: a 500, logged as one.
 */
export function isUnavailable(err: unknown): boolean {
  return errorChain(err).some((e) => {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNAVAILABLE.has(code)) return true;
    if (/timeout exceeded when trying to connect|Connection terminated|Query read timeout|is not queryable/i.test(e.message)) return true;
    if (e.name === 'KafkaJSNumberOfRetriesExceeded') return true;
    if (e.name.startsWith('KafkaJS')) return (e as { retriable?: boolean }).retriable === true;
    if (e.name === 'ResponseError') {
      const status = (e as { status?: number }).status ?? 0;
      return status >= 500 || status === 408 || status === 429 || status === 0 || (status === 400 && NETWORK_FAILURE.test(e.message));
    }
    return false;
  });
}

/** Every error leaves as {error: {code, message}}; a 5xx never carries internals. */
export function errorHandler(err: FastifyError | ApiError, request: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof ApiError) {
    void reply.status(err.status).send({ error: { code: err.code, message: err.message } });
    return;
  }
  if (err.validation) {
    const name = parameterOf(err);
    void reply.status(400).send({ error: { code: 'invalid_parameter', message: `${name}: ${allowedValues(err) ?? err.validation[0]?.message ?? 'is invalid'}` } });
    return;
  }
  if ((err as { code?: unknown }).code === '57014') {
    // statement_timeout: this request asked for more than a request may cost.
    request.log.warn({ err }, 'a query ran past the statement timeout');
    void reply.status(503).header('retry-after', '5').send({ error: { code: 'unavailable', message: 'the query took too long; retry shortly or ask for a shorter range' } });
    return;
  }
  if (isUnavailable(err)) {
    request.log.warn({ err }, 'a dependency is unavailable');
    void reply.status(503).header('retry-after', '5').send({ error: { code: 'unavailable', message: 'a dependency of this service is unavailable; retry shortly' } });
    return;
  }
  const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
  if (status === 500) {
    request.log.error({ err }, 'request failed');
    void reply.status(500).send({ error: { code: 'internal', message: 'internal error; the request id identifies it in the logs' } });
    return;
  }
  void reply.status(status).send({ error: { code: err.code?.toLowerCase().replace(/^fst_err_/, '') ?? 'bad_request', message: err.message } });
}
