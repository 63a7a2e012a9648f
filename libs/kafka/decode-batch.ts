import type { KafkaMessage } from 'kafkajs';
import { PoisonRecordError, type EventCodec, type RecordOf, type RecordTopic } from '../events/codec.js';
import { nulField } from '../events/validation.js';
import { InvalidEventError, type DeadLetter } from './dead-letters.js';

/** A record batch the Kafka client could not read (a compression bomb, a lying length): set aside whole. */
export class UndecodableBatchError extends Error {
  override name = 'UndecodableBatchError';
}

/**
 * Why the Kafka client could not read the record batch this message stands for, if it is such
 * a message. The patched kafkajs (patches/kafkajs+2.2.4.patch, recordBatch/v0/decoder.js) turns
 * a batch it cannot read into one message at the batch's last offset, with the batch's bytes as
 * its value and the reason in `undecodable`, instead of failing the whole fetch at every restart.
 */
export function undecodableReason(message: KafkaMessage): string | null {
  const reason = (message as KafkaMessage & { undecodable?: unknown }).undecodable;
  return typeof reason === 'string' ? reason : null;
}

/**
 * The first offset a message accounts for: its own, or for a message standing for an unreadable
 * batch (undecodableReason), the batch's first, so that a consumer checking for a gap between its
 * position and a batch sees none.
 */
export function firstOffsetOf(message: KafkaMessage): string {
  return undecodableReason(message) === null ? message.offset : ((message as KafkaMessage & { batchContext?: { firstOffset?: string } }).batchContext?.firstOffset ?? message.offset);
}

/** The dead letter's error for a message undecodableReason names: the batch's offsets and the reason. */
function undecodableBatchError(message: KafkaMessage, reason: string): UndecodableBatchError {
  return new UndecodableBatchError(`the record batch at offsets ${firstOffsetOf(message)}..${message.offset} could not be read (${reason}); its bytes are this letter's value`);
}

/**
 * Decodes a batch and sorts it into records to apply and dead letters: bytes that never decode
 * (PoisonRecordError), record batches the client could not read (undecodableReason) and records
 * that break their contract. Besides the topic's own rule
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
    const unreadable = undecodableReason(message);
    if (unreadable !== null) {
      dead.push({ message, error: undecodableBatchError(message, unreadable) });
      continue;
    }
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
