import { Gauge, type Registry } from 'prom-client';
import type { PartitionProgress } from '../kafka/progress-watch.js';

/**
 * The progress of every partition a worker holds, as Prometheus gauges named after the worker
 * (`ingest_partition_stalled`, `aggregator_partition_stopped`, …). Alert on `_stalled == 1`.
 */
export function createPartitionMetrics(registry: Registry, prefix: string) {
  const labelNames = ['topic', 'partition'] as const;
  const stalled = new Gauge({
    name: `${prefix}_partition_stalled`,
    help: 'Partitions with records to read that have not advanced for PARTITION_STALL_SECONDS, or are stopped (1), by topic and partition',
    labelNames,
    registers: [registry],
  });
  const stopped = new Gauge({
    name: `${prefix}_partition_stopped`,
    help: 'Partitions not consumed because their position is one the topic no longer has (1): reset with `recruitment positions reset`',
    labelNames,
    registers: [registry],
  });
  const idle = new Gauge({
    name: `${prefix}_partition_idle_seconds`,
    help: 'Seconds since the partition last advanced while it had records to read (0 while caught up)',
    labelNames,
    registers: [registry],
  });
  return {
    /** Replaces the figures with those of the partitions held now (a partition handed away disappears). */
    update(partitions: PartitionProgress[]): void {
      for (const gauge of [stalled, stopped, idle]) gauge.reset();
      for (const p of partitions) {
        const labels = { topic: p.topic, partition: String(p.partition) };
        stalled.set(labels, p.stalled ? 1 : 0);
        stopped.set(labels, p.stopped ? 1 : 0);
        idle.set(labels, Math.round(p.idleMs / 100) / 10);
      }
    },
  };
}

export type PartitionMetrics = ReturnType<typeof createPartitionMetrics>;
