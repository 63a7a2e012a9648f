import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/**
 * A request's logger (Fastify's childLoggerFactory), made when the request first logs through
 * it. Fastify gives every request a pino child bound to its id, and a child serializes its
 * bindings and sets up redaction: a few percent of a cached answer's CPU, spent on every
 * request, though a request logs through it only when something goes wrong (its one line per
 * request is written by the app's logger with the id). What it logs is what the child would
 * log: the child is made then, with the same bindings and options. A class, so that a request
 * costs one small object, not a closure per method.
 */
class LazyChildLogger {
  #child: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  #made(): FastifyBaseLogger {
    return (this.#child ??= this.parent.child(this.bindings, this.options));
  }

  get level(): string {
    return this.#child?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.#made().level = level;
  }

  fatal(...args: unknown[]) {
    (this.#made().fatal as (...a: unknown[]) => void)(...args);
  }

  error(...args: unknown[]) {
    (this.#made().error as (...a: unknown[]) => void)(...args);
  }

  warn(...args: unknown[]) {
    (this.#made().warn as (...a: unknown[]) => void)(...args);
  }

  info(...args: unknown[]) {
    (this.#made().info as (...a: unknown[]) => void)(...args);
  }

  debug(...args: unknown[]) {
    (this.#made().debug as (...a: unknown[]) => void)(...args);
  }

  trace(...args: unknown[]) {
    (this.#made().trace as (...a: unknown[]) => void)(...args);
  }

  silent(...args: unknown[]) {
    (this.#made().silent as (...a: unknown[]) => void)(...args);
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#made().child(bindings, options);
  }
}

export function lazyChildLogger(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  return new LazyChildLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
}
