import type { Pool } from 'pg';
import type { Config } from '../../libs/config/config.js';
import type { RecordOf } from '../../libs/events/codec.js';
import { HANDLERS, type InputTopic, type TopicHandler } from './handlers.js';
import { INPUT_TOPICS } from '../../libs/events/topics.js';
import { NeedsExclusiveBatchError } from './facts/registrations.js';
import type { BatchEffects, FactsContext } from './facts/tx.js';
import type { FunnelRecord } from '../../libs/domain/funnel-decisions.js';
import { mergeSeeds, noSeeds, redecide, type Seeds } from './redecide.js';
import { LINK_PAGE, linksPerPage, type LinkPageSize } from './facts/link-pages.js';
import { clearOutbox, enqueueOutbox } from './facts/funnel-records.js';
import type { IngestMetrics } from './metrics.js';
import type { Logger } from '../../libs/log/logger.js';
import { isolateRefused, type Refusal } from '../../libs/db/isolate-refused.js';
import { sqlState } from '../../libs/db/errors.js';
import { preparedStatements, statementShapes } from '../../libs/db/prepared-statements.js';
import { inTransaction, KEY_PROBES_ONLY } from '../../libs/db/transaction.js';

const ERASURE_LOCK = "hashtextextended('recruitment-tracking:erasure', 0)";

/**
 * Opens a batch's transaction in one round trip: planner settings, the deletion of outbox rows
 * whose events the broker has acknowledged (ids this process got back from its own inserts),
 * then the erasure lock, shared or exclusive.
 */
function begin(exclusive: boolean, clearing: readonly string[]): string {
  const ids = clearing.filter((id) => /^\d{1,19}$/.test(id));
  const clear = ids.length > 0 ? ` delete from ingest_outbox where id = any('{${ids.join(',')}}'::bigint[]);` : '';
  return `begin; ${KEY_PROBES_ONLY};${clear} select ${exclusive ? 'pg_advisory_xact_lock' : 'pg_advisory_xact_lock_shared'}(${ERASURE_LOCK})`;
}

/** How long acknowledged outbox rows wait for a batch's transaction to delete them before they are deleted on their own. */
const CLEAR_ALONE_AFTER_MS = 1_000;

/** What transactions stored: the funnel records to publish, and their outbox rows. */
export interface Applied {
  funnelRecords: FunnelRecord[];
  outboxIds: string[];
}

/** Takes each committed transaction's funnel records and outbox row, in commit order (to publish them). */
export type OnCommit = (applied: Applied) => Promise<void>;

/** Records of one input topic, decoded, valid and not seen before. */
export interface TopicRecords<T extends InputTopic = InputTopic> {
  topic: T;
  records: RecordOf<T>[];
}

/** A decoded, valid record of an input topic (a caller adds what it must know of the record, should the database refuse it). */
export interface TopicRecord {
  topic: InputTopic;
  record: RecordOf<InputTopic>;
}

/** What applyIsolating did: the funnel records and outbox rows of every transaction it committed, and the records refused. */
export interface AppliedIsolating<I> {
  funnelRecords: FunnelRecord[];
  outboxIds: string[];
  refused: Refusal<I>[];
}

/**
 * Applies batches of decoded, valid records to Postgres: one transaction that stores the new
 * facts of every topic given (in the catalogue's topic order) and re-decides, once, what they
 * can change (see redecide). Returns the funnel records it stored (the events to publish) and their outbox
 * row, for the caller to publish and then clear. The outcome does not depend on how records
 * are grouped into calls (the order property test delivers them in random splits), so a caller
 * may gather the batches of many partitions and topics into one call: one transaction instead
 * of one per partition.
 *
 * Batches that touch the same links, devices or users are serialized by row locks on those
 * subjects; others run side by side, across partitions and instances. Erasures rewrite device
 * ids in every table, so their batches run alone: every batch holds the erasure lock shared,
 * an erasure batch (or one that must erase a late registration's device) exclusively.
 */
export function createBatchApplier(deps: { pool: Pool; config: Pick<Config, 'attributionWindowDays' | 'visitorHashKey'>; metrics?: IngestMetrics; log?: Logger; linkPage?: LinkPageSize }) {
  const { pool, config, metrics, log } = deps;
  const linkPage = deps.linkPage ?? LINK_PAGE;
  // Every statement of a transaction is prepared on its connection once (see preparedStatements).
  const shapeOf = statementShapes();
  const effectsOf = (topic: InputTopic): BatchEffects => ({
    note(counter, n = 1) {
      if (n <= 0 || !metrics) return;
      if (counter === 'duplicate') metrics.duplicates.inc({ topic, layer: 'postgres' }, n);
      else if (counter === 'bot') metrics.bots.inc(n);
      else if (counter === 'retraction') metrics.retractions.inc(n);
      else if (counter === 'reinstall') metrics.reinstalls.inc(n);
      else metrics.rejected.inc({ reason: counter.replace('rejected_', '') }, n);
    },
  });

  /**
   * Outbox rows whose events the broker acknowledged: the next transaction deletes them with
   * its own commit (a deletion alone costs a commit, a WAL flush, per lane and fetch), each
   * row claimed by one transaction and given back if it rolls back. When no transaction comes
   * within CLEAR_ALONE_AFTER_MS (the worker idle) they are deleted on their own, well before
   * the relay would take them for rows a crash left (10 s).
   */
  const acknowledged = new Set<string>();
  let clearTimer: NodeJS.Timeout | undefined;
  const claim = (): string[] => {
    const ids = [...acknowledged];
    acknowledged.clear();
    return ids;
  };
  const giveBack = (ids: readonly string[]) => {
    for (const id of ids) acknowledged.add(id);
  };

  /** Deletes the acknowledged rows no transaction took (also on close). A failure keeps them for the next try. */
  async function clearAcknowledged(): Promise<void> {
    if (clearTimer) clearTimeout(clearTimer);
    clearTimer = undefined;
    const ids = claim();
    try {
      await clearOutbox(pool, ids);
    } catch (err) {
      giveBack(ids);
      log?.warn({ err }, 'could not delete acknowledged outbox rows; the next batch or the relay will');
    }
  }

  /** The broker acknowledged these outbox rows' events: they are deleted by the next transaction, or soon on their own. */
  function acknowledge(ids: readonly string[]): void {
    if (ids.length === 0) return;
    giveBack(ids);
    clearTimer ??= setTimeout(() => void clearAcknowledged(), CLEAR_ALONE_AFTER_MS);
  }

  /**
   * One transaction: stores what `store` stores, re-decides what it can change, and puts the
   * funnel records in the outbox. Returns them, and the links whose clicks have pages left.
   */
  async function transact(store: (ctx: (topic: InputTopic) => FactsContext, exclusive: boolean) => Promise<Seeds>, exclusiveAtFirst: boolean): Promise<{ applied: Applied; unfinishedLinks: string[] }> {
    let exclusive = exclusiveAtFirst;
    for (;;) {
      const clearing = claim();
      try {
        return await inTransaction(pool, async (client) => {
          const tx = preparedStatements(client, shapeOf);
          const ctx = (topic: InputTopic): FactsContext => ({ tx, effects: effectsOf(topic), attributionWindowDays: config.attributionWindowDays, visitorHashKey: config.visitorHashKey, linkPage });
          const seeds = await store(ctx, exclusive);
          // The re-decision stores the clicks, so the duplicates it finds are clicks (its other counters have no topic).
          const { records, unfinishedLinks } = await redecide(ctx('inviteClicks'), seeds);
          const outboxId = await enqueueOutbox(tx, records);
          return { applied: { funnelRecords: records, outboxIds: outboxId === null ? [] : [outboxId] }, unfinishedLinks };
        }, { begin: begin(exclusive, clearing) });
      } catch (err) {
        // Rolled back: the outbox rows it was to delete wait for the next transaction.
        giveBack(clearing);
        if (err instanceof NeedsExclusiveBatchError && !exclusive) {
          exclusive = true;
          continue;
        }
        throw err;
      }
    }
  }

  /**
   * Stores the records in one transaction and re-decides what they can change. A link whose
   * state changed has its stored clicks decided a page at a time (facts/link-pages.ts): the
   * first page in that transaction, each further page in a transaction of its own, before this
   * returns, so a caller that commits offsets afterwards never leaves a link half decided. A
   * crash between pages leaves the link's cursor stored, and the link's record, delivered again,
   * takes the pages up where they stopped. Each committed transaction is handed to `onCommit`
   * in commit order (the worker publishes each as it comes: the pages of a link with a million
   * clicks are never held at once); without it, they are gathered and returned.
   */
  async function applyGroups(groups: TopicRecords[], onCommit?: OnCommit): Promise<Applied> {
    const ordered = INPUT_TOPICS.flatMap((topic) => {
      const records = groups.filter((g) => g.topic === topic).flatMap((g) => g.records);
      return records.length > 0 ? [{ topic, records, handler: HANDLERS[topic] as unknown as TopicHandler<InputTopic> }] : [];
    });
    const gathered: Applied = { funnelRecords: [], outboxIds: [] };
    if (ordered.length === 0) return gathered;
    const take: OnCommit = onCommit ?? (async ({ funnelRecords, outboxIds }) => {
      for (const record of funnelRecords) gathered.funnelRecords.push(record);
      for (const id of outboxIds) gathered.outboxIds.push(id);
    });
    const first = await transact(async (ctx, exclusive) => {
      const seeds = noSeeds();
      for (const { topic, records, handler } of ordered) mergeSeeds(seeds, await handler.store(ctx(topic), records, exclusive));
      return seeds;
    }, ordered.some((g) => g.handler.exclusive === true));
    await take(first.applied);
    await continueLinks(first.unfinishedLinks, take);
    return gathered;
  }

  /** Decides the further pages of these links' clicks, a transaction each, until none is left (see applyGroups). */
  async function continueLinks(linkIds: readonly string[], take: OnCommit): Promise<void> {
    let left = [...linkIds];
    while (left.length > 0) {
      const next: string[] = [];
      for (let i = 0; i < left.length; i += linksPerPage(linkPage)) {
        const resumeLinks = left.slice(i, i + linksPerPage(linkPage));
        const page = await transact(async () => ({ ...noSeeds(), resumeLinks }), false);
        await take(page.applied);
        for (const link of page.unfinishedLinks) next.push(link);
      }
      left = next;
    }
  }

  /**
   * Takes up links whose pages have waited more than `olderThanSeconds` since they started: a
   * link whose record will not come again (its group's offsets moved past it by an operator)
   * would otherwise keep clicks decided on its old state. A link still paged by a lane is
   * harmless to take up too: both read its cursor under its lock. Returns how many links.
   */
  async function resumeStalledLinks(olderThanSeconds: number, onCommit: OnCommit): Promise<number> {
    const { rows } = await pool.query<{ link_id: string }>(
      `select link_id from link_redecisions where started_at < now() - make_interval(secs => $1) order by started_at limit $2`,
      [olderThanSeconds, linksPerPage(linkPage)],
    );
    await continueLinks(rows.map((r) => r.link_id), onCommit);
    return rows.length;
  }

  /**
   * Applies records of any input topics as applyGroups does, in one transaction, unless the
   * database refuses a value (SQLSTATE class 22, 23 for a value, 54): then the records are
   * split and applied in smaller transactions until each refused record stands alone (see
   * isolateRefused), and those are given back, with the database's answer, for the dead-letter
   * topic. The outcome of the rest does not depend on the split (see applyGroups). Any other
   * error is thrown, and transactions committed before it stay committed: their facts are keyed
   * by event id (a retry finds them stored) and their funnel events are in the outbox.
   */
  async function applyIsolating<I extends TopicRecord>(items: readonly I[], onCommit?: OnCommit): Promise<AppliedIsolating<I>> {
    // In the catalogue's order, so that each half holds whole runs of a topic (links before the clicks on them).
    const ordered = INPUT_TOPICS.flatMap((topic) => items.filter((i) => i.topic === topic));
    const { applied, refused } = await isolateRefused(
      ordered,
      (part) => applyGroups(INPUT_TOPICS.flatMap((topic) => {
        const records = part.filter((i) => i.topic === topic).map((i) => i.record);
        return records.length > 0 ? [{ topic, records } as TopicRecords] : [];
      }), onCommit),
      // Once at warn (the database's message, not its detail: that quotes the row); each further split at debug.
      { onSplit: (err, size) => log?.[size === ordered.length ? 'warn' : 'debug']({ sqlState: sqlState(err), reason: (err as Error).message, records: size }, 'the database refused a value in a batch; splitting it to isolate the record') },
    );
    return {
      funnelRecords: applied.flatMap((a) => a.funnelRecords),
      outboxIds: applied.flatMap((a) => a.outboxIds),
      refused,
    };
  }

  return Object.assign(
    /** Applies one topic's records (see applyGroups). */
    <T extends InputTopic>(topic: T, records: RecordOf<T>[], onCommit?: OnCommit): Promise<Applied> => applyGroups([{ topic, records } as TopicRecords], onCommit),
    { applyGroups, applyIsolating, resumeStalledLinks, acknowledge, clearAcknowledged },
  );
}

export type BatchApplier = ReturnType<typeof createBatchApplier>;
