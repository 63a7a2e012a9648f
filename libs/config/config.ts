import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Development fallbacks for secrets: used only outside production and while every listener is
 * on loopback (HTTP_HOST, METRICS_HOST); anywhere else a service refuses to start without them.
 */
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

/** Variables that choose an interface a service listens on; all must be loopback for the development secrets. */
export const LISTENER_HOST_VARIABLES = ['HTTP_HOST', 'METRICS_HOST'] as const;

/** Whether a listen address only takes connections from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** Where the workers' operational endpoints listen when METRICS_PORT is unset: one port each, so both run side by side on one machine. */
export const DEFAULT_METRICS_PORTS = { ingestWorker: 9101, aggregatorWorker: 9102 } as const;

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * A web origin as a browser writes it (`Origin` headers, `event.origin`): `http` or `https`, a
 * host name or IP address, a port only when not the scheme's default, nothing after. What an
 * operator writes is compared with what a browser sends, so `https://LMS.example.org:443` is taken
 * as `https://lms.example.org`; anything else (a path, a user, a wildcard, a `;`) is null.
 */
function origin(text: string): string | null {
  if (!/^https?:\/\/[^/\s]+\/?$/i.test(text)) return null;
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    return null;
  }
  if (parsed.username || parsed.password) return null;
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  return HOST_NAME.test(host) || isIP(host) !== 0 ? parsed.origin : null;
}

/** An interface to listen on: a host name or an IP address (IPv6 bracketed or not), without scheme or port. */
const listenHost = z
  .string()
  .min(1)
  .refine((h) => HOST_NAME.test(h) || isIP(h.replace(/^\[(.*)\]$/, '$1')) !== 0, 'must be a host name or an IP address such as 127.0.0.1 or 0.0.0.0 (no scheme, no port)');

const port = z.coerce.number().int().min(0).max(65535);

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
  /**
   * Most bytes a worker fetches at once, over all its partitions: a fetch is applied in (at most
   * two) transactions, so this bounds a transaction's size and the memory a backlog takes.
   */
  KAFKA_FETCH_MAX_BYTES: z.coerce.number().int().min(1_024).max(64 * 1024 * 1024).default(2 * 1024 * 1024),
  /**
   * Fewest bytes a worker's fetch waits for, at most KAFKA_FETCH_MAX_WAIT_MS. A fetch that
   * returns with the first record makes each worker a loop that runs as fast as the machine
   * lets it: at half load it brings a few records per partition, and the workers, Postgres and
   * the broker pay a transaction, a commit and a request for each (bench part 2 at 4,400
   * events/s: 99-103 CPU s a minute with 1 byte, as much as at 8,800). Waiting for 64 kB or
   * 50 ms took that to 77-78 CPU s, for 60-75 ms more freshness p50 (p99 205-812 -> 264-265 ms
   * over the minute); catching up, a fetch fills at once and waits for nothing.
   */
  KAFKA_FETCH_MIN_BYTES: z.coerce.number().int().min(1).max(16 * 1024 * 1024).default(64 * 1024),
  /** Longest a fetch waits for KAFKA_FETCH_MIN_BYTES (and, idle, for anything at all): at most this much is added to freshness per worker. */
  KAFKA_FETCH_MAX_WAIT_MS: z.coerce.number().int().min(10).max(10_000).default(50),
  /**
   * How long a partition with records to read may go without advancing before a worker reports
   * it stalled (error log, metric, failing /readyz). 45 by default: the watch looks every few
   * seconds, so a stall is reported within a minute (SPEC §4), not at 60–65 s.
   */
  PARTITION_STALL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(45),
  /** Copies of every topic partition when provisioning (3 on a real cluster; 1 on the single local broker). */
  KAFKA_REPLICATION_FACTOR: z.coerce.number().int().min(1).max(7).default(1),
  /** The Kafka client's own log level; info or debug to diagnose group and fetch behaviour. */
  KAFKAJS_LOG_LEVEL: z.enum(['error', 'warn', 'info', 'debug']).default('warn'),
  /** Prepended to every topic name; lets tests and parallel environments share one broker. */
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'may only contain letters, digits, . _ -').default(''),
  SCHEMA_REGISTRY_URL: url(['http:', 'https:']).default('http://localhost:8081/apis/ccompat/v7'),
  // Encrypted and authenticated Kafka and registry (managed clusters: SASL over TLS). Checked together in kafkaSecurityOf().
  /** `true` for TLS trusting the system's CAs, or the path of a PEM file of CA certificates to trust instead; unset or `false` for plaintext. */
  KAFKA_SSL: z.string().optional(),
  KAFKA_SASL_MECHANISM: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(['plain', 'scram-sha-256', 'scram-sha-512'], { message: 'must be plain, scram-sha-256 or scram-sha-512' }))
    .optional(),
  KAFKA_SASL_USERNAME: z.string().optional(),
  KAFKA_SASL_PASSWORD: z.string().optional(),
  SCHEMA_REGISTRY_USERNAME: z.string().optional(),
  SCHEMA_REGISTRY_PASSWORD: z.string().optional(),
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@localhost:5432/recruitment'),
  REDIS_URL: url(['redis:', 'rediss:']).default('redis://localhost:6379'),
  HTTP_PORT: port.default(3000),
  /** The query service's listen address (0.0.0.0 in a container: then the secrets must be set). */
  HTTP_HOST: listenHost.default('127.0.0.1'),
  /** The workers' operational endpoints' listen address. */
  METRICS_HOST: listenHost.default('127.0.0.1'),
  /** The port of a worker's operational endpoints (0: any free one); unset, each worker's own (DEFAULT_METRICS_PORTS). */
  METRICS_PORT: port.optional(),
  AUTH_JWT_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  AUTH_JWKS_URL: url(['http:', 'https:']).optional(),
  /** Checked against the token's iss / aud claims when set (required in production with a JWKS). */
  AUTH_JWT_ISSUER: z.string().optional(),
  AUTH_JWT_AUDIENCE: z.string().optional(),
  /** The oldest a token may be (from its iat), whatever its exp says. */
  AUTH_TOKEN_MAX_AGE_HOURS: z.coerce.number().positive().max(24 * 365).default(24),
  /** Origins allowed to call the API from a browser, comma-separated; none by default. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean).map((o) => (o === '*' ? o : origin(o))))
    .refine((origins) => origins.every((o) => o !== null), 'must be origins such as https://app.example.org, comma-separated'),
  /**
   * Origins of the apps that may frame the dashboard and hand it a token by postMessage,
   * comma-separated; none by default. Never `*`, and independent of CORS_ORIGINS.
   */
  DASHBOARD_EMBED_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').map((o) => o.trim()).filter(Boolean).map(origin))
    .refine((origins) => origins.every((o) => o !== null), 'must be origins such as https://app.example.org, comma-separated (no *)'),
  /** The longest a query of one request may run (the query service answers 503 past it). */
  QUERY_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(2_000),
  /**
   * The query service's connections to Postgres: how many of its queries run at once (the rest
   * wait in the process). A few per Postgres core: more only adds connections that a burst
   * finds cold and queries that contend for the same cores (README, Performance).
   */
  QUERY_DB_CONNECTIONS: z.coerce.number().int().min(1).max(200).default(8),
  /**
   * Memory the query service may give to answers it keeps until their numbers change (MiB; 0
   * turns the cache off). See services/query-service/answer-cache.ts.
   */
  ANSWER_CACHE_MB: z.coerce.number().int().min(0).max(4_096).default(32),
  /**
   * Requests per route the query service answers to itself before it listens (0: none), over
   * every connection of its pool, so that the first requests it takes find its code compiled
   * and its connections warm (services/query-service/warm-up.ts).
   */
  QUERY_WARMUP_REQUESTS: z.coerce.number().int().min(0).max(10_000).default(150),
  /** How far from now a webhook event's time may lie: older than the age, or ahead by more than the skew, is refused. */
  WEBHOOK_MAX_EVENT_AGE_HOURS: z.coerce.number().int().min(1).max(24 * 365).default(72),
  WEBHOOK_MAX_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(86_400).default(300),
  VISITOR_HASH_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  DEFAULT_TIMEZONE: z.string().refine(isValidTimeZone, 'must be an IANA timezone such as Europe/Oslo').default('Europe/Oslo'),
  ATTRIBUTION_WINDOW_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Retention and fair use (SPEC §4 "Retention", §6; issue 20).
  /** Days the input topics (and referral-events) keep their records; links and scopes are compacted and kept. */
  INPUT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** Days the dead-letter topic keeps refused records (original bytes, personal data included). */
  DEAD_LETTER_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(14),
  /** Cost units per minute per identity (a request costs 1, a ranged one more: services/query-service/fair-use.ts). */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(10_000_000).default(1200),
  /** Requests one identity, and one organization, may have in flight in one query-service process (429 beyond). */
  RATE_LIMIT_IN_FLIGHT_PER_IDENTITY: z.coerce.number().int().min(1).max(10_000).default(4),
  RATE_LIMIT_IN_FLIGHT_PER_ORG: z.coerce.number().int().min(1).max(10_000).default(8),
  /** Requests one query-service process has in flight, all callers together (503 beyond): what bounds its memory under overload. */
  RATE_LIMIT_IN_FLIGHT_TOTAL: z.coerce.number().int().min(1).max(100_000).default(1_000),
});

export interface Config {
  nodeEnv: 'development' | 'test' | 'production';
  kafka: {
    brokers: string[]; clientId: string; topicPrefix: string; sessionTimeoutMs: number; fetchMaxBytes: number; fetchMinBytes: number; fetchMaxWaitMs: number; replicationFactor: number; clientLogLevel: 'error' | 'warn' | 'info' | 'debug';
    partitionStallMs: number;
    /** TLS and SASL of every Kafka client (libs/kafka/client.ts turns it into kafkajs options). */
    security: KafkaSecurityConfig;
  };
  schemaRegistryUrl: string;
  /** Basic auth for the schema registry, when it wants it. */
  schemaRegistryAuth: Credentials | undefined;
  databaseUrl: string;
  redisUrl: string;
  httpPort: number;
  httpHost: string;
  /** Where the workers' operational endpoints listen (METRICS_HOST). */
  metricsHost: string;
  /** The port of each worker's operational endpoints: METRICS_PORT when set (0: any free port), else DEFAULT_METRICS_PORTS. */
  metricsPort: { ingestWorker: number; aggregatorWorker: number };
  auth: { jwtSecret: string; jwksUrl: string | undefined; issuer: string | undefined; audience: string | undefined; maxTokenAgeSeconds: number; usingDevSecret: boolean };
  http: { corsOrigins: string[]; embedOrigins: string[]; statementTimeoutMs: number; dbConnections: number; webhookMaxEventAgeHours: number; webhookMaxClockSkewSeconds: number; answerCacheMb: number; warmUpRequests: number };
  visitorHashKey: string;
  defaultTimezone: string;
  attributionWindowDays: number;
  logLevel: string;
  retention: { inputDays: number; deadLetterDays: number };
  fairUse: { requestsPerMinute: number; inFlightPerIdentity: number; inFlightPerOrg: number; inFlightTotal: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** A user name and its password. The password is not enumerable: logging or serializing the object leaves it out. */
export interface Credentials {
  username: string;
  readonly password: string;
}

export interface KafkaSecurityConfig {
  /** false: plaintext; true: TLS trusting the system's CAs; { caFile, ca }: TLS trusting only the CA certificates (PEM) of that file. */
  ssl: false | true | { caFile: string; ca: string };
  sasl: (Credentials & { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512' }) | undefined;
}

function credentials<T extends object>(fields: T, username: string, password: string): T & Credentials {
  return Object.defineProperty({ ...fields, username }, 'password', { value: password, enumerable: false }) as T & Credentials;
}

const problem = (name: string, message: string) => new ConfigError(`invalid configuration: ${name}: ${message}`);

/** TLS, SASL and registry credentials; each inconsistency stops start-up naming its variable, never showing a password. */
function securityOf(e: z.infer<typeof schema>): { security: KafkaSecurityConfig; registryAuth: Credentials | undefined } {
  let ssl: KafkaSecurityConfig['ssl'] = false;
  const sslValue = e.KAFKA_SSL?.trim();
  if (sslValue === 'true') ssl = true;
  else if (sslValue !== undefined && sslValue !== 'false') {
    let ca: string;
    try {
      ca = readFileSync(sslValue, 'utf8');
    } catch (err) {
      throw problem('KAFKA_SSL', `must be true, false or a readable CA file (PEM); ${sslValue}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw problem('KAFKA_SSL', `${sslValue} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    ssl = { caFile: sslValue, ca };
  }
  let sasl: KafkaSecurityConfig['sasl'];
  if (e.KAFKA_SASL_MECHANISM) {
    if (!e.KAFKA_SASL_USERNAME) throw problem('KAFKA_SASL_USERNAME', `required with KAFKA_SASL_MECHANISM=${e.KAFKA_SASL_MECHANISM}`);
    if (!e.KAFKA_SASL_PASSWORD) throw problem('KAFKA_SASL_PASSWORD', `required with KAFKA_SASL_MECHANISM=${e.KAFKA_SASL_MECHANISM}`);
    // PLAIN sends the password itself: only over TLS in production.
    if (e.KAFKA_SASL_MECHANISM === 'plain' && ssl === false && e.NODE_ENV === 'production') throw problem('KAFKA_SSL', 'required with KAFKA_SASL_MECHANISM=plain when NODE_ENV=production (PLAIN sends the password as it is)');
    sasl = credentials({ mechanism: e.KAFKA_SASL_MECHANISM }, e.KAFKA_SASL_USERNAME, e.KAFKA_SASL_PASSWORD);
  } else if (e.KAFKA_SASL_USERNAME || e.KAFKA_SASL_PASSWORD) {
    // Credentials that nothing would use are a mistake, not a choice.
    throw problem('KAFKA_SASL_MECHANISM', 'required with KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD (plain, scram-sha-256 or scram-sha-512)');
  }
  let registryAuth: Credentials | undefined;
  if (e.SCHEMA_REGISTRY_USERNAME || e.SCHEMA_REGISTRY_PASSWORD) {
    if (!e.SCHEMA_REGISTRY_USERNAME) throw problem('SCHEMA_REGISTRY_USERNAME', 'required with SCHEMA_REGISTRY_PASSWORD');
    if (!e.SCHEMA_REGISTRY_PASSWORD) throw problem('SCHEMA_REGISTRY_PASSWORD', 'required with SCHEMA_REGISTRY_USERNAME');
    // Basic auth over http shows the password to the network.
    if (e.NODE_ENV === 'production' && !e.SCHEMA_REGISTRY_URL.startsWith('https:')) throw problem('SCHEMA_REGISTRY_URL', 'must be https with SCHEMA_REGISTRY_PASSWORD when NODE_ENV=production');
    registryAuth = credentials({}, e.SCHEMA_REGISTRY_USERNAME, e.SCHEMA_REGISTRY_PASSWORD);
  }
  return { security: { ssl, sasl }, registryAuth };
}

/** The environment's variable names, for a process whose defaults differ from the services' (the CLI logs less). */
export type ConfigDefaults = Partial<Record<keyof z.input<typeof schema>, string>>;

/**
 * Parses the environment once into a typed config with the defaults of SPEC §6, or `defaults`
 * where given (checked as the environment's values are). A bad value throws a ConfigError
 * naming the variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, defaults: ConfigDefaults = {}): Config {
  // Empty strings count as unset, as shells and compose files tend to produce them.
  const given = (vars: Record<string, string | undefined>) => Object.entries(vars).filter(([, v]) => v !== undefined && v !== '');
  const present = Object.fromEntries([...given(defaults), ...given(env)]);
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  // The development secrets are printed in the README: only a service nobody else can reach may use them.
  const exposed = LISTENER_HOST_VARIABLES.filter((name) => !isLoopbackHost(e[name]));
  const why = production ? 'NODE_ENV=production' : exposed.map((name) => `${name}=${e[name]} is beyond loopback`).join(' and ');
  const missing: string[] = [];
  if ((production || exposed.length > 0) && !e.AUTH_JWT_SECRET && !e.AUTH_JWKS_URL) missing.push(`AUTH_JWT_SECRET: required when ${why} (or set AUTH_JWKS_URL); the development secret is public`);
  if ((production || exposed.length > 0) && !e.VISITOR_HASH_KEY) missing.push(`VISITOR_HASH_KEY: required when ${why}; the development key is public`);
  if (missing.length > 0) throw new ConfigError(`invalid configuration: ${missing.join('; ')}`);
  // In production a secret must be worth its name: 32 bytes at least (HS256 keys are 256 bits).
  for (const [name, value] of [['AUTH_JWT_SECRET', e.AUTH_JWT_SECRET], ['VISITOR_HASH_KEY', e.VISITOR_HASH_KEY]] as const) {
    if (production && value !== undefined && Buffer.byteLength(value) < 32) throw new ConfigError(`invalid configuration: ${name}: must be at least 32 bytes when NODE_ENV=production`);
  }
  // A token for another application of the same issuer or secret must not open this one.
  if (production && !e.AUTH_JWT_AUDIENCE) throw new ConfigError('invalid configuration: AUTH_JWT_AUDIENCE: required when NODE_ENV=production');
  // Keys from an identity provider also sign tokens for its other applications: say which are ours.
  if (production && e.AUTH_JWKS_URL && !e.AUTH_JWT_ISSUER) throw new ConfigError('invalid configuration: AUTH_JWT_ISSUER: required when NODE_ENV=production and AUTH_JWKS_URL is set');
  // Keys fetched in clear could be swapped on the way.
  if (production && e.AUTH_JWKS_URL && new URL(e.AUTH_JWKS_URL).protocol !== 'https:') throw new ConfigError('invalid configuration: AUTH_JWKS_URL: must be https when NODE_ENV=production');
  const { security, registryAuth } = securityOf(e);
  return {
    nodeEnv: e.NODE_ENV,
    kafka: {
      brokers: e.KAFKA_BROKERS, clientId: e.KAFKA_CLIENT_ID, topicPrefix: e.KAFKA_TOPIC_PREFIX, sessionTimeoutMs: e.KAFKA_SESSION_TIMEOUT_MS,
      fetchMaxBytes: e.KAFKA_FETCH_MAX_BYTES, fetchMinBytes: e.KAFKA_FETCH_MIN_BYTES, fetchMaxWaitMs: e.KAFKA_FETCH_MAX_WAIT_MS, replicationFactor: e.KAFKA_REPLICATION_FACTOR, clientLogLevel: e.KAFKAJS_LOG_LEVEL,
      partitionStallMs: e.PARTITION_STALL_SECONDS * 1000,
      security,
    },
    schemaRegistryUrl: e.SCHEMA_REGISTRY_URL.replace(/\/+$/, ''),
    schemaRegistryAuth: registryAuth,
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    httpPort: e.HTTP_PORT,
    httpHost: e.HTTP_HOST,
    metricsHost: e.METRICS_HOST,
    metricsPort: { ingestWorker: e.METRICS_PORT ?? DEFAULT_METRICS_PORTS.ingestWorker, aggregatorWorker: e.METRICS_PORT ?? DEFAULT_METRICS_PORTS.aggregatorWorker },
    auth: {
      jwtSecret: e.AUTH_JWT_SECRET ?? DEV_JWT_SECRET, jwksUrl: e.AUTH_JWKS_URL, issuer: e.AUTH_JWT_ISSUER, audience: e.AUTH_JWT_AUDIENCE,
      maxTokenAgeSeconds: Math.round(e.AUTH_TOKEN_MAX_AGE_HOURS * 3600),
      // With a JWKS the secret is never used, so the development one is not in play either.
      usingDevSecret: !e.AUTH_JWT_SECRET && !e.AUTH_JWKS_URL,
    },
    http: {
      corsOrigins: e.CORS_ORIGINS, embedOrigins: e.DASHBOARD_EMBED_ORIGINS, statementTimeoutMs: e.QUERY_STATEMENT_TIMEOUT_MS, dbConnections: e.QUERY_DB_CONNECTIONS,
      webhookMaxEventAgeHours: e.WEBHOOK_MAX_EVENT_AGE_HOURS, webhookMaxClockSkewSeconds: e.WEBHOOK_MAX_CLOCK_SKEW_SECONDS, answerCacheMb: e.ANSWER_CACHE_MB, warmUpRequests: e.QUERY_WARMUP_REQUESTS,
    },
    visitorHashKey: e.VISITOR_HASH_KEY ?? DEV_VISITOR_HASH_KEY,
    defaultTimezone: e.DEFAULT_TIMEZONE,
    attributionWindowDays: e.ATTRIBUTION_WINDOW_DAYS,
    logLevel: e.LOG_LEVEL,
    retention: { inputDays: e.INPUT_RETENTION_DAYS, deadLetterDays: e.DEAD_LETTER_RETENTION_DAYS },
    fairUse: { requestsPerMinute: e.RATE_LIMIT_PER_MINUTE, inFlightPerIdentity: e.RATE_LIMIT_IN_FLIGHT_PER_IDENTITY, inFlightPerOrg: e.RATE_LIMIT_IN_FLIGHT_PER_ORG, inFlightTotal: e.RATE_LIMIT_IN_FLIGHT_TOTAL },
  };
}
