import type { Batch } from './batch-consumer.js';

/**
 * The fewest records the workers give a lane of their own (coalesceBatches' `minLaneRecords`).
 * A lane's transaction costs the worker and Postgres about 10 ms whatever it holds, plus 60–90 µs
 * a record (bench/lane-statements.ts); a second lane saves at most the overlap of about half the
 * fetch's per-record work, so it pays from about a thousand records a fetch. Part 2 of the bench
 * (1M-click database) with one lane below that: the machine's CPU at 1,000 and 4,000 events/s
 * 15–18% lower, Postgres' 27–30% (README, "One lane for a small fetch").
 */
export const MIN_LANE_RECORDS = 500;

/**
 * Turns a handler of many batches into a handler of one. The batches handed over in the same
 * turn of the event loop are applied together and each caller gets the outcome of the call
 * that applied its batch: kafkajs hands all the batches of one fetch to its workers at once
 * (when partitionsConsumedConcurrently allows), so a fetch across many partitions and topics
 * costs `lanes` applications instead of one per partition. The batches are dealt into lanes of
 * about as many records each, and the lanes are applied side by side, so that one lane's work
 * in this process overlaps another's in the database. A failure
 * fails every batch of its lane; each then retries on its own schedule (gathering again with
 * any that retry in the same turn). A batch that went stale meanwhile (revoked) is left out.
 *
 * A lane costs a transaction whatever it carries, so a fetch is dealt into no more lanes than
 * give each at least `minLaneRecords` records: at a steady rate, where fetches are small, one
 * transaction instead of two small ones halves that fixed cost; catching up, fetches are large
 * and use every lane.
 */
export function coalesceBatches(handleMany: (batches: Batch[]) => Promise<void>, options: { lanes?: number; minLaneRecords?: number } = {}): (batch: Batch) => Promise<void> {
  const lanes = Math.max(1, options.lanes ?? 1);
  const minLaneRecords = Math.max(1, options.minLaneRecords ?? 1);
  // Each turn's batches, once dealt, with the outcome of each batch's lane (not awaited here).
  const gathered = perTurn(async (batches: Batch[]) => {
    const outcomes = new Map<Batch, Promise<void>>();
    const live = batches.filter((b) => !b.isStale());
    const records = live.reduce((n, b) => n + b.messages.length, 0);
    for (const lane of dealIntoLanes(live, Math.max(1, Math.min(lanes, Math.floor(records / minLaneRecords))))) {
      if (lane.length === 0) continue;
      const applied = handleMany(lane);
      for (const b of lane) outcomes.set(b, applied);
    }
    return outcomes;
  });
  return async (batch) => {
    const outcomes = await gathered(batch);
    // A batch that went stale before the lanes were dealt was applied by none: nothing to wait for.
    return outcomes.get(batch);
  };
}

/**
 * Turns `run` over many items into a call per item: the items handed over in the same turn of
 * the event loop go to one `run`, once the turn is over, and each caller gets its outcome.
 * (The batches of a fetch, and the offset commits of the batches a lane ends together.)
 */
export function perTurn<T, R>(run: (items: T[]) => Promise<R>): (item: T) => Promise<R> {
  let gathering: { items: T[]; outcome: Promise<R> } | undefined;
  return (item) => {
    if (!gathering) {
      const items: T[] = [];
      const outcome = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (gathering?.items === items) gathering = undefined;
        return run(items);
      });
      gathering = { items, outcome };
    }
    gathering.items.push(item);
    return gathering.outcome;
  };
}

/**
 * Deals batches into `count` lanes of about as many records each: the largest batch first,
 * each to the lane with the fewest records so far; within a lane, in the order handed over. A
 * fetch's partitions differ in size many times over: dealt by partition number, one lane
 * applied 18,299 records while the other, done with 4,744, waited for it. Which lane applies
 * a batch does not change the outcome (see the handler's contract), only how the work overlaps.
 */
export function dealIntoLanes<B extends { messages: readonly unknown[] }>(batches: readonly B[], count: number): B[][] {
  const lanes: { i: number; b: B }[][] = Array.from({ length: count }, () => []);
  const sizes = new Array<number>(count).fill(0);
  const bySize = batches.map((b, i) => ({ i, b })).sort((x, y) => y.b.messages.length - x.b.messages.length || x.i - y.i);
  for (const entry of bySize) {
    let lane = 0;
    for (let l = 1; l < count; l++) if ((sizes[l] as number) < (sizes[lane] as number)) lane = l;
    (lanes[lane] as { i: number; b: B }[]).push(entry);
    sizes[lane] = (sizes[lane] as number) + entry.b.messages.length;
  }
  return lanes.map((lane) => lane.sort((x, y) => x.i - y.i).map((e) => e.b));
}
