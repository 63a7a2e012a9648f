import type { Kafka, ITopicConfig } from 'kafkajs';
import { TOPICS, type TopicKey, type TopicNames } from '../events/topics.js';

/**
 * Creates every topic of the catalogue that does not exist yet, with its partition count and
 * retention/compaction settings. Existing topics are left alone (partitions only ever grow,
 * and that is an operator's decision).
 */
export async function provisionTopics(kafka: Kafka, names: TopicNames, only?: readonly TopicKey[]): Promise<string[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const keys = (only ?? (Object.keys(TOPICS) as TopicKey[])).filter((k) => !existing.has(names[k]));
    const topics: ITopicConfig[] = keys.map((k) => ({
      topic: names[k],
      numPartitions: TOPICS[k].partitions,
      replicationFactor: 1,
      configEntries: Object.entries(TOPICS[k].config).map(([name, value]) => ({ name, value })),
    }));
    if (topics.length > 0) await admin.createTopics({ topics, waitForLeaders: true });
    return topics.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/** Deletes topics by name (tests clean up after themselves). */
export async function deleteTopics(kafka: Kafka, topics: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present });
  } finally {
    await admin.disconnect();
  }
}
