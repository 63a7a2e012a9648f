/**
 * Provisioning run by `make up`: the database and its migrations, every topic of SPEC §3, and
 * every record schema registered under `<topic>-value`. Idempotent.
 */
import { loadConfig } from '../libs/config/config.js';
import { createLogger } from '../libs/log/logger.js';
import { createKnex, ensureDatabase, migrateLatest } from '../libs/db/knex.js';
import { createKafka } from '../libs/kafka/client.js';
import { provisionTopics } from '../libs/kafka/provision-topics.js';
import { createEventCodec, createSchemaRegistry } from '../libs/events/codec.js';
import { topicNames } from '../libs/events/topics.js';

const config = loadConfig();
const log = createLogger({ name: 'provision', level: config.logLevel });

await ensureDatabase(config.databaseUrl);
const db = createKnex(config.databaseUrl, { min: 0, max: 1 });
try {
  const applied = await migrateLatest(db);
  log.info({ applied }, applied.length ? 'database migrated' : 'database up to date');
} finally {
  await db.destroy();
}

const names = topicNames(config.kafka.topicPrefix);
const created = await provisionTopics(createKafka({ ...config.kafka, log }), names, {
  replicationFactor: config.kafka.replicationFactor,
  retention: { input: config.retention.inputDays, deadLetter: config.retention.deadLetterDays },
});
log.info({ created, retentionDays: config.retention }, created.length ? 'topics created, retention applied' : 'topics present, retention applied');

const ids = await createEventCodec({ registry: createSchemaRegistry(config), topics: names }).registerAll();
log.info({ schemas: Object.fromEntries(ids) }, 'schemas registered');
