import type { Pool } from 'pg';
import type { Config } from '../../libs/config/config.js';
import type { RecordOf } from '../../libs/events/codec.js';
import { HANDLERS, type InputTopic, type TopicHandler } from './handlers.js';
import { NeedsExclusiveBatchError } from './facts/registrations.js';
import type { BatchEffects, FactsContext, Tracking } from './facts/tx.js';
import { redecide } from './redecide.js';
import type { IngestMetrics } from './metrics.js';

const ERASURE_LOCK = "hashtextextended('recruitment-tracking:erasure', 0)";
const ERASURE_LOCK_SHARED = `select pg_advisory_xact_lock_shared(${ERASURE_LOCK})`;
const ERASURE_LOCK_EXCLUSIVE = `select pg_advisory_xact_lock(${ERASURE_LOCK})`;

/**
 * Applies batches of decoded, valid records of one input topic to Postgres: one transaction
 * per batch that stores the new facts and re-decides what they can change (see redecide).
 * Returns the funnel events it put in the outbox, for the caller to publish.
 *
 * Batches that touch the same links, devices or users are serialized by row locks on those
 * subjects; others run side by side, across partitions and instances. Erasures rewrite device
 * ids in every table, so their batches run alone: every batch holds the erasure lock shared,
 * an erasure batch (or one that must erase a late registration's device) exclusively.
 */
export function createBatchApplier(deps: { pool: Pool; config: Pick<Config, 'attributionWindowDays' | 'visitorHashKey'>; metrics?: IngestMetrics }) {
  const { pool, config, metrics } = deps;
  return async function applyBatch<T extends InputTopic>(topic: T, records: RecordOf<T>[]): Promise<Tracking[]> {
    const handler = HANDLERS[topic] as unknown as TopicHandler<T>;
    const effects: BatchEffects = {
      note(counter, n = 1) {
        if (n <= 0 || !metrics) return;
        if (counter === 'duplicate') metrics.duplicates.inc({ topic, layer: 'postgres' }, n);
        else if (counter === 'bot') metrics.bots.inc(n);
        else if (counter === 'retraction') metrics.retractions.inc(n);
        else metrics.rejected.inc({ reason: counter.replace('rejected_', '') }, n);
      },
    };
    let exclusive = handler.exclusive === true;
    for (;;) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query('begin');
        await client.query(exclusive ? ERASURE_LOCK_EXCLUSIVE : ERASURE_LOCK_SHARED);
        const ctx: FactsContext = { tx: client, effects, attributionWindowDays: config.attributionWindowDays, visitorHashKey: config.visitorHashKey };
        const seeds = await handler.store(ctx, records, exclusive);
        const trackings = await redecide(ctx, seeds);
        await client.query('commit');
        return trackings;
      } catch (err) {
        await client.query('rollback').catch((rollbackFailed: Error) => (broken = rollbackFailed));
        if (err instanceof NeedsExclusiveBatchError && !exclusive) {
          exclusive = true;
          continue;
        }
        throw err;
      } finally {
        client.release(broken); // a connection that cannot even roll back is discarded, not pooled
      }
    }
  };
}

export type BatchApplier = ReturnType<typeof createBatchApplier>;
