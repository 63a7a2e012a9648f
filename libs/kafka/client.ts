import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from '../log/logger.js';

/** The client types the rest of the project needs: kafkajs is imported here and in libs/kafka only. */
export type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const CLIENT_LOG_LEVELS: Record<'error' | 'warn' | 'info' | 'debug', logLevel> = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

/** A kafkajs client whose own logs go through pino. Nothing connects until used. */
export function createKafka(options: { brokers: string[]; clientId: string; log: Logger; clientLogLevel?: 'error' | 'warn' | 'info' | 'debug' }): Kafka {
  const kafkaLog = options.log.child({ component: 'kafkajs' });
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: 3000,
    requestTimeout: 30000,
    // kafkajs retries internally before an error reaches our code; we add our own backoff
    // around whole batches, so keep its retries short.
    retry: { initialRetryTime: 200, retries: 5, maxRetryTime: 5000 },
    // KAFKAJS_LOG_LEVEL=info|debug shows the client's own group and fetch decisions (debug logs every request).
    logLevel: CLIENT_LOG_LEVELS[options.clientLogLevel ?? 'warn'],
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...extra } = log;
        kafkaLog[LEVELS[level] ?? 'info'](extra, message);
      },
  });
}
