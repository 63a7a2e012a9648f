import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Kafka, KafkaMessage } from '../../libs/kafka/client.js';
import type { Config } from '../../libs/config/config.js';
import type { Logger } from '../../libs/log/logger.js';
import type { EventCodec, RecordOf } from '../../libs/events/codec.js';
import { INPUT_TOPICS, TOPICS, type TopicNames } from '../../libs/events/topics.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { createBatchConsumer, type Batch } from '../../libs/kafka/batch-consumer.js';
import { InvalidEventError, publishDeadLetters, type DeadLetter } from '../../libs/kafka/dead-letters.js';
import { decodeBatch } from '../../libs/kafka/decode-batch.js';
import { coalesceBatches, INGEST_CATCH_UP_LANES, MAX_LANE_RECORDS, MIN_LANE_RECORDS } from '../../libs/kafka/coalesce.js';
import { HANDLERS, type InputTopic, type TopicHandler } from './handlers.js';
import { clearOutbox, outboxAge, pendingOutbox } from './facts/funnel-records.js';
import type { FunnelRecord } from '../../libs/domain/funnel-decisions.js';
import { createBatchApplier, type Applied } from './apply-batch.js';
import { isTransient, sqlState } from '../../libs/db/errors.js';
import { createIngestMetrics, type IngestMetrics } from './metrics.js';
import { seenMarkerPrefix } from './seen-markers.js';
import { countFunnelEventsByKind } from '../../libs/observability/funnel-event-counts.js';
import { createGrowthAnalyzer } from '../../libs/db/analyze-growth.js';

export interface IngestWorkerDeps {
  config: Config;
  log: Logger;
  pool: Pool;
  redis: Redis;
  kafka: Kafka;
  codec: EventCodec;
  topics: TopicNames;
  groupId?: string;
  metrics?: IngestMetrics;
  /** OUTBOX_STALE_SECONDS unless set (tests), and how often the outbox is read (RELAY_INTERVAL_MS). */
  outbox?: { staleSeconds?: number; intervalMs?: number };
}

/** A decoded, valid record and the message it came in: what a dead letter needs should Postgres refuse it. */
interface Delivery {
  topic: InputTopic;
  record: RecordOf<InputTopic>;
  eventId: string | null;
  batch: Batch;
  message: KafkaMessage;
}

const SEEN_TTL_SECONDS = 7 * 24 * 3600;
/** Sets every key given to '1', expiring after ARGV[1] seconds. */
const MARK_SEEN_SCRIPT = "for i = 1, #KEYS do redis.call('SET', KEYS[i], '1', 'EX', ARGV[1]) end return #KEYS";
/**
 * Keys per script call. A call holds Redis for its duration: 11 ms for 5,000 keys in its slow
 * log on this two-core machine under load, so a thousand keep other clients' waits near 2 ms.
 */
const MARK_CHUNK = 1_000;
const RELAY_INTERVAL_MS = 5_000;
/**
 * How long a changed link's pages may stay unfinished before the relay takes them up. A lane
 * finishes its links' pages before its offsets are committed, and a crash brings the link's
 * record back, so this is for a cursor whose record will not come again.
 */
const LINK_PAGES_STALLED_SECONDS = 60;

/**
 * How old the oldest unpublished outbox row may be before readiness fails. Rows the broker
 * acknowledged are deleted within a second, and the relay publishes what a crash left after 10 s:
 * a row a minute old means the broker does not take the referral events (a leader gone, too few
 * in-sync replicas) while batches still commit, which nothing else shows when input is quiet.
 */
export const OUTBOX_STALE_SECONDS = 60;
/** The tables a batch's statements read and write, whose statistics follow their growth (see createGrowthAnalyzer). */
export const GROWING_TABLES = [
  'invite_links', 'clicks', 'installs', 'registrations', 'logins', 'referrals', 'referral_trackings', 'funnel_decisions',
  'coordinator_scopes', 'erased_devices', 'erased_users',
];
/**
 * The tables the worker writes that stay small whatever the traffic, so no plan on them goes
 * stale: the lock buckets (a fixed set, made by a migration), the outbox (rows deleted once the
 * broker has acknowledged them) and the store's identity (one row). Every other table the
 * worker writes belongs in GROWING_TABLES (test/integration/analyze-growth.test.ts checks).
 */
export const BOUNDED_TABLES = ['ingest_lock_buckets', 'ingest_outbox', 'link_redecisions', 'store_identity'];

/**
 * The ingest worker: consumes the input topics, writes facts to Postgres effectively once,
 * and publishes one ReferralEventRecorded per counted funnel event.
 */
export function createIngestWorker(deps: IngestWorkerDeps) {
  const { config, log, pool, redis, kafka, codec, topics } = deps;
  const metrics = deps.metrics ?? createIngestMetrics();
  const groupId = deps.groupId ?? `${config.kafka.topicPrefix}recruitment.ingest-worker`;
  const producer = createEventProducer({ kafka, codec, topics });
  const topicByName = new Map<string, InputTopic>(INPUT_TOPICS.map((t) => [topics[t], t]));
  const applyBatch = createBatchApplier({ pool, config, metrics, log });
  const analyzer = createGrowthAnalyzer({ pool, tables: GROWING_TABLES, log });
  let seenPrefix: string | undefined;
  let relayTimer: NodeJS.Timeout | undefined;
  let relaying: Promise<void> = Promise.resolve();
  /** The funnel events and markers of committed batches, published and written in commit order (see afterCommit). */
  let following: Promise<void> = Promise.resolve();
  let closing: Promise<void> | undefined;

  /** Redis keys are scoped to this database's identity: a recreated database never trusts old markers. */
  async function redisPrefix(): Promise<string> {
    if (!seenPrefix) {
      const { rows } = await pool.query<{ epoch: string }>('select epoch from store_identity');
      seenPrefix = seenMarkerPrefix(String(rows[0]?.epoch));
    }
    return seenPrefix;
  }

  /** Decodes a batch; each valid record keeps the message it came in (to be dead-lettered should Postgres refuse it). */
  async function decodeAll<T extends InputTopic>(topic: T, batch: Batch): Promise<{ valid: Delivery[]; dead: DeadLetter[] }> {
    const handler = HANDLERS[topic] as unknown as TopicHandler<T>;
    const decoded = await decodeBatch(codec, topic, batch.messages, (record) => handler.validate(record));
    const { dead } = decoded;
    const valid: Delivery[] = [];
    for (const { message, record } of decoded.valid) {
      // Only a topic of states has its keys read: no string per message on the others' path.
      const wanted = handler.stateKey?.(record);
      const key = wanted === undefined ? undefined : (message.key?.toString('utf8') ?? null);
      if (key === wanted) valid.push({ topic, record: record as RecordOf<InputTopic>, eventId: handler.eventId(record), batch, message });
      else dead.push({ message, error: new InvalidEventError(`key ${key == null ? 'null' : JSON.stringify(key.slice(0, 200))} is not the record's ${TOPICS[topic].keyField} (${JSON.stringify((wanted as string).slice(0, 200))}): a state must be published under its own key`) });
    }
    return { valid, dead };
  }

  /** Drops deliveries whose eventId was already made durable (Redis) or repeats within the batch. */
  async function dropSeen<I extends { eventId: string | null }>(topic: InputTopic, items: I[]): Promise<{ fresh: I[]; ids: string[] }> {
    const unique = new Map<string, I>();
    const keyless: I[] = [];
    for (const item of items) {
      if (item.eventId === null) keyless.push(item);
      else if (!unique.has(item.eventId)) unique.set(item.eventId, item);
    }
    const ids = [...unique.keys()];
    let fresh = [...unique.values()];
    if (ids.length > 0) {
      const prefix = await redisPrefix();
      const hits = await redis.mget(ids.map((id) => `${prefix}${topic}:${id}`));
      fresh = ids.flatMap((id, i) => (hits[i] === null ? [unique.get(id) as I] : []));
      const inBatch = items.length - keyless.length - ids.length;
      const inRedis = ids.length - fresh.length;
      if (inBatch) metrics.duplicates.inc({ topic, layer: 'batch' }, inBatch);
      if (inRedis) metrics.duplicates.inc({ topic, layer: 'redis' }, inRedis);
    }
    return { fresh: [...keyless, ...fresh], ids };
  }

  /**
   * Publishes a transaction's funnel events, then has its outbox rows deleted (at least once: a
   * crash between the two republishes them). `alone`: deleted now (the relay's), else by the
   * next batch's transaction (see acknowledge).
   */
  async function publishFunnelRecords(records: FunnelRecord[], outboxIds: string[], alone = false): Promise<void> {
    if (records.length > 0) {
      await producer.send(
        'referralEvents',
        records.map((r) => ({
          eventId: r.eventId, orgId: r.orgId, mentorId: r.mentorId, linkId: r.linkId, campaignId: r.campaignId, referralId: r.referralId,
          userId: r.userId, stage: r.stage, uniqueVisitor: r.uniqueVisitor, occurredAt: r.occurredAt, retractsEventId: r.retractsEventId,
        })),
      );
      countFunnelEventsByKind(metrics.eventsOut, records);
    }
    if (alone) await clearOutbox(pool, outboxIds);
    else applyBatch.acknowledge(outboxIds);
  }

  /**
   * Marks eventIds seen (written only after their facts are durable, so a marker always means
   * "done"): one script call per MARK_CHUNK keys, each key set with its expiry, instead of a
   * SET command per key (a pipelined command per event was 7% of what the worker allocated).
   */
  async function markSeen(marked: { topic: InputTopic; ids: string[] }[]): Promise<void> {
    if (marked.length === 0) return;
    const prefix = await redisPrefix();
    const keys = marked.flatMap(({ topic, ids }) => ids.map((id) => `${prefix}${topic}:${id}`));
    for (let i = 0; i < keys.length; i += MARK_CHUNK) {
      const chunk = keys.slice(i, i + MARK_CHUNK);
      await redis.eval(MARK_SEEN_SCRIPT, chunk.length, ...chunk, SEEN_TTL_SECONDS);
    }
  }

  /**
   * What follows a transaction's commit, taken off the batch's path: its funnel events published
   * and its eventIds marked seen, while the consumer commits its offsets and fetches and applies
   * the next batches. Neither is needed for the offsets: the events are in the outbox, which the
   * relay publishes if this fails or the process dies first (within RELAY_INTERVAL_MS of the
   * rows' 10 s), and a missing marker costs a redelivery a read of Postgres, which finds the
   * facts stored. The follow-ups run one after another in commit order, and a batch returns only
   * once the one before its own is done: at most one is in flight beyond the batches applied,
   * so a slow broker slows the consumer instead of piling up events in memory.
   */
  function afterCommit(funnelRecords: FunnelRecord[], outboxIds: string[], marked: { topic: InputTopic; ids: string[] }[]): Promise<void> {
    const previous = following;
    following = previous.then(async () => {
      await Promise.all([
        publishFunnelRecords(funnelRecords, outboxIds).catch((err: unknown) =>
          log.warn({ err, events: funnelRecords.length }, 'could not publish referral events; the outbox relay will'),
        ),
        markSeen(marked).catch((err: unknown) => log.warn({ err }, 'could not mark eventIds seen; a redelivery will be found in Postgres')),
      ]);
    });
    return previous;
  }

  /**
   * Applies the batches of one lane of a fetch (any partitions and topics) in one transaction: decodes
   * them, drops what was seen, stores and re-decides, publishes dead letters; then its funnel
   * events are published and its eventIds marked seen beside the next batches (see afterCommit).
   * A record Postgres refuses is isolated in smaller transactions (see applyIsolating) and
   * dead-lettered with the rest of its batch's.
   */
  async function handleMany(batches: Batch[]): Promise<void> {
    const started = process.hrtime.bigint();
    const decoded = await Promise.all(
      batches.map(async (batch) => {
        const topic = topicByName.get(batch.topic);
        if (!topic) throw new Error(`not an input topic: ${batch.topic}`);
        return { batch, topic, ...(await decodeAll(topic, batch)) };
      }),
    );
    const byTopic = new Map<InputTopic, Delivery[]>();
    for (const d of decoded) {
      const items = byTopic.get(d.topic) ?? [];
      for (const item of d.valid) items.push(item);
      byTopic.set(d.topic, items);
    }
    const groups = await Promise.all([...byTopic].map(async ([topic, items]) => ({ topic, ...(await dropSeen(topic, items)) })));
    // A lane is one transaction, unless a changed link's clicks take pages (transactions of their
    // own: see applyGroups) or a refused record splits it. Each transaction's events go out when
    // the next commits, and the last's with the lane's markers, as a lane's one did before: the
    // pages of a link with a million clicks are never held at once.
    let published = 0;
    let last: Applied | undefined;
    const onCommit = async (applied: Applied) => {
      published += applied.funnelRecords.length;
      if (last) await afterCommit(last.funnelRecords, last.outboxIds, []);
      last = applied;
    };
    const applied = await applyBatch.applyIsolating(groups.flatMap((g) => g.fresh), onCommit).catch((err: unknown) => {
      if (sqlState(err) !== null && !isTransient(err)) log.error({ err, sqlState: sqlState(err) }, 'Postgres failed a batch, neither refusing a value nor unavailable; retrying it');
      throw err;
    });
    const refusedBy = new Map<Batch, DeadLetter[]>();
    for (const { item, error } of applied.refused) {
      const letters = refusedBy.get(item.batch) ?? [];
      letters.push({ message: item.message, error });
      refusedBy.set(item.batch, letters);
    }
    for (const { batch, dead } of decoded) {
      const all = [...dead, ...(refusedBy.get(batch) ?? [])];
      await publishDeadLetters(producer, batch, all);
      if (all.length > 0) metrics.deadLetters.inc({ topic: batch.topic }, all.length);
    }
    // A refused record is not marked: it is not done, and a corrected delivery of its eventId must still be applied.
    const refusedIds = new Set(applied.refused.flatMap(({ item }) => (item.eventId === null ? [] : [`${item.topic}:${item.eventId}`])));
    const marked = groups.map((g) => ({ topic: g.topic, ids: g.ids.filter((id) => !refusedIds.has(`${g.topic}:${id}`)) })).filter((g) => g.ids.length > 0);
    analyzer.wrote(groups.reduce((n, g) => n + g.fresh.length, 0) + published);
    await afterCommit(last?.funnelRecords ?? [], last?.outboxIds ?? [], marked);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    for (const { batch, topic } of decoded) {
      metrics.eventsIn.inc({ topic }, batch.messages.length);
      metrics.batchSeconds.observe({ topic }, seconds);
    }
  }

  /** The outbox's state as last read (see outboxProblem): every relay interval, apart from the relay, which a broker that takes nothing holds. */
  let outbox = { rows: 0, seconds: 0 };
  async function readOutbox(): Promise<void> {
    outbox = await outboxAge(pool);
    metrics.outboxOldestSeconds.set(outbox.seconds);
  }

  /**
   * Publishes outbox rows a crash left behind (committed facts whose event was never
   * acknowledged), then takes up links whose clicks' pages were left unfinished for a minute.
   */
  async function relayOutbox(): Promise<void> {
    for (const { id, funnelRecords } of await pendingOutbox(pool, 10, 20)) {
      log.info({ count: funnelRecords.length }, 'relaying unpublished referral events');
      await publishFunnelRecords(funnelRecords, [id], true);
    }
    const resumed = await applyBatch.resumeStalledLinks(LINK_PAGES_STALLED_SECONDS, ({ funnelRecords, outboxIds }) => publishFunnelRecords(funnelRecords, outboxIds, true));
    if (resumed > 0) log.warn({ links: resumed }, "took up links whose clicks' re-decision was left unfinished");
  }

  const consumer = createBatchConsumer({
    kafka,
    groupId,
    sessionTimeoutMs: config.kafka.sessionTimeoutMs,
    maxBytes: config.kafka.fetchMaxBytes,
    minBytes: config.kafka.fetchMinBytes,
    maxWaitMs: config.kafka.fetchMaxWaitMs,
    topics: INPUT_TOPICS.map((t) => topics[t]),
    log,
    // Every partition of a fetch is handed over at once and applied in two transactions dealt by
    // size, side by side (one's work in this process overlaps the other's in Postgres); a fetch
    // too small to pay for a second transaction, in one; a large one (catching up) in parts of
    // at most MAX_LANE_RECORDS, INGEST_CATCH_UP_LANES at a time.
    partitionsConsumedConcurrently: INPUT_TOPICS.length * 16,
    handle: coalesceBatches(handleMany, { lanes: 2, catchUpLanes: INGEST_CATCH_UP_LANES, minLaneRecords: MIN_LANE_RECORDS, maxLaneRecords: MAX_LANE_RECORDS }),
    stallMs: config.kafka.partitionStallMs,
    remedy: {
      group: 'ingest',
      after: "Stop the ingest workers first (a group's offsets cannot be changed while it has members) and start them after; records deleted before they were read are not recovered by this: publish them again from their source",
    },
    onProgress: (partitions) => metrics.partitions.update(partitions),
    onBatchDone: ({ topic, partition, lag }) => metrics.lag.set({ topic, partition: String(partition) }, lag),
    onBatchFailed: ({ topic, partition }) => metrics.batchFailures.inc({ topic, partition: String(partition) }),
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
    /** For readiness: null, or how long referral events have waited for the broker (as the relay last read it). */
    outboxProblem: (): string | null =>
      outbox.seconds > (deps.outbox?.staleSeconds ?? OUTBOX_STALE_SECONDS) ? `${outbox.rows} committed transactions' referral events not yet taken by the broker, the oldest for ${Math.round(outbox.seconds)} s` : null,
    /** The topics it consumes and publishes to: what its readiness checks on the brokers. */
    reads: INPUT_TOPICS.map((t) => topics[t]),
    writes: [topics.referralEvents, topics.deadLetters],
    async start(): Promise<void> {
      await producer.connect();
      await consumer.start();
      relayTimer = setInterval(() => {
        relaying = relaying.then(relayOutbox).catch((err: unknown) => log.warn({ err }, 'outbox relay failed; will retry'));
        readOutbox().catch((err: unknown) => log.debug({ err }, 'could not read the outbox; the next interval will'));
      }, deps.outbox?.intervalMs ?? RELAY_INTERVAL_MS);
      log.info({ groupId }, 'ingest worker started');
    },
    /** Finishes the batch in flight, commits, and disconnects. Safe to call twice. */
    close(): Promise<void> {
      closing ??= (async () => {
        if (relayTimer) clearInterval(relayTimer);
        await consumer.close();
        await following;
        await relaying;
        await applyBatch.clearAcknowledged();
        await analyzer.close();
        await producer.disconnect();
        log.info('ingest worker stopped');
      })();
      return closing;
    },
  };
}

export type IngestWorker = ReturnType<typeof createIngestWorker>;
