import type { Admin, Kafka, ITopicConfig } from 'kafkajs';
import { TOPICS, topicConfig, type RetentionDays, type TopicKey, type TopicNames } from '../events/topics.js';

/** kafkajs' ConfigSource for a setting made on the topic itself (DYNAMIC_TOPIC_CONFIG). */
const TOPIC_SOURCE = 1;

/**
 * Creates every topic of the catalogue that does not exist yet, with its partition count and
 * retention/compaction settings, replicated `replicationFactor` times (with three copies or
 * more, a write needs two in sync: min.insync.replicas=2). On topics that exist already it
 * applies the catalogue's settings too (retention.ms from `retention`, SPEC §4 "Retention"),
 * keeping any other setting an operator made on the topic; partitions only ever grow, and
 * that is an operator's decision. Answers the topics created.
 */
export async function provisionTopics(
  kafka: Kafka,
  names: TopicNames,
  options: { only?: readonly TopicKey[]; replicationFactor?: number; retention?: RetentionDays } = {},
): Promise<string[]> {
  const { only, replicationFactor = 1, retention } = options;
  const durability: Record<string, string> = replicationFactor >= 3 ? { 'min.insync.replicas': '2' } : {};
  const wanted = (k: TopicKey) => ({ ...topicConfig(k, retention), ...durability });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const keys = only ?? (Object.keys(TOPICS) as TopicKey[]);
    const topics: ITopicConfig[] = keys.filter((k) => !existing.has(names[k])).map((k) => ({
      topic: names[k],
      numPartitions: TOPICS[k].partitions,
      replicationFactor,
      configEntries: Object.entries(wanted(k)).map(([name, value]) => ({ name, value })),
    }));
    if (topics.length > 0) {
      await admin.createTopics({ topics, waitForLeaders: false });
      await waitForLeaders(admin, topics.map((t) => t.topic));
    }
    await applyTopicConfigs(admin, keys.filter((k) => existing.has(names[k])).map((k) => ({ topic: names[k], config: wanted(k) })));
    return topics.map((t) => t.topic);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Sets the given settings on existing topics, keeping their other topic-level settings:
 * kafkajs has only the (replacing) AlterConfigs, so the topic's own settings are read first
 * and sent back with ours. Topics already as wanted are left alone.
 */
async function applyTopicConfigs(admin: Admin, wanted: { topic: string; config: Record<string, string> }[]): Promise<void> {
  if (wanted.length === 0) return;
  const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: wanted.map((w) => ({ type: 2, name: w.topic })) });
  const changes = wanted.flatMap(({ topic, config }) => {
    const entries = resources.find((r) => r.resourceName === topic)?.configEntries ?? [];
    const own = Object.fromEntries(entries.filter((e) => e.configSource === TOPIC_SOURCE && !e.isSensitive).map((e) => [e.configName, e.configValue]));
    const current = Object.fromEntries(entries.map((e) => [e.configName, e.configValue]));
    if (Object.entries(config).every(([name, value]) => current[name] === value)) return [];
    return [{ type: 2, name: topic, configEntries: Object.entries({ ...own, ...config }).map(([name, value]) => ({ name, value })) }];
  });
  if (changes.length > 0) await admin.alterConfigs({ validateOnly: false, resources: changes });
}

/**
 * Waits until every partition of the new topics has a leader. kafkajs' own waitForLeaders
 * fails on the transient UNKNOWN_TOPIC_OR_PARTITION a broker answers while it creates them.
 */
async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics });
      if (meta.length === topics.length && meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics have no leaders after ${timeoutMs} ms: ${topics.join(', ')}`);
    await new Promise((r) => setTimeout(r, 100));
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

/** What is wrong with the topics of the catalogue on the broker: missing, too few partitions, wrong cleanup policy. */
export async function checkTopics(kafka: Kafka, names: TopicNames): Promise<{ topic: string; problem: string | null; partitions: number }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const keys = Object.keys(TOPICS) as TopicKey[];
    const present = keys.filter((k) => existing.has(names[k]));
    const meta = present.length ? (await admin.fetchTopicMetadata({ topics: present.map((k) => names[k]) })).topics : [];
    const configs = present.length
      ? (await admin.describeConfigs({ includeSynonyms: false, resources: present.map((k) => ({ type: 2, name: names[k], configNames: ['cleanup.policy'] })) })).resources
      : [];
    return keys.map((k) => {
      const spec = TOPICS[k];
      const partitions = meta.find((t) => t.name === names[k])?.partitions.length ?? 0;
      if (!existing.has(names[k])) return { topic: names[k], problem: 'missing (run: recruitment topics create)', partitions };
      if (partitions < spec.partitions) return { topic: names[k], problem: `${partitions} partitions, expected at least ${spec.partitions}`, partitions };
      const policy = configs.find((r) => r.resourceName === names[k])?.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue;
      const wanted = (spec.config as Record<string, string>)['cleanup.policy'] ?? 'delete';
      if (policy && policy !== wanted) return { topic: names[k], problem: `cleanup.policy ${policy}, expected ${wanted}`, partitions };
      return { topic: names[k], problem: null, partitions };
    });
  } finally {
    await admin.disconnect();
  }
}
