import type { Admin } from 'kafkajs';
import { describeOutOfRange, positionOutOfRange, type PartitionRange } from './progress-watch.js';

/** Each partition's start (low watermark) and end (high watermark) as the broker has them now. */
export async function topicRanges(admin: Admin, topic: string): Promise<Map<number, PartitionRange>> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return new Map(offsets.map((o) => [o.partition, { low: BigInt(o.low), high: BigInt(o.high) }]));
}

/** A consumer group's committed offsets of a topic's partitions; a partition without one is absent. */
export async function committedOffsets(admin: Admin, groupId: string, topic: string): Promise<Map<number, bigint>> {
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const offsets = new Map<number, bigint>();
  // Negative offsets mean none (-1), or the "earliest" kafkajs commits when it resets a partition (-2).
  for (const p of committed?.partitions ?? []) if (BigInt(p.offset) >= 0n) offsets.set(p.partition, BigInt(p.offset));
  return offsets;
}

export interface PositionReadout {
  topic: string;
  partition: number;
  /** The next offset the consumer reads, or null when it has none (it starts at the partition's start). */
  position: bigint | null;
  low: bigint;
  high: bigint;
  /** What is wrong with the position (beyond the end, below the start), or null. */
  problem: string | null;
}

/** The positions of a topic's partitions against what the partitions hold, in partition order. */
export function readPositions(topic: string, ranges: Map<number, PartitionRange>, positions: Map<number, bigint>): PositionReadout[] {
  return [...ranges]
    .sort(([a], [b]) => a - b)
    .map(([partition, range]) => {
      const position = positions.get(partition) ?? null;
      const lost = position === null ? null : positionOutOfRange(position, range);
      return { topic, partition, position, ...range, problem: lost && describeOutOfRange(lost) };
    });
}

/** Where `positions reset --to` puts a partition. */
export type ResetTo = 'earliest' | 'latest' | bigint;

/** Parses `earliest`, `latest` or an offset; null for anything else. */
export function parseResetTo(value: string): ResetTo | null {
  if (value === 'earliest' || value === 'latest') return value;
  return /^\d+$/.test(value) ? BigInt(value) : null;
}

/** The position a reset gives a partition: its start, its end, or an offset it has (else an error naming the range). */
export function resetTarget(to: ResetTo, range: PartitionRange): bigint {
  if (to === 'earliest') return range.low;
  if (to === 'latest') return range.high;
  if (positionOutOfRange(to, range)) throw new Error(`offset ${to} is not in the partition (it holds ${range.low}..${range.high})`);
  return to;
}

/**
 * Sets a consumer group's committed offsets. Kafka refuses this while the group has members
 * (they would overwrite it with their own commits), so that is checked first, with a message
 * saying so.
 */
export async function setCommittedOffsets(admin: Admin, groupId: string, topic: string, offsets: Map<number, bigint>): Promise<void> {
  if (offsets.size === 0) return;
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0];
  if (group && group.members.length > 0) {
    throw new Error(`consumer group ${groupId} has ${group.members.length} running member(s) (state ${group.state}): stop its workers first, then reset, then start them`);
  }
  await admin.setOffsets({ groupId, topic, partitions: [...offsets].map(([partition, offset]) => ({ partition, offset: offset.toString() })) });
}
