/**
 * Entry point of the query service: the HTTP API of SPEC §5 on HTTP_PORT (default 3000),
 * bound to HTTP_HOST (default 127.0.0.1; set 0.0.0.0 in a container).
 */
import { loadConfig } from '../../libs/config/config.js';
import { createLogger } from '../../libs/log/logger.js';
import { createKafka } from '../../libs/kafka/client.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { createEventCodec, createSchemaRegistry } from '../../libs/events/codec.js';
import { topicNames } from '../../libs/events/topics.js';
import { createPool, createRedis, openAll } from '../../libs/runtime/connections.js';
import { onShutdown } from '../../libs/runtime/shutdown.js';
import { buildApp } from './app.js';
import { warmUp } from './warm-up.js';

const config = loadConfig();
const log = createLogger({ name: 'query-service', level: config.logLevel });
// QUERY_DB_CONNECTIONS, kept open and opened before listening: a burst of requests must not wait for connections (openAll).
const pool = createPool(config, log, config.http.dbConnections, { statementTimeoutMs: config.http.statementTimeoutMs, applicationName: 'query-service', keep: true });
const redis = createRedis(config, log);
const kafka = createKafka({ ...config.kafka, log });
const topics = topicNames(config.kafka.topicPrefix);
const producer = createEventProducer({ kafka, codec: createEventCodec({ registry: createSchemaRegistry(config), topics }), topics });
const kafkaAdmin = kafka.admin();
const app = await buildApp({ config, log, pool, redis, producer, kafkaAdmin });

onShutdown(log, async () => {
  await app.close();
  await producer.disconnect();
  await kafkaAdmin.disconnect();
  await pool.end();
  redis.disconnect();
});

await redis.connect().catch((err: unknown) => log.warn({ err }, 'redis not reachable yet; rate limits hold per process until it is'));
// Kafka is needed only to accept webhook events; reads work while it is away.
void Promise.all([producer.connect(), kafkaAdmin.connect()]).catch((err: unknown) => log.warn({ err }, 'kafka not reachable yet'));
await openAll(pool, config.http.dbConnections, log);
// QUERY_WARMUP_REQUESTS per read route answered to itself first, over every connection (warm-up.ts).
await warmUp({ config, log, pool, redis, producer, kafkaAdmin }, { requestsPerRoute: config.http.warmUpRequests, concurrency: 2 * config.http.dbConnections }).then(
  (report) => {
    const failed = Object.entries(report.answered).filter(([, statuses]) => Object.keys(statuses).some((s) => Number(s) >= 500));
    if (failed.length > 0) log.warn({ answered: Object.fromEntries(failed) }, 'warm-up: some routes failed');
    log.info(report, report.skipped ? `warm-up skipped: ${report.skipped}` : `warm-up: ${report.requests} requests in ${report.seconds} s`);
  },
  (err: unknown) => log.warn({ err }, 'warm-up failed; listening without it'),
);
const address = await app.listen({ port: config.httpPort, host: config.httpHost });
log.info({ address, docs: `${address}/docs` }, 'query service listening');
if (config.auth.usingDevSecret) log.warn({ devJwtSecret: config.auth.jwtSecret }, 'AUTH_JWT_SECRET is not set: tokens are verified with the development secret');
