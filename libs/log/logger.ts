import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * The one root logger of a process. Children add bindings such as { topic, partition } or
 * { requestId }. Secrets and network addresses are redacted wherever they appear.
 */
export function createLogger(options: { level: string; name: string }): Logger {
  return pino({
    name: options.name,
    level: options.level,
    base: { service: options.name },
    redact: {
      paths: [
        'ip', '*.ip', '*.*.ip',
        'token', '*.token',
        'authorization', '*.authorization', 'headers.authorization', 'req.headers.authorization',
        'password', '*.password',
        'secret', '*.secret',
      ],
      censor: '[redacted]',
    },
  });
}
