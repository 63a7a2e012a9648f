import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createPartitionMetrics } from '../../libs/observability/partition-metrics.js';

export function createIngestMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'ingest_' });
  return {
    registry,
    eventsIn: new Counter({ name: 'ingest_events_in_total', help: 'Records consumed, by input topic', labelNames: ['topic'], registers: [registry] }),
    eventsOut: new Counter({ name: 'ingest_events_out_total', help: 'ReferralEventRecorded published, by stage and kind (event or retraction)', labelNames: ['stage', 'kind'], registers: [registry] }),
    retractions: new Counter({ name: 'ingest_decisions_revised_total', help: 'Published decisions retracted because a later fact changed them', registers: [registry] }),
    duplicates: new Counter({ name: 'ingest_duplicates_dropped_total', help: 'Duplicate deliveries dropped, by topic and the layer that caught them', labelNames: ['topic', 'layer'], registers: [registry] }),
    bots: new Counter({ name: 'ingest_bot_clicks_total', help: 'Clicks from bots and link-preview fetchers (kept, never counted)', registers: [registry] }),
    reinstalls: new Counter({ name: 'ingest_reinstalls_total', help: 'Installs from a device that had installed before: kept as touches, never counted as installs again', registers: [registry] }),
    rejected: new Counter({ name: 'ingest_clicks_rejected_total', help: 'Clicks not counted: link expired, revoked, or not known (yet)', labelNames: ['reason'], registers: [registry] }),
    deadLetters: new Counter({ name: 'ingest_dead_letters_total', help: 'Records sent to the dead-letter topic, by source topic', labelNames: ['topic'], registers: [registry] }),
    batchFailures: new Counter({
      name: 'ingest_batch_failures_total',
      help: 'Attempts at a batch that failed (Postgres, Redis or Kafka away), by topic and partition: the partition pauses and the same batch is tried again, nothing skipped',
      labelNames: ['topic', 'partition'],
      registers: [registry],
    }),
    batchSeconds: new Histogram({ name: 'ingest_batch_duration_seconds', help: 'Time to apply and commit one batch', labelNames: ['topic'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    lag: new Gauge({ name: 'ingest_consumer_lag', help: 'Messages behind the high watermark after the last batch', labelNames: ['topic', 'partition'], registers: [registry] }),
    outboxOldestSeconds: new Gauge({
      name: 'ingest_outbox_oldest_seconds',
      help: "Age of the oldest committed transaction whose referral events the broker has not acknowledged (0: none): over a minute, the worker's readiness fails",
      registers: [registry],
    }),
    /** Per partition: stalled, stopped (a position the topic no longer has), seconds without progress. */
    partitions: createPartitionMetrics(registry, 'ingest'),
  };
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
