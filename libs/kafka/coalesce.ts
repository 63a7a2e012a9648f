import type { Batch } from './batch-consumer.js';

/**
 * Turns a handler of many batches into a handler of one. The batches handed over in the same
 * turn of the event loop are applied together and each caller gets the outcome of the call
 * that applied its batch: kafkajs hands all the batches of one fetch to its workers at once
 * (when partitionsConsumedConcurrently allows), so a fetch across many partitions and topics
 * costs `lanes` applications instead of one per partition. The batches are dealt into lanes by
 * partition number (a partition always to the same lane), and the lanes are applied side by
 * side, so that one lane's work in this process overlaps another's in the database. A failure
 * fails every batch of its lane; each then retries on its own schedule (gathering again with
 * any that retry in the same turn). A batch that went stale meanwhile (revoked) is left out.
 */
export function coalesceBatches(handleMany: (batches: Batch[]) => Promise<void>, options: { lanes?: number } = {}): (batch: Batch) => Promise<void> {
  const lanes = Math.max(1, options.lanes ?? 1);
  let gathering: { batches: Batch[]; applied: Promise<Promise<void>[]> } | undefined;
  return async (batch) => {
    if (!gathering) {
      const group: { batches: Batch[]; applied: Promise<Promise<void>[]> } = { batches: [], applied: Promise.resolve([]) };
      group.applied = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (gathering === group) gathering = undefined;
        return Array.from({ length: lanes }, (_, lane) => {
          const live = group.batches.filter((b) => b.partition % lanes === lane && !b.isStale());
          return live.length > 0 ? handleMany(live) : Promise.resolve();
        });
      });
      gathering = group;
    }
    gathering.batches.push(batch);
    const applied = await gathering.applied;
    return applied[batch.partition % lanes];
  };
}
