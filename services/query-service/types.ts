import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, RawServerDefault } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Admin } from '../../libs/kafka/client.js';
import type { Config } from '../../libs/config/config.js';
import type { Logger } from '../../libs/log/logger.js';
import type { EventProducer } from '../../libs/kafka/event-producer.js';

/** What the query service is built from (app.ts builds, main.ts and tests provide). */
export interface QueryServiceDeps {
  config: Config;
  log: Logger;
  pool: Pool;
  redis: Redis;
  producer: EventProducer;
  kafkaAdmin: Admin;
  /** Cost units per minute per identity or address (default config.fairUse.requestsPerMinute, RATE_LIMIT_PER_MINUTE). */
  rateLimitPerMinute?: number;
  /** The built dashboard to serve under /dashboard/ (default dashboard/dist of this checkout). */
  dashboardDir?: string;
  /**
   * Whether the app's /metrics gives the process' own figures (prom-client's default metrics:
   * memory, event-loop delay, GC), default true. A second app in the same process (the
   * warm-up's) leaves them out: their collectors cannot be stopped, so they would keep running
   * after that app closed, and the process' figures are the serving app's to give.
   */
  processMetrics?: boolean;
}

/** The Fastify app with the TypeBox type provider, as routes see it. */
export type App = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, TypeBoxTypeProvider>;
