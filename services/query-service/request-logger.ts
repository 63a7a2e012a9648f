import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, LogFn } from 'pino';

type Method = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const METHODS: readonly Method[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * A request's logger (Fastify's childLoggerFactory), made when the request first logs through
 * it. Fastify gives every request a pino child bound to its id, and a child serializes its
 * bindings and sets up redaction: a few percent of a cached answer's CPU, spent on every
 * request, though a request logs through it only when something goes wrong (its one line per
 * request is written by the app's logger with the id). What it logs is what the child would
 * log: the child is made then, with the same bindings and options.
 */
export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  let child: FastifyBaseLogger | undefined;
  const made = () => (child ??= logger.child(bindings, options));
  const lazy = {
    get level() {
      return child?.level ?? options.level ?? logger.level;
    },
    set level(level: string) {
      made().level = level;
    },
    child: (more: Bindings, moreOptions?: ChildLoggerOptions) => made().child(more, moreOptions),
  } as FastifyBaseLogger;
  for (const method of METHODS) lazy[method] = ((...args: Parameters<LogFn>) => made()[method](...args)) as LogFn;
  return lazy;
}
