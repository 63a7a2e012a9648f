import type { Batch } from './batch-consumer.js';

/**
 * Turns a handler of many batches into a handler of one. The batches handed over in the same
 * turn of the event loop are applied together, in one call, and each caller gets that call's
 * outcome: kafkajs hands all the batches of one fetch to its workers at once (when
 * partitionsConsumedConcurrently allows), so a fetch across many partitions and topics costs
 * one application instead of one per partition. A failure fails every batch of the group;
 * each then retries on its own schedule (gathering again with any that retry in the same
 * turn). A batch that went stale meanwhile (revoked) is left out.
 */
export function coalesceBatches(handleMany: (batches: Batch[]) => Promise<void>): (batch: Batch) => Promise<void> {
  let gathering: { batches: Batch[]; applied: Promise<void> } | undefined;
  return (batch) => {
    if (!gathering) {
      const group: { batches: Batch[]; applied: Promise<void> } = { batches: [], applied: Promise.resolve() };
      group.applied = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (gathering === group) gathering = undefined;
        const live = group.batches.filter((b) => !b.isStale());
        return live.length > 0 ? handleMany(live) : undefined;
      });
      gathering = group;
    }
    gathering.batches.push(batch);
    return gathering.applied;
  };
}
