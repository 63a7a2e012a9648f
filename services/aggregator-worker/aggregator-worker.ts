import type { Pool } from 'pg';
import type { Kafka, KafkaMessage } from '../../libs/kafka/client.js';
import type { Config } from '../../libs/config/config.js';
import type { Logger } from '../../libs/log/logger.js';
import type { ReferralEventRecorded } from '../../libs/events/types.generated.js';
import type { EventCodec } from '../../libs/events/codec.js';
import type { TopicNames } from '../../libs/events/topics.js';
import { check } from '../../libs/events/validation.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { createBatchConsumer, type Batch } from '../../libs/kafka/batch-consumer.js';
import { publishDeadLetters, type DeadLetter } from '../../libs/kafka/dead-letters.js';
import { decodeBatch, firstOffsetOf } from '../../libs/kafka/decode-batch.js';
import { coalesceBatches, MIN_LANE_RECORDS } from '../../libs/kafka/coalesce.js';
import { FUNNEL_LOCK_KEY, countFunnelEvents, lockPositions, savePositions, storedPositions } from '../../libs/funnel/funnel-store.js';
import type { Queryable } from '../../libs/db/queryable.js';
import { isDataError, isTransient, sqlState } from '../../libs/db/errors.js';
import { isolateRefused } from '../../libs/db/isolate-refused.js';
import { withSavepoint } from '../../libs/db/savepoint.js';
import { preparedStatements, statementShapes } from '../../libs/db/prepared-statements.js';
import { inTransaction, KEY_PROBES_ONLY, rollBack } from '../../libs/db/transaction.js';
import { createAggregatorMetrics, type AggregatorMetrics } from './metrics.js';
import { countFunnelEventsByKind } from '../../libs/observability/funnel-event-counts.js';

export interface AggregatorWorkerDeps {
  config: Config;
  log: Logger;
  pool: Pool;
  kafka: Kafka;
  codec: EventCodec;
  topics: TopicNames;
  groupId?: string;
  metrics?: AggregatorMetrics;
}

const validate = (e: ReferralEventRecorded): string | null =>
  check({ eventId: e.eventId, orgId: e.orgId, mentorId: e.mentorId, linkId: e.linkId, campaignId: e.campaignId, retractsEventId: e.retractsEventId }, { occurredAt: e.occurredAt });

/**
 * The aggregator worker: consumes recruitment.referral-events.v1 and keeps the funnel tables.
 *
 * Exactly once by construction: a fetch's increments, the event ids it counted and its
 * partitions' next offsets are written in one Postgres transaction. Records below the stored
 * position are ignored (a replay or a rebalance redelivers them), and an event id that was
 * already counted (an event re-published after an ingest crash) is skipped. Kafka's committed
 * offsets only follow, for lag monitoring; on every assignment the worker seeks to the
 * positions stored in Postgres.
 */
export function createAggregatorWorker(deps: AggregatorWorkerDeps) {
  const { config, log, pool, kafka, codec, topics } = deps;
  const metrics = deps.metrics ?? createAggregatorMetrics();
  const groupId = deps.groupId ?? `${config.kafka.topicPrefix}recruitment.aggregator-worker`;
  const topic = topics.referralEvents;
  const producer = createEventProducer({ kafka, codec, topics });
  let closing: Promise<void> | undefined;
  // Every statement of a batch's transaction is prepared on its connection once (see preparedStatements):
  // at a steady rate the worker commits dozens of small batches a second, each planning the
  // six-table upsert of applyIncrements anew otherwise.
  const shapeOf = statementShapes();

  /** A valid funnel event and the message it came in. */
  type Delivery = { record: ReferralEventRecorded; batch: Batch; message: KafkaMessage };
  /** A batch sorted into valid events and dead letters. */
  type Decoded = { batch: Batch; valid: { message: KafkaMessage; record: ReferralEventRecorded }[]; dead: DeadLetter[] };
  /**
   * What a fetch's transaction did, for the metrics: the records below the stored positions, and
   * unless all were, how many fresh events it had (and distinct ids, and ids not refused) and
   * which it counted.
   */
  type FetchOutcome = {
    skipped: number;
    counted: { fresh: number; unique: number; claimable: number; events: ReferralEventRecorded[]; rows: { hourly: number; daily: number } } | null;
  };

  /**
   * Counts fresh events, each id once, in the open transaction. When `isolate`, a value the
   * database refuses is isolated (see isolateRefused), each attempt in a savepoint so that the
   * transaction keeps its position locks and the counts of the parts that succeed; the refused
   * events are given back. Otherwise a refusal is thrown, aborting the transaction.
   */
  async function count(tx: Queryable, fresh: Delivery[], isolate: boolean) {
    const counting = (part: Delivery[]) => countFunnelEvents(tx, part.map((d) => d.record), config.defaultTimezone);
    if (!isolate) return { ...(await counting(fresh)), refused: [] };
    const { applied, refused } = await isolateRefused(fresh, (part) => withSavepoint(tx, () => counting(part)), {
      // Once at warn (the database's message, not its detail: that quotes the row); each further split at debug.
      onSplit: (err, size) => log[size === fresh.length ? 'warn' : 'debug']({ sqlState: sqlState(err), reason: (err as Error).message, records: size }, 'the database refused a funnel event; splitting the fetch to isolate it'),
    });
    return {
      counted: applied.flatMap((a) => a.counted),
      rows: { hourly: applied.reduce((n, a) => n + a.rows.hourly, 0), daily: applied.reduce((n, a) => n + a.rows.daily, 0) },
      refused,
    };
  }

  /**
   * Counts decoded batches (any of the topic's partitions) in one transaction: the stored
   * positions of their partitions are locked (one statement, in partition order) and what lies
   * below each is skipped; then every fresh event is counted at once (see count), the dead
   * letters published, and the positions saved (one statement). False when every record was
   * below the stored positions (the transaction is rolled back). The metrics are recorded once
   * the transaction has ended.
   */
  async function countFetch(decoded: Decoded[], isolate: boolean): Promise<boolean> {
    const outcome = await inTransaction<FetchOutcome>(pool, async (client) => {
      const tx = preparedStatements(client, shapeOf);
      const fresh: Delivery[] = [];
      const moved: { batch: Batch; next: bigint; dead: DeadLetter[] }[] = [];
      let skipped = 0;
      const positions = await lockPositions(tx, topic, decoded.map((d) => d.batch.partition));
      for (const { batch, valid, dead } of decoded) {
        const position = positions.get(batch.partition) ?? 0n;
        const lastOffset = BigInt(batch.messages[batch.messages.length - 1]?.offset ?? '-1');
        if (lastOffset < position) {
          // All of it was applied before (a replay, or a batch fetched before the seek took effect).
          skipped += batch.messages.length;
          continue;
        }
        const [head] = batch.messages;
        const firstOffset = BigInt(head ? firstOffsetOf(head) : '0');
        if (firstOffset > position) {
          metrics.gaps.inc();
          batch.log.warn({ storedPosition: position.toString(), firstOffset: firstOffset.toString() }, 'records between the stored position and this batch are gone from the topic; rebuild from the facts to recover them');
        }
        skipped += batch.messages.filter((m) => BigInt(m.offset) < position).length;
        for (const v of valid) if (BigInt(v.message.offset) >= position) fresh.push({ record: v.record, batch, message: v.message });
        moved.push({ batch, next: lastOffset + 1n, dead: dead.filter((d) => BigInt(d.message.offset) >= position) });
      }
      if (moved.length === 0) return rollBack({ skipped, counted: null });
      const unique = new Set(fresh.map((e) => e.record.eventId)).size;
      const { counted: events, rows, refused } = await count(tx, fresh, isolate);
      for (const { item, error } of refused) moved.find((m) => m.batch === item.batch)?.dead.push({ message: item.message, error });
      // Dead letters go out before the position moves past them: at least once, never lost.
      for (const { batch, dead } of moved) {
        await publishDeadLetters(producer, batch, dead);
        metrics.deadLetters.inc(dead.length);
      }
      await savePositions(tx, topic, moved.map(({ batch, next }) => ({ partition: batch.partition, next })));
      const claimable = unique - new Set(refused.map((r) => r.item.record.eventId)).size;
      return { skipped, counted: { fresh: fresh.length, unique, claimable, events, rows } };
    }, { begin: `begin; ${KEY_PROBES_ONLY}; select pg_advisory_xact_lock_shared(${FUNNEL_LOCK_KEY})` });

    if (!outcome.counted) {
      metrics.duplicates.inc({ layer: 'position' }, outcome.skipped);
      return false;
    }
    const { skipped, counted: { fresh, unique, claimable, events, rows } } = outcome;
    if (skipped > 0) metrics.duplicates.inc({ layer: 'position' }, skipped);
    if (fresh > unique) metrics.duplicates.inc({ layer: 'batch' }, fresh - unique);
    if (claimable > events.length) metrics.duplicates.inc({ layer: 'event_id' }, claimable - events.length);
    countFunnelEventsByKind(metrics.counted, events);
    metrics.rowsUpserted.inc({ table: 'funnel_hourly' }, rows.hourly);
    metrics.rowsUpserted.inc({ table: 'funnel_daily' }, rows.daily);
    return true;
  }

  /**
   * Counts the batches of one fetch (see countFetch). When the database refuses a value, the
   * fetch's transaction is run again, isolating the refused events: they go to the dead-letter
   * topic, the rest is counted, and the positions move past them, all in one transaction as
   * before. A fetch nobody refuses costs what it did.
   */
  async function handleMany(batches: Batch[]): Promise<void> {
    const started = process.hrtime.bigint();
    const ordered = [...batches].sort((a, b) => a.partition - b.partition);
    const decoded = await Promise.all(ordered.map(async (batch) => ({ batch, ...(await decodeBatch(codec, 'referralEvents', batch.messages, validate)) })));
    let counted: boolean;
    try {
      counted = await countFetch(decoded, false);
    } catch (err) {
      if (!isDataError(err)) {
        if (sqlState(err) !== null && !isTransient(err)) log.error({ err, sqlState: sqlState(err) }, 'Postgres failed a fetch, neither refusing a value nor unavailable; retrying it');
        throw err;
      }
      counted = await countFetch(decoded, true);
    }
    if (!counted) return;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const { batch } of decoded) {
      metrics.batchSize.observe(batch.messages.length);
      metrics.eventsIn.inc(batch.messages.length);
      metrics.batchSeconds.observe(seconds);
    }
  }

  const consumer = createBatchConsumer({
    kafka,
    groupId,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    maxBytes: config.kafka.fetchMaxBytes,
    minBytes: config.kafka.fetchMinBytes,
    maxWaitMs: config.kafka.fetchMaxWaitMs,
    topics: [topic],
    log,
    // Every partition of a fetch is handed over at once and counted in two transactions dealt by
    // size, side by side; a fetch too small to pay for a second transaction, in one.
    handle: coalesceBatches(handleMany, { lanes: 2, minLaneRecords: MIN_LANE_RECORDS }),
    // Resumes from the positions stored in Postgres (checked against the topic first; the group's offsets follow them).
    positions: (t, partitions) => storedPositions(pool, t, partitions),
    stallMs: config.kafka.partitionStallMs,
    remedy: { group: 'aggregator', after: 'The running worker picks the new position up. Then npx recruitment rebuild recomputes the funnel tables from the facts, recovering any event the topic lost' },
    onProgress: (partitions) => metrics.partitions.update(partitions),
    partitionsConsumedConcurrently: 64,
    onBatchDone: ({ partition, lag }) => metrics.lag.set({ partition: String(partition) }, lag),
    onBatchFailed: ({ partition }) => metrics.batchFailures.inc({ partition: String(partition) }),
  });

  return {
    metrics,
    groupId,
    /** Whether its consumer is a member of the group right now (not joining, rebalancing or restarting). */
    get member() {
      return consumer.member;
    },
    /** For readiness: null, or which partitions are stalled or stopped and why. */
    partitionProblem: () => consumer.problem(),
    /** The topics it consumes and publishes to: what its readiness checks on the brokers. */
    reads: [topic],
    writes: [topics.deadLetters],
    async start(): Promise<void> {
      await producer.connect();
      await consumer.start();
      log.info({ groupId, topic }, 'aggregator worker started');
    },
    /** Finishes the batch in flight, commits, and disconnects. Safe to call twice. */
    close(): Promise<void> {
      closing ??= (async () => {
        await consumer.close();
        await producer.disconnect();
        log.info('aggregator worker stopped');
      })();
      return closing;
    },
  };
}

export type AggregatorWorker = ReturnType<typeof createAggregatorWorker>;
