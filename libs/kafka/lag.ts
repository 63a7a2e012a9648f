import type { Admin } from 'kafkajs';

export interface PartitionLag {
  topic: string;
  partition: number;
  /** The group's committed offset, or null when it has committed none. */
  committed: string | null;
  end: string;
  lag: number;
}

/** How far a consumer group is behind the end of each partition of its topics. */
export async function consumerLag(admin: Admin, groupId: string, topics: string[]): Promise<PartitionLag[]> {
  const committed = await admin.fetchOffsets({ groupId, topics });
  const rows: PartitionLag[] = [];
  for (const topic of topics) {
    const ends = await admin.fetchTopicOffsets(topic);
    const mine = committed.find((c) => c.topic === topic)?.partitions ?? [];
    for (const p of ends.sort((a, b) => a.partition - b.partition)) {
      const c = mine.find((m) => m.partition === p.partition)?.offset;
      const has = c !== undefined && c !== '-1';
      const from = has ? BigInt(c) : BigInt(p.low);
      rows.push({ topic, partition: p.partition, committed: has ? c : null, end: p.high, lag: Math.max(0, Number(BigInt(p.high) - from)) });
    }
  }
  return rows;
}
