/**
 * Entry point of the ingest worker. Consumes the input topics of SPEC §3, writes facts to
 * Postgres, publishes recruitment.referral-events.v1. Operational endpoints on METRICS_HOST (default 127.0.0.1) and METRICS_PORT
 * (default 9101).
 */
import { loadConfig } from '../../libs/config/config.js';
import { createLogger } from '../../libs/log/logger.js';
import { createKafka } from '../../libs/kafka/client.js';
import { createEventCodec, createSchemaRegistry } from '../../libs/events/codec.js';
import { topicNames } from '../../libs/events/topics.js';
import { createPool, createRedis, warnIfAutovacuumOff, WORKER_CONNECTION_LIFETIME_S } from '../../libs/runtime/connections.js';
import { onShutdown } from '../../libs/runtime/shutdown.js';
import { createWorkerHttp } from '../../libs/observability/worker-http.js';
import { createWorkerReadiness } from '../../libs/observability/readiness.js';
import { createIngestWorker } from './ingest-worker.js';

const config = loadConfig();
const log = createLogger({ name: 'ingest-worker', level: config.logLevel });
const pool = createPool(config, log, 10, { applicationName: 'ingest-worker', maxLifetimeSeconds: WORKER_CONNECTION_LIFETIME_S, worker: true });
const redis = createRedis(config, log);
const kafka = createKafka({ ...config.kafka, log });
const topics = topicNames(config.kafka.topicPrefix);
const codec = createEventCodec({ registry: createSchemaRegistry(config), topics });
const worker = createIngestWorker({ config, log, pool, redis, kafka, codec, topics });

const readiness = createWorkerReadiness({
  pool, redis, kafka, registryUrl: config.schemaRegistryUrl, registryAuth: config.schemaRegistryAuth, reads: worker.reads, writes: worker.writes, member: () => worker.member,
  partitions: worker.partitionProblem,
  outbox: worker.outboxProblem,
});
const http = createWorkerHttp({ host: config.metricsHost, port: config.metricsPort.ingestWorker, registry: worker.metrics.registry, log, ready: readiness.problem });

onShutdown(log, async () => {
  await worker.close();
  await http.close();
  await readiness.close();
  await pool.end();
  redis.disconnect();
});

await redis.connect().catch((err: unknown) => log.warn({ err }, 'redis not reachable yet; batches will wait for it'));
await http.start();
void warnIfAutovacuumOff(pool, log);
await worker.start();
