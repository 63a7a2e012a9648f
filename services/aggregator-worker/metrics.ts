import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createPartitionMetrics } from '../../libs/observability/partition-metrics.js';

export function createAggregatorMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'aggregator_' });
  return {
    registry,
    eventsIn: new Counter({ name: 'aggregator_events_in_total', help: 'Records consumed from the referral-events topic', registers: [registry] }),
    counted: new Counter({ name: 'aggregator_events_counted_total', help: 'Funnel events applied to the funnel tables, by stage and kind (event adds, retraction subtracts)', labelNames: ['stage', 'kind'], registers: [registry] }),
    duplicates: new Counter({
      name: 'aggregator_duplicates_skipped_total',
      help: 'Records not counted again, by what caught them: below the stored position, repeated in the batch, or an event id already counted',
      labelNames: ['layer'],
      registers: [registry],
    }),
    rowsUpserted: new Counter({ name: 'aggregator_rows_upserted_total', help: 'Funnel table rows inserted or updated, by table', labelNames: ['table'], registers: [registry] }),
    deadLetters: new Counter({ name: 'aggregator_dead_letters_total', help: 'Records sent to the dead-letter topic', registers: [registry] }),
    batchFailures: new Counter({
      name: 'aggregator_batch_failures_total',
      help: 'Attempts at a batch that failed (Postgres or Kafka away), by partition: the partition pauses and the same batch is tried again, nothing skipped',
      labelNames: ['partition'],
      registers: [registry],
    }),
    gaps: new Counter({ name: 'aggregator_position_gaps_total', help: 'Batches that started after the stored position (records deleted by retention before they were applied)', registers: [registry] }),
    batchSize: new Histogram({ name: 'aggregator_batch_size', help: 'Records per applied batch', buckets: [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000, 25000], registers: [registry] }),
    batchSeconds: new Histogram({ name: 'aggregator_batch_duration_seconds', help: 'Time to apply and commit one batch', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    lag: new Gauge({ name: 'aggregator_consumer_lag', help: 'Messages behind the high watermark after the last batch', labelNames: ['partition'], registers: [registry] }),
    /** Per partition: stalled, stopped (a position the topic no longer has), seconds without progress. */
    partitions: createPartitionMetrics(registry, 'aggregator'),
  };
}

export type AggregatorMetrics = ReturnType<typeof createAggregatorMetrics>;
