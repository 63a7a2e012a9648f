import type { Batch } from './batch-consumer.js';

/**
 * The fewest records the workers give a lane of their own (coalesceBatches' `minLaneRecords`).
 * A lane's transaction costs the worker and Postgres about 10 ms whatever it holds, plus 60–90 µs
 * a record (bench/lane-statements.ts); a second lane saves at most the overlap of about half the
 * fetch's per-record work, so it pays from about a thousand records a fetch. Part 2 of the bench
 * (1M-click database) with one lane below that: the machine's CPU at 1,000 and 4,000 events/s
 * 15–18% lower, Postgres' 27–30% (docs/performance-journal.md, "One lane for a small fetch").
 */
export const MIN_LANE_RECORDS = 500;

/**
 * How many parts of a catch-up's fetch the ingest worker applies side by side (coalesceBatches'
 * `catchUpLanes`; a fetch of at most two lanes' worth is still dealt into two). Catching up, its
 * main thread idled 39% of the time with two parts at once: while one part's transaction
 * waited on Postgres and the other's on the first one's locks, nothing was left for it to do,
 * and the machine was a third idle. A third part fills those gaps. Part 1 of the bench (scale
 * 0.3, one process, runs in turns on one machine), three lanes throughout: 18,639 events/s on
 * average over 11 runs (15,511–20,445) against 16,731 over 9 (13,724–18,687) with two, at the
 * same CPU per event (the worker 30–37 µs, Postgres 31–36 against 33–53), peak RSS a median of
 * 197 MB against 209; four: 18,086–19,629 in three runs, no better. Not at a steady rate: part 2
 * at 12,200 events/s sustained either way, but three lanes for its fetches of a few thousand
 * records cost the machine 3.7% more CPU (96.1 s a trial against 92.7, four trials each), so
 * only a catch-up's parts take the third: part 1 then 18,689–20,746 events/s in four runs, mean
 * 19,361 (docs/performance-journal.md, "A third lane").
 */
export const INGEST_CATCH_UP_LANES = 3;

/**
 * The most records the ingest worker gives a lane (coalesceBatches' `maxLaneRecords`): a
 * catch-up's fetch (two lanes of up to 12,000 records each before) is applied in parts of at most this many,
 * INGEST_CATCH_UP_LANES at a time (two then), instead of two lanes of half the fetch each. Part 1 of the bench (scale 0.3): the ingest
 * worker's peak RSS over parts 1 and 4 was 253–321 MB in 14 runs (mean 279) against 287–343 in
 * 8 (mean 315), at the same rate (11,723–12,692 events/s against 11,522–12,961, three runs
 * each, one after the other). Parts of 1,000 gave 316 and 348 MB at 8,412–10,419 events/s
 * (docs/performance-journal.md, "Statistics that follow a new database, and a fetch in parts").
 */
export const MAX_LANE_RECORDS = 2_000;

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
 *
 * A fetch of more than `lanes` × `maxLaneRecords` records is applied in parts of at most
 * `maxLaneRecords`, `catchUpLanes` at a time (default `lanes`; see applyInParts): what a lane
 * holds in memory is bounded, and a lane that ends first takes the next part instead of
 * waiting for its sibling.
 */
export function coalesceBatches(
  handleMany: (batches: Batch[]) => Promise<void>,
  options: { lanes?: number; minLaneRecords?: number; maxLaneRecords?: number; catchUpLanes?: number } = {},
): (batch: Batch) => Promise<void> {
  const lanes = Math.max(1, options.lanes ?? 1);
  const catchUpLanes = Math.max(1, options.catchUpLanes ?? lanes);
  const minLaneRecords = Math.max(1, options.minLaneRecords ?? 1);
  const maxLaneRecords = Math.max(minLaneRecords, options.maxLaneRecords ?? Infinity);
  // Each turn's batches, once dealt, with the outcome of each batch's lane (not awaited here).
  const gathered = perTurn(async (batches: Batch[]) => {
    const live = batches.filter((b) => !b.isStale());
    const records = live.reduce((n, b) => n + b.messages.length, 0);
    if (records > lanes * maxLaneRecords) return applyInParts(handleMany, live, catchUpLanes, maxLaneRecords);
    const outcomes = new Map<Batch, Promise<void>>();
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

/** A part of a fetch: one call of the handler, after the parts it follows. */
interface Part {
  batches: { origin: Batch; slice: Batch }[];
  /** The part holding the records of the same partition just before this one's, if any. */
  after: Part | undefined;
  /** Records of this part and of the parts that follow it in the same partition: the longest chain goes first. */
  chain: number;
  state: 'waiting' | 'running' | 'done' | 'failed';
  error?: unknown;
  outcome: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Applies a large fetch in parts of at most `maxRecords` records, `lanes` parts at a time. A
 * batch of more than `maxRecords` is cut into consecutive slices of about as many records,
 * each a part of its own, applied in offset order, one after another; the smaller batches are
 * dealt into parts of about as many records each (dealIntoLanes). Whenever a lane is free it
 * takes the waiting part with the most records still to apply in its partition (a long
 * partition's slices start early and never wait at the end), so the lanes end close together.
 * A batch's outcome is that of all its parts: when a part fails, the parts after it in the same
 * partitions are not applied and fail too, and the batch is retried whole, its applied parts
 * found stored (the handler's contract: the outcome does not depend on how records are grouped).
 */
function applyInParts(handleMany: (batches: Batch[]) => Promise<void>, live: readonly Batch[], lanes: number, maxRecords: number): Map<Batch, Promise<void>> {
  const parts: Part[] = [];
  const newPart = (batches: Part['batches'], after: Part | undefined, chain: number): Part => {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const outcome = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    const part: Part = { batches, after, chain, state: 'waiting', outcome, resolve, reject };
    parts.push(part);
    return part;
  };
  const partsOf = new Map<Batch, Part[]>();
  const small: Batch[] = [];
  for (const origin of live) {
    const n = origin.messages.length;
    if (n <= maxRecords) {
      small.push(origin);
      continue;
    }
    const slices = Math.ceil(n / maxRecords);
    const chain: Part[] = [];
    for (let i = 0; i < slices; i++) {
      const from = Math.floor((i * n) / slices);
      const to = Math.floor(((i + 1) * n) / slices);
      const slice: Batch = { ...origin, messages: origin.messages.slice(from, to), isStale: () => origin.isStale() };
      chain.push(newPart([{ origin, slice }], chain.at(-1), n - from));
    }
    partsOf.set(origin, chain);
  }
  const smallRecords = small.reduce((n, b) => n + b.messages.length, 0);
  for (const lane of dealIntoLanes(small, Math.ceil(smallRecords / maxRecords))) {
    if (lane.length === 0) continue;
    const part = newPart(lane.map((b) => ({ origin: b, slice: b })), undefined, lane.reduce((n, b) => n + b.messages.length, 0));
    for (const b of lane) partsOf.set(b, [part]);
  }

  let running = 0;
  const pump = (): void => {
    while (running < lanes) {
      let next: Part | undefined;
      for (const part of parts) {
        if (part.state !== 'waiting') continue;
        if (part.after?.state === 'failed') {
          part.state = 'failed';
          part.error = part.after.error;
          part.reject(part.error);
          continue;
        }
        if (part.after && part.after.state !== 'done') continue;
        if (!next || part.chain > next.chain) next = part;
      }
      if (!next) return;
      const part = next;
      part.state = 'running';
      running++;
      // A batch revoked meanwhile is left out; its caller, seeing it stale, commits nothing.
      const slices = part.batches.filter((b) => !b.origin.isStale()).map((b) => b.slice);
      (slices.length > 0 ? handleMany(slices) : Promise.resolve()).then(
        () => {
          part.state = 'done';
          part.resolve();
        },
        (error: unknown) => {
          part.state = 'failed';
          part.error = error;
          part.reject(error);
        },
      ).finally(() => {
        running--;
        pump();
      });
    }
  };
  pump();
  return new Map(live.map((b) => [b, Promise.all((partsOf.get(b) ?? []).map((p) => p.outcome)).then(() => undefined)]));
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
