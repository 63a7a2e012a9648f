import type { KafkaMessage } from 'kafkajs';
import type { Logger } from '../log/logger.js';
import type { EventProducer } from './event-producer.js';

export interface DeadLetter {
  message: KafkaMessage;
  error: Error;
}

/** A record that decoded but breaks a rule of its contract (SPEC §4, bad input). */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
}

/**
 * The most of a refused record's value (and key) a dead letter carries. A producer may write a
 * compressed batch whose record is larger than the broker's message.max.bytes (1 MiB by default)
 * once uncompressed; copied whole, uncompressed, with its headers, it would be refused by the
 * broker for good and its partition would stall. Past this, a dead letter holds the first bytes
 * and says how many there were (`dlq.value.bytes`); the whole record stays in its source topic at
 * the offset the headers name.
 */
export const DEAD_LETTER_MAX_BYTES = 256 * 1024;

const tooLong = (bytes: Buffer | null): bytes is Buffer => bytes !== null && bytes.length > DEAD_LETTER_MAX_BYTES;
const cut = (bytes: Buffer | null) => (tooLong(bytes) ? bytes.subarray(0, DEAD_LETTER_MAX_BYTES) : bytes);

/**
 * Publishes records that can never be applied to the dead-letter topic: the original key and
 * bytes (cut at DEAD_LETTER_MAX_BYTES), with headers naming where they came from and why they
 * were refused.
 */
export async function publishDeadLetters(
  producer: EventProducer,
  source: { topic: string; partition: number; log: Logger },
  dead: DeadLetter[],
): Promise<void> {
  if (dead.length === 0) return;
  await producer.sendRaw(
    'deadLetters',
    dead.map(({ message, error }) => ({
      key: cut(message.key),
      value: cut(message.value),
      headers: {
        'dlq.source.topic': source.topic,
        'dlq.source.partition': String(source.partition),
        'dlq.source.offset': message.offset,
        'dlq.error.class': error.name,
        'dlq.error.message': error.message.slice(0, 1000),
        ...(tooLong(message.value) ? { 'dlq.value.bytes': String(message.value.length) } : {}),
        ...(tooLong(message.key) ? { 'dlq.key.bytes': String(message.key.length) } : {}),
      },
    })),
  );
  for (const { message, error } of dead.slice(0, LOGGED_PER_BATCH)) source.log.warn({ offset: message.offset, errorClass: error.name, reason: error.message }, 'record sent to the dead-letter topic');
  if (dead.length > LOGGED_PER_BATCH) source.log.warn({ more: dead.length - LOGGED_PER_BATCH, lastOffset: dead.at(-1)?.message.offset }, 'more records of this batch sent to the dead-letter topic (each with its reason there)');
}

/**
 * Dead letters logged one by one per batch; the rest in one line. A compressed batch of 100,000
 * tiny records is a few kilobytes to write, and a log line for each was 100,000 lines.
 */
const LOGGED_PER_BATCH = 20;
