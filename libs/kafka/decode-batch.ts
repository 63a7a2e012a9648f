import type { KafkaMessage } from 'kafkajs';
import { PoisonRecordError, type EventCodec, type RecordOf, type RecordTopic } from '../events/codec.js';
import { nulField } from '../events/validation.js';
import { InvalidEventError, type DeadLetter } from './dead-letters.js';

/**
 * Decodes a batch and sorts it into records to apply and dead letters: bytes that never decode
 * (PoisonRecordError) and records that break their contract. Besides the topic's own rule
 * (`validate`), no string may hold a NUL character, which Postgres cannot store. Any other
 * error (the registry unreachable) is thrown: the batch is transient and retried whole.
 */
export async function decodeBatch<T extends RecordTopic>(
  codec: EventCodec,
  topic: T,
  messages: KafkaMessage[],
  validate: (record: RecordOf<T>) => string | null,
): Promise<{ valid: { message: KafkaMessage; record: RecordOf<T> }[]; dead: DeadLetter[] }> {
  const valid: { message: KafkaMessage; record: RecordOf<T> }[] = [];
  const dead: DeadLetter[] = [];
  for (const message of messages) {
    try {
      // Without an await per message once the writer schema is known (nearly always).
      const record = codec.decodeSync(topic, message.value) ?? (await codec.decode(topic, message.value));
      const nul = nulField(record);
      const problem = nul ? `${nul} contains a NUL character` : validate(record);
      if (problem) dead.push({ message, error: new InvalidEventError(problem) });
      else valid.push({ message, record });
    } catch (err) {
      if (err instanceof PoisonRecordError) dead.push({ message, error: err });
      else throw err;
    }
  }
  return { valid, dead };
}
