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
 * Publishes records that can never be applied to the dead-letter topic: the original key and
 * bytes, with headers naming where they came from and why they were refused.
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
      key: message.key,
      value: message.value,
      headers: {
        'dlq.source.topic': source.topic,
        'dlq.source.partition': String(source.partition),
        'dlq.source.offset': message.offset,
        'dlq.error.class': error.name,
        'dlq.error.message': error.message.slice(0, 1000),
      },
    })),
  );
  for (const { message, error } of dead) source.log.warn({ offset: message.offset, errorClass: error.name, reason: error.message }, 'record sent to the dead-letter topic');
}
