import { z } from 'zod';

/** Development fallbacks for secrets; refused when NODE_ENV=production. */
export const DEV_JWT_SECRET = 'recruitment-dev-jwt-secret-change-me';
export const DEV_VISITOR_HASH_KEY = 'recruitment-dev-visitor-hash-key';

const isValidTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

const url = (protocols: string[]) =>
  z.string().refine((value) => {
    try {
      return protocols.includes(new URL(value).protocol);
    } catch {
      return false;
    }
  }, `must be a URL with protocol ${protocols.join(' or ')}`);

const schema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  KAFKA_BROKERS: z
    .string()
    .default('localhost:9092')
    .transform((s) => s.split(',').map((b) => b.trim()).filter(Boolean))
    .refine((brokers) => brokers.length > 0 && brokers.every((b) => /^[^:\s]+:\d+$/.test(b)), 'must be host:port[,host:port…]'),
  KAFKA_CLIENT_ID: z.string().min(1).default('recruitment-tracking'),
  /** How long the broker waits for a silent group member before handing its partitions on. */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(30_000),
  /** Prepended to every topic name; lets tests and parallel environments share one broker. */
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'may only contain letters, digits, . _ -').default(''),
  SCHEMA_REGISTRY_URL: url(['http:', 'https:']).default('http://localhost:8081/apis/ccompat/v7'),
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@localhost:5432/recruitment'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://localhost:6379'),
  HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  AUTH_JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  AUTH_JWKS_URL: url(['http:', 'https:']).optional(),
  VISITOR_HASH_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  DEFAULT_TIMEZONE: z.string().refine(isValidTimeZone, 'must be an IANA timezone such as Europe/Oslo').default('Europe/Oslo'),
  ATTRIBUTION_WINDOW_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface Config {
  nodeEnv: 'development' | 'test' | 'production';
  kafka: { brokers: string[]; clientId: string; topicPrefix: string; sessionTimeoutMs: number };
  schemaRegistryUrl: string;
  databaseUrl: string;
  redisUrl: string;
  httpPort: number;
  auth: { jwtSecret: string; jwksUrl: string | undefined; usingDevSecret: boolean };
  visitorHashKey: string;
  defaultTimezone: string;
  attributionWindowDays: number;
  logLevel: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Parses the environment once into a typed config with the defaults of SPEC §6.
 * A bad value throws a ConfigError naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings count as unset, as shells and compose files tend to produce them.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.AUTH_JWT_SECRET && !e.AUTH_JWKS_URL) {
    throw new ConfigError('invalid configuration: AUTH_JWT_SECRET: required when NODE_ENV=production (or set AUTH_JWKS_URL)');
  }
  if (production && !e.VISITOR_HASH_KEY) {
    throw new ConfigError('invalid configuration: VISITOR_HASH_KEY: required when NODE_ENV=production');
  }
  return {
    nodeEnv: e.NODE_ENV,
    kafka: { brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID, topicPrefix: e.KAFKA_TOPIC_PREFIX, sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS },
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    httpPort: e.HTTP_PORT,
    auth: { jwtSecret: e.AUTH_JWT_SECRET ?? DEV_JWT_SECRET, jwksUrl: e.AUTH_JWKS_URL, usingDevSecret: !e.AUTH_JWT_SECRET },
    visitorHashKey: e.VISITOR_HASH_KEY ?? DEV_VISITOR_HASH_KEY,
    defaultTimezone: e.DEFAULT_TIMEZONE,
    attributionWindowDays: e.ATTRIBUTION_WINDOW_DAYS,
    logLevel: e.LOG_LEVEL,
  };
}
