import type { TestEnv } from './env.js';
import { createPool, createRedis } from '../../libs/runtime/connections.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { mintToken, type TokenRole } from '../../libs/auth/tokens.js';
import { buildApp } from '../../services/query-service/app.js';

/** The query service app on the test env's database and topics, for app.inject(). */
export async function startQueryApp(env: TestEnv, options: { rateLimitPerMinute?: number; databaseUrl?: string; config?: Partial<TestEnv['config']> } = {}) {
  // Tests that fire requests concurrently get room in flight unless they test the caps (config.fairUse).
  const roomy = { ...env.config.fairUse, inFlightPerIdentity: 1_000, inFlightPerOrg: 1_000 };
  const config = { ...env.config, fairUse: roomy, ...options.config, ...(options.databaseUrl ? { databaseUrl: options.databaseUrl } : {}) };
  const pool = createPool(config, env.log, 6, { statementTimeoutMs: config.http.statementTimeoutMs });
  const redis = createRedis(config, env.log);
  await redis.connect().catch(() => undefined); // a test may point it at a Redis that is down
  const producer = createEventProducer(env);
  const kafkaAdmin = env.kafka.admin();
  await Promise.all([producer.connect(), kafkaAdmin.connect()]);
  const app = await buildApp({ config, log: env.log, pool, redis, producer, kafkaAdmin, rateLimitPerMinute: options.rateLimitPerMinute ?? 1_000_000 });
  return {
    app,
    pool,
    /** What the app was built from (warm-up.ts builds a second app from the same). */
    deps: { config, log: env.log, pool, redis, producer, kafkaAdmin },
    token: (role: TokenRole, sub: string, org?: string | null, orgs?: string[]) => mintToken({ role, sub, org: org ?? null, ...(orgs ? { orgs } : {}) }, config.auth.jwtSecret, '12h', config.auth),
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
