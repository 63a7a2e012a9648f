import { connect } from 'node:net';
import type { Admin, Kafka } from 'kafkajs';
import { reconnectingAdmin } from './client.js';

export interface KafkaReadinessOptions {
  kafka: Kafka;
  /** Topics the worker consumes: every partition needs a leader this process can reach. */
  reads: string[];
  /** Topics it publishes to: a reachable leader, and enough copies in sync for an acks=all write. */
  writes: string[];
  /** How long a connection attempt to one broker may take (default 1 s). */
  connectTimeoutMs?: number;
}

/** Opens (and closes) a TCP connection: can this process reach the broker right now? */
function reachable(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * What stands between a worker and its brokers, as readiness sees it: a partition it reads or
 * writes without a leader, a leader it cannot connect to (a broker just killed is still named
 * leader until the controller fences it), or a partition it writes with fewer copies in sync
 * than the topic's min.insync.replicas (an acks=all write there fails). Asked of the cluster
 * afresh each time: a client of its own, reconnected after any failure, so cached metadata
 * never hides a dead broker.
 */
export function createKafkaReadiness(options: KafkaReadinessOptions) {
  const { kafka, reads, writes } = options;
  const timeoutMs = options.connectTimeoutMs ?? 1_000;
  const admin = reconnectingAdmin(kafka, { retries: 0 });
  const minInSync = new Map<string, number>();

  /** min.insync.replicas of the written topics (asked once; it changes only by an operator's hand). */
  async function inSyncNeeded(a: Admin): Promise<Map<string, number>> {
    const missing = writes.filter((t) => !minInSync.has(t));
    if (missing.length > 0) {
      const { resources } = await a.describeConfigs({ includeSynonyms: false, resources: missing.map((name) => ({ type: 2, name, configNames: ['min.insync.replicas'] })) });
      for (const r of resources) minInSync.set(r.resourceName, Number(r.configEntries.find((e) => e.configName === 'min.insync.replicas')?.configValue ?? 1));
    }
    return minInSync;
  }

  return {
    /** Null when every partition it needs has a reachable leader (and enough in-sync copies to write); else what is wrong. */
    async problem(): Promise<string | null> {
      try {
        return await admin.use(async (a) => {
          const topics = [...new Set([...reads, ...writes])];
          const [{ topics: meta }, { brokers }, needed] = await Promise.all([a.fetchTopicMetadata({ topics }), a.describeCluster(), inSyncNeeded(a)]);
          const problems: string[] = [];
          const leaders = new Set<number>();
          for (const t of meta) {
            for (const p of t.partitions) {
              if (p.leader < 0) problems.push(`${t.name}[${p.partitionId}] has no leader`);
              else leaders.add(p.leader);
              const need = writes.includes(t.name) ? (needed.get(t.name) ?? 1) : 0;
              if (p.isr.length < need) problems.push(`${t.name}[${p.partitionId}] has ${p.isr.length} in-sync copies, a write needs ${need}`);
            }
          }
          const byId = new Map(brokers.map((b) => [b.nodeId, b]));
          await Promise.all(
            [...leaders].map(async (id) => {
              const broker = byId.get(id);
              if (!broker) problems.push(`broker ${id} leads partitions but is not in the cluster`);
              else if (!(await reachable(broker.host, broker.port, timeoutMs))) problems.push(`broker ${id} (${broker.host}:${broker.port}) does not answer`);
            }),
          );
          return problems.length > 0 ? `kafka: ${problems.slice(0, 5).join('; ')}${problems.length > 5 ? ` (and ${problems.length - 5} more)` : ''}` : null;
        });
      } catch (err) {
        return `kafka: ${(err as Error).message}`;
      }
    },
    close: () => admin.close(),
  };
}

export type KafkaReadiness = ReturnType<typeof createKafkaReadiness>;
