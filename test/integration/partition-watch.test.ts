import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startIngestWorker } from '../support/workers.js';
import type { Kafka } from '../../libs/kafka/client.js';

/**
 * The partition watch (libs/kafka/batch-consumer.ts) reads the partitions' watermarks every few
 * seconds to tell a stalled partition. When it cannot complete (a broker that takes the request
 * and never answers it), the stall status it keeps is stale: readiness says so after the stall
 * threshold (2 s here), and stops saying so once a watch completes again.
 */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('partition_watch', { env: { PARTITION_STALL_SECONDS: '2' } });
}, 60_000);

afterAll(async () => {
  await env?.close();
});

/** The client, except that its admins' watermark reads wait while `held.on`. */
function holdingWatermarks(kafka: Kafka, held: { on: boolean }): Kafka {
  return new Proxy(kafka, {
    get(target, prop) {
      if (prop === 'admin') {
        return (...args: Parameters<Kafka['admin']>): ReturnType<Kafka['admin']> => {
          const admin = target.admin(...args);
          const fetchTopicOffsets = admin.fetchTopicOffsets.bind(admin);
          admin.fetchTopicOffsets = async (topic) => {
            while (held.on) await new Promise((resolve) => setTimeout(resolve, 100));
            return fetchTopicOffsets(topic);
          };
          return admin;
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

describe('a partition watch that cannot complete', () => {
  it('fails readiness after the stall threshold, and clears when a watch completes again', async () => {
    const held = { on: false };
    const ingest = await startIngestWorker(env, { kafka: holdingWatermarks(env.kafka, held) });
    try {
      await eventually(async () => (ingest.worker.member ? true : undefined), 30_000, 'the worker in its group');
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      expect(ingest.worker.partitionProblem()).toBeNull();
      held.on = true;
      const problem = await eventually(async () => ingest.worker.partitionProblem() ?? undefined, 20_000, 'the stale watch reported');
      expect(problem).toMatch(/^the partition watch has not completed for \d+ s$/);
      held.on = false;
      await eventually(async () => (ingest.worker.partitionProblem() === null ? true : undefined), 20_000, 'the watch completing again');
    } finally {
      held.on = false;
      await ingest.stop();
    }
  }, 90_000);
});
