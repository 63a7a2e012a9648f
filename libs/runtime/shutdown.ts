import type { Logger } from '../log/logger.js';

/**
 * The shutdown order of a service: the first SIGTERM/SIGINT runs `close` (stop fetching, finish
 * the batch in flight, commit, close connections); a second signal or the timeout forces exit.
 */
export function onShutdown(log: Logger, close: () => Promise<void>, timeoutMs = 30_000): void {
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      log.error({ timeoutMs }, 'shutdown timed out: exiting');
      process.exit(1);
    }, timeoutMs);
    timer.unref();
    close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
