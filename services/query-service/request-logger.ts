import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/** A request's lazy logger: what its child is made from, and the child once made. */
interface Lazy {
  parent: FastifyBaseLogger;
  bindings: Bindings;
  options: ChildLoggerOptions;
  made?: FastifyBaseLogger;
}

const made = (lazy: Lazy): FastifyBaseLogger => (lazy.made ??= lazy.parent.child(lazy.bindings, lazy.options));

const LEVEL_METHODS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * What every lazy logger shares (one prototype, so a request costs one small object): each
 * level method makes the child and logs through it; `level` reads the child's, or the level it
 * would have, without making it.
 */
const PROTOTYPE: object = Object.defineProperties(
  {},
  {
    level: {
      get(this: Lazy) {
        return this.made?.level ?? this.options.level ?? this.parent.level;
      },
      set(this: Lazy, level: string) {
        made(this).level = level;
      },
    },
    child: {
      value(this: Lazy, bindings: Bindings, options?: ChildLoggerOptions) {
        return made(this).child(bindings, options);
      },
    },
    ...Object.fromEntries(LEVEL_METHODS.map((method) => [method, {
      value(this: Lazy, ...args: unknown[]) {
        (made(this)[method] as (...a: unknown[]) => void)(...args);
      },
    }])),
  },
);

/**
 * A request's logger (Fastify's childLoggerFactory), made when the request first logs through
 * it. Fastify gives every request a pino child bound to its id, and a child serializes its
 * bindings and sets up redaction: a few percent of a cached answer's CPU, spent on every
 * request, though a request logs through it only when something goes wrong (its one line per
 * request is written by the app's logger with the id). What it logs is what the child would
 * log: the child is made then, with the same bindings and options.
 */
export function lazyChildLogger(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
  const lazy: Lazy = Object.create(PROTOTYPE) as Lazy;
  lazy.parent = parent;
  lazy.bindings = bindings;
  lazy.options = options;
  return lazy as unknown as FastifyBaseLogger;
}
