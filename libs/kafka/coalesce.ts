import type { Batch } from './batch-consumer.js';

/**
 * Turns a handler of many batches into a handler of one. The batches handed over in the same
 * turn of the event loop are applied together and each caller gets the outcome of the call
 * that applied its batch: kafkajs hands all the batches of one fetch to its workers at once
 * (when partitionsConsumedConcurrently allows), so a fetch across many partitions and topics
 * costs `lanes` applications instead of one per partition. The batches are dealt into lanes of
 * about as many records each, and at most `lanes` are applied side by side, so that one lane's
 * work in this process overlaps another's in the database.
 *
 * When the consumer reads ahead, the next fetch's batches arrive while a lane is still being
 * applied. A lane that ends then does not wait for its sibling: it takes up to its share of
 * what waits (half, with two lanes, and at least `minLaneRecords`), largest partitions first,
 * but never a partition the sibling is applying. Batches of one partition are never applied
 * side by side: they hold the same subjects (clicks are keyed by link), so the second would
 * only wait for the first's locks.
 *
 * A failure fails every batch of its lane; each then retries on its own schedule (gathering
 * again with any that retry in the same turn). A batch that went stale meanwhile (revoked) is
 * left out.
 */
export function coalesceBatches(handleMany: (batches: Batch[]) => Promise<void>, options: { lanes?: number; minLaneRecords?: number } = {}): (batch: Batch) => Promise<void> {
  const lanes = Math.max(1, options.lanes ?? 1);
  const minLaneRecords = options.minLaneRecords ?? 1_000;
  interface Waiting {
    batch: Batch;
    key: string;
    resolve(): void;
    reject(err: unknown): void;
  }
  let waiting: Waiting[] = [];
  /** The partitions of the lanes being applied. */
  const busy = new Set<string>();
  let active = 0;

  function start(lane: Waiting[]): void {
    active++;
    const keys = new Set(lane.map((w) => w.key));
    for (const key of keys) busy.add(key);
    const fresh: Waiting[] = [];
    // A batch that went stale while it waited is applied by none: its caller, seeing it stale, commits nothing.
    for (const w of lane) if (w.batch.isStale()) w.resolve(); else fresh.push(w);
    const applied = fresh.length > 0 ? handleMany(fresh.map((w) => w.batch)) : Promise.resolve();
    applied.then(
      () => fresh.forEach((w) => w.resolve()),
      (err: unknown) => fresh.forEach((w) => w.reject(err)),
    ).finally(() => {
      active--;
      for (const key of keys) busy.delete(key);
      schedule();
    });
  }

  /** Starts lanes while places are free and batches of partitions no lane is applying wait. */
  function schedule(): void {
    while (active < lanes) {
      // Each waiting partition whole (a fetch read ahead can hold two of its batches), in the order handed over.
      const groups = new Map<string, Waiting[]>();
      let total = 0;
      for (const w of waiting) {
        total += w.batch.messages.length;
        if (busy.has(w.key)) continue;
        const group = groups.get(w.key) ?? [];
        group.push(w);
        groups.set(w.key, group);
      }
      if (groups.size === 0) return;
      const sized = [...groups.values()].map((ws) => ({ ws, messages: { length: ws.reduce((n, w) => n + w.batch.messages.length, 0) } }));
      const dealt =
        active === 0
          ? dealIntoLanes(sized, lanes)
          : [takeShare(sized, Math.max(minLaneRecords, Math.ceil(total / lanes)))];
      const taken = new Set<Waiting>();
      for (const lane of dealt) {
        const ws = new Set(lane.flatMap((g) => g.ws));
        if (ws.size === 0) continue;
        for (const w of ws) taken.add(w);
        start(waiting.filter((w) => ws.has(w)));
      }
      waiting = waiting.filter((w) => !taken.has(w));
    }
  }

  const arrive = perTurn(async (arrived: Waiting[]) => {
    for (const w of arrived) waiting.push(w);
    schedule();
  });
  return (batch) =>
    new Promise<void>((resolve, reject) => {
      void arrive({ batch, key: `${batch.topic}|${batch.partition}`, resolve, reject });
    });
}

/** The largest groups first until `share` records are taken (at least one group), in the order handed over. */
function takeShare<G extends { messages: { length: number } }>(groups: readonly G[], share: number): G[] {
  const bySize = groups.map((g, i) => ({ g, i })).sort((x, y) => y.g.messages.length - x.g.messages.length || x.i - y.i);
  const taken: { g: G; i: number }[] = [];
  let records = 0;
  for (const entry of bySize) {
    if (taken.length > 0 && records + entry.g.messages.length > share) continue;
    taken.push(entry);
    records += entry.g.messages.length;
  }
  return taken.sort((x, y) => x.i - y.i).map((e) => e.g);
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
export function dealIntoLanes<B extends { messages: { length: number } }>(batches: readonly B[], count: number): B[][] {
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
