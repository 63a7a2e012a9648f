import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type Admin, type LogEntry, type SASLOptions } from 'kafkajs';
import type { KafkaSecurityConfig } from '../config/config.js';
import type { Logger } from '../log/logger.js';
import { registerCompressionCodecs } from './compression.js';

/** The client types the rest of the project needs: kafkajs is imported here and in libs/kafka only. */
export type { Admin, Consumer, Kafka, KafkaMessage } from 'kafkajs';
/** Batch compression, for a producer that must write what upstream producers may (tests, tools). */
export { CompressionTypes } from 'kafkajs';

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

const CLIENT_LOG_LEVELS: Record<'error' | 'warn' | 'info' | 'debug', logLevel> = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO, debug: logLevel.DEBUG };

/**
 * The kafkajs TLS and SASL options of the configured security (KAFKA_SSL, KAFKA_SASL_*): TLS
 * verifies the broker's certificate and host name, against the system's CAs or only the CA file's.
 */
export function kafkaSecurity(security: KafkaSecurityConfig): { ssl?: ConnectionOptions | true; sasl?: SASLOptions } {
  const ssl = security.ssl === false ? undefined : security.ssl === true ? true : { ca: [security.ssl.ca], rejectUnauthorized: true };
  const sasl = security.sasl && { mechanism: security.sasl.mechanism, username: security.sasl.username, password: security.sasl.password };
  return { ...(ssl ? { ssl } : {}), ...(sasl ? { sasl } : {}) };
}

/**
 * A kafkajs client whose own logs go through pino, with the configured TLS and SASL (pass
 * `config.kafka`: every client the project creates comes from here). Nothing connects until used.
 */
export function createKafka(options: { brokers: string[]; clientId: string; log: Logger; security: KafkaSecurityConfig; clientLogLevel?: 'error' | 'warn' | 'info' | 'debug' }): Kafka {
  const kafkaLog = options.log.child({ component: 'kafkajs' });
  // Batches a producer compressed with Snappy, LZ4 or ZSTD are read like gzip's (compression.ts).
  registerCompressionCodecs();
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    ...kafkaSecurity(options.security),
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

/**
 * An error and its causes, outermost first. kafkajs wraps protocol errors in retry errors
 * (KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded) that hide their `type`.
 */
export function errorChain(err: unknown): (Error & { type?: string })[] {
  const chain: (Error & { type?: string })[] = [];
  // A cause that leads back to an error already seen ends the chain.
  for (let e = err; e instanceof Error && !chain.includes(e); e = e.cause) chain.push(e);
  return chain;
}

/**
 * An admin client that is connected on first use and replaced after any failure: kafkajs keeps
 * cached metadata (for minutes), so after a broker dies an old client keeps asking it. For
 * periodic questions (readiness, offset checks, partition counts, test polling).
 */
export function reconnectingAdmin(kafka: Kafka, options: { retries?: number } = {}) {
  let admin: Admin | undefined;
  return {
    async use<T>(f: (admin: Admin) => Promise<T>): Promise<T> {
      if (!admin) {
        const fresh = kafka.admin(options.retries === undefined ? {} : { retry: { retries: options.retries } });
        await fresh.connect();
        admin = fresh;
      }
      try {
        return await f(admin);
      } catch (err) {
        await admin.disconnect().catch(() => undefined);
        admin = undefined;
        throw err;
      }
    },
    async close(): Promise<void> {
      await admin?.disconnect().catch(() => undefined);
      admin = undefined;
    },
  };
}

export type ReconnectingAdmin = ReturnType<typeof reconnectingAdmin>;
