import type { Kafka, KafkaMessage } from '../../libs/kafka/client.js';
import { randomBytes } from 'node:crypto';

export type ConsumedMessage = KafkaMessage & { topic: string; partition: number };

/**
 * Reads a topic from the beginning with a throwaway consumer group until `count` messages have
 * arrived (or `timeoutMs` passes, which fails). Returns them in arrival order.
 */
export async function readTopic(kafka: Kafka, topic: string, count: number, timeoutMs = 60_000): Promise<ConsumedMessage[]> {
  const consumer = kafka.consumer({ groupId: `reader-${randomBytes(4).toString('hex')}`, maxWaitTimeInMs: 200 });
  const received: ConsumedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${received.length}/${count} messages from ${topic} in ${timeoutMs} ms`)), timeoutMs);
      if (count === 0) {
        clearTimeout(timer);
        resolve();
        return;
      }
      void consumer.run({
        eachMessage: async ({ topic: t, partition, message }) => {
          received.push({ ...message, topic: t, partition });
          if (received.length >= count) {
            clearTimeout(timer);
            resolve();
          }
        },
      });
    });
  } finally {
    await consumer.disconnect();
  }
  return received;
}
