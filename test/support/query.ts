import type { TestEnv } from './env.js';
import { createPool, createRedis } from '../../libs/runtime/connections.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { mintToken, type TokenRole } from '../../libs/auth/tokens.js';
import { buildApp } from '../../services/query-service/app.js';

/** The query service app on the test env's database and topics, for app.inject(). */
export async function startQueryApp(env: TestEnv, options: { rateLimitPerMinute?: number; databaseUrl?: string } = {}) {
  const pool = createPool(options.databaseUrl ? { ...env.config, databaseUrl: options.databaseUrl } : env.config, env.log, 6);
  const redis = createRedis(env.config, env.log);
  await redis.connect();
  const producer = createEventProducer(env);
  const kafkaAdmin = env.kafka.admin();
  await Promise.all([producer.connect(), kafkaAdmin.connect()]);
  const app = await buildApp({ config: env.config, log: env.log, pool, redis, producer, kafkaAdmin, rateLimitPerMinute: options.rateLimitPerMinute ?? 1_000_000 });
  return {
    app,
    pool,
    token: (role: TokenRole, sub: string, org?: string | null) => mintToken({ role, sub, org: org ?? null }, env.config.auth.jwtSecret),
    async close() {
      await app.close();
      await producer.disconnect();
      await kafkaAdmin.disconnect();
      await pool.end();
      redis.disconnect();
    },
  };
}

export type QueryApp = Awaited<ReturnType<typeof startQueryApp>>;
