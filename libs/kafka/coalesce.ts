import type { Batch } from './batch-consumer.js';

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
 */
export function coalesceBatches(handleMany: (batches: Batch[]) => Promise<void>, options: { lanes?: number } = {}): (batch: Batch) => Promise<void> {
  const lanes = Math.max(1, options.lanes ?? 1);
  return coalesceFetch((batches) => {
    const outcomes = new Map<Batch, Promise<void>>();
    for (const lane of dealIntoLanes(batches, lanes)) {
      if (lane.length === 0) continue;
      const applied = handleMany(lane);
      for (const b of lane) outcomes.set(b, applied);
    }
    return outcomes;
  });
}

/**
 * Turns a handler of a whole fetch into a handler of one batch: the batches handed over in the
 * same turn of the event loop (all of a fetch's, see coalesceBatches), less those gone stale,
 * go to `handleFetch`, which says when each is done (its promise per batch, not awaited here);
 * each caller gets its own batch's outcome. A batch that went stale before that was applied by
 * none: it resolves, and its caller, seeing it stale, commits nothing. A `handleFetch` that
 * fails before it says fails every batch.
 */
export function coalesceFetch(handleFetch: (batches: Batch[]) => Map<Batch, Promise<void>> | Promise<Map<Batch, Promise<void>>>): (batch: Batch) => Promise<void> {
  const gathered = perTurn(async (batches: Batch[]) => {
    const live = batches.filter((b) => !b.isStale());
    return live.length > 0 ? handleFetch(live) : new Map<Batch, Promise<void>>();
  });
  return async (batch) => (await gathered(batch)).get(batch);
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
      const group: { items: T[]; outcome: Promise<R> } = { items: [], outcome: Promise.resolve(undefined as R) };
      group.outcome = new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
        if (gathering === group) gathering = undefined;
        return run(group.items);
      });
      gathering = group;
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

/**
 * Deals items into `count` lanes so that items sharing a key share a lane: the items joined by
 * keys (directly or through others) form groups, dealt as dealIntoLanes deals batches, the
 * largest first, each to the lane with the fewest items so far; within a lane, items keep the
 * order they were given in. Lanes applied side by side then never wait for each other on what
 * the keys stand for (the ingest worker: the lock buckets of the subjects a record touches).
 * An item without keys is a group of its own.
 */
export function dealByConflicts<I>(items: readonly I[], keysOf: (item: I) => Iterable<string>, count: number): I[][] {
  // Union-find over item indexes; a key joins every item that has it with the first that had it.
  const parent = items.map((_, i) => i);
  const root = (i: number): number => {
    let r = i;
    while (parent[r] !== r) r = parent[r] as number;
    while (parent[i] !== r) [parent[i], i] = [r, parent[i] as number];
    return r;
  };
  const firstWith = new Map<string, number>();
  items.forEach((item, i) => {
    for (const key of keysOf(item)) {
      const other = firstWith.get(key);
      if (other === undefined) firstWith.set(key, i);
      else {
        const a = root(i);
        const b = root(other);
        if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
      }
    }
  });
  const groups = new Map<number, number[]>();
  items.forEach((_, i) => {
    const r = root(i);
    const group = groups.get(r);
    if (group) group.push(i);
    else groups.set(r, [i]);
  });
  return dealIntoLanes([...groups.values()].map((messages) => ({ messages })), count).map((lane) =>
    lane.flatMap((g) => g.messages).sort((x, y) => x - y).map((i) => items[i] as I),
  );
}
