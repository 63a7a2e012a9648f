import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { inspect } from 'node:util';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_METRICS_PORTS, DEV_JWT_SECRET, loadConfig } from './config.js';

describe('loadConfig', () => {
  it('gives the defaults of SPEC §6 for an empty environment', () => {
    const c = loadConfig({});
    expect(c.kafka.brokers).toEqual(['localhost:9092']);
    expect(c.schemaRegistryUrl).toBe('http://localhost:8081/apis/ccompat/v7');
    expect(c.databaseUrl).toBe('postgres://postgres@localhost:5432/recruitment');
    expect(c.redisUrl).toBe('redis://localhost:6379');
    expect(c.httpPort).toBe(3000);
    expect(c.defaultTimezone).toBe('Europe/Oslo');
    expect(c.attributionWindowDays).toBe(30);
    expect(c.kafka.partitionStallMs).toBe(45_000);
    expect([c.kafka.fetchMaxBytes, c.kafka.fetchMinBytes, c.kafka.fetchMaxWaitMs]).toEqual([2 * 1024 * 1024, 64 * 1024, 50]);
    expect(c.auth.jwtSecret).toBe(DEV_JWT_SECRET);
    expect(c.auth.usingDevSecret).toBe(true);
  });

  it('reads every variable it is given', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'a:1, b:2',
      HTTP_PORT: '8080',
      ATTRIBUTION_WINDOW_DAYS: '7',
      DEFAULT_TIMEZONE: 'America/New_York',
      AUTH_JWT_SECRET: 'x'.repeat(32),
      SCHEMA_REGISTRY_URL: 'http://registry:8081/',
      PARTITION_STALL_SECONDS: '2',
      KAFKA_FETCH_MIN_BYTES: '1',
      KAFKA_FETCH_MAX_WAIT_MS: '250',
    });
    expect(c.kafka.brokers).toEqual(['a:1', 'b:2']);
    expect(c.httpPort).toBe(8080);
    expect(c.attributionWindowDays).toBe(7);
    expect(c.defaultTimezone).toBe('America/New_York');
    expect(c.auth.usingDevSecret).toBe(false);
    expect(c.schemaRegistryUrl).toBe('http://registry:8081');
    expect(c.kafka.partitionStallMs).toBe(2_000);
    expect([c.kafka.fetchMinBytes, c.kafka.fetchMaxWaitMs]).toEqual([1, 250]);
  });

  it.each([
    ['HTTP_PORT', 'eighty'],
    ['ATTRIBUTION_WINDOW_DAYS', '0'],
    ['DEFAULT_TIMEZONE', 'Mars/Olympus'],
    ['KAFKA_BROKERS', 'no-port'],
    ['DATABASE_URL', 'mysql://x'],
    ['LOG_LEVEL', 'loud'],
    ['KAFKA_SESSION_TIMEOUT_MS', '1000'],
    ['PARTITION_STALL_SECONDS', '0'],
    ['KAFKA_FETCH_MIN_BYTES', '0'],
    ['KAFKA_FETCH_MAX_WAIT_MS', '5'],
    ['KAFKA_FETCH_MAX_WAIT_MS', 'soon'],
    ['METRICS_PORT', 'ninety-one-oh-one'],
    ['METRICS_PORT', '65536'],
    ['METRICS_PORT', '-1'],
    ['RATE_LIMIT_PER_MINUTE', '0'],
    ['RATE_LIMIT_PER_MINUTE', 'lots'],
    ['HTTP_HOST', 'http://0.0.0.0'],
    ['HTTP_HOST', '0.0.0.0:3000'],
    ['METRICS_HOST', 'localhost/metrics'],
  ])('a bad %s (%s) stops start-up naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
  });

  it('gives each worker its own metrics port, and both the one METRICS_PORT says (0: any free port)', () => {
    expect(loadConfig({}).metricsPort).toEqual({ ingestWorker: 9101, aggregatorWorker: 9102 });
    expect(loadConfig({}).metricsPort).toEqual(DEFAULT_METRICS_PORTS);
    expect(loadConfig({ METRICS_PORT: '9200' }).metricsPort).toEqual({ ingestWorker: 9200, aggregatorWorker: 9200 });
    expect(loadConfig({ METRICS_PORT: '0' }).metricsPort).toEqual({ ingestWorker: 0, aggregatorWorker: 0 });
  });

  it('reads the query service\'s listen address and rate limit', () => {
    expect(loadConfig({}).fairUse.requestsPerMinute).toBe(1200);
    expect(loadConfig({ RATE_LIMIT_PER_MINUTE: '60' }).fairUse.requestsPerMinute).toBe(60);
    const secrets = { AUTH_JWT_SECRET: 's'.repeat(32), VISITOR_HASH_KEY: 'k'.repeat(32) };
    for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '0.0.0.0', '::', 'query.internal']) expect(loadConfig({ HTTP_HOST: host, ...secrets }).httpHost).toBe(host);
  });

  it('takes a process\'s own defaults, checked like the environment, and the environment over them', () => {
    expect(loadConfig({}, { LOG_LEVEL: 'warn' }).logLevel).toBe('warn');
    expect(loadConfig({ LOG_LEVEL: 'debug' }, { LOG_LEVEL: 'warn' }).logLevel).toBe('debug');
    expect(loadConfig({ LOG_LEVEL: '' }, { LOG_LEVEL: 'warn' }).logLevel).toBe('warn'); // empty is unset
    expect(() => loadConfig({}, { LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('refuses to start in production without the secrets', () => {
    const audience = { AUTH_JWT_AUDIENCE: 'recruitment' };
    expect(() => loadConfig({ NODE_ENV: 'production', VISITOR_HASH_KEY: 'k'.repeat(32), ...audience })).toThrow(/AUTH_JWT_SECRET/);
    expect(() => loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 's'.repeat(32), ...audience })).toThrow(/VISITOR_HASH_KEY/);
    expect(loadConfig({ NODE_ENV: 'production', AUTH_JWT_SECRET: 's'.repeat(32), VISITOR_HASH_KEY: 'k'.repeat(32), ...audience }).nodeEnv).toBe('production');
  });

  // Issue 20 finding 1: HTTP_HOST=0.0.0.0 without NODE_ENV served every interface with the public development secrets.
  it.each([
    ['HTTP_HOST', '0.0.0.0'],
    ['HTTP_HOST', '::'],
    ['HTTP_HOST', '10.1.2.3'],
    ['HTTP_HOST', 'dashboard.example.org'],
    ['METRICS_HOST', '0.0.0.0'],
  ])('with %s=%s (beyond loopback) and no secrets, refuses to start naming each secret', (name, host) => {
    expect(() => loadConfig({ [name]: host })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: host })).toThrow(new RegExp(`AUTH_JWT_SECRET: required when ${name}=`));
    expect(() => loadConfig({ [name]: host, AUTH_JWT_SECRET: 's'.repeat(32) })).toThrow(new RegExp(`VISITOR_HASH_KEY: required when ${name}=`));
    expect(() => loadConfig({ [name]: host, VISITOR_HASH_KEY: 'k'.repeat(32) })).toThrow(/AUTH_JWT_SECRET: required/);
    const c = loadConfig({ [name]: host, AUTH_JWT_SECRET: 's'.repeat(32), VISITOR_HASH_KEY: 'k'.repeat(32) });
    expect(c.auth.usingDevSecret).toBe(false);
  });

  it('keeps the development secrets while every listener is on loopback', () => {
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) {
      const c = loadConfig({ HTTP_HOST: host, METRICS_HOST: host });
      expect(c.auth.usingDevSecret).toBe(true);
      expect(c.httpHost).toBe(host);
    }
    expect(loadConfig({}).httpHost).toBe('127.0.0.1');
  });

  it('in production requires an audience, and https for AUTH_JWKS_URL', () => {
    const ok = { NODE_ENV: 'production', AUTH_JWT_SECRET: 's'.repeat(32), VISITOR_HASH_KEY: 'k'.repeat(32) };
    expect(() => loadConfig(ok)).toThrow(/AUTH_JWT_AUDIENCE: required when NODE_ENV=production/);
    expect(loadConfig({ ...ok, AUTH_JWT_AUDIENCE: 'recruitment' }).auth.audience).toBe('recruitment');
    const jwks = { NODE_ENV: 'production', VISITOR_HASH_KEY: 'k'.repeat(32), AUTH_JWT_ISSUER: 'https://idp.example.org/', AUTH_JWT_AUDIENCE: 'recruitment' };
    expect(() => loadConfig({ ...jwks, AUTH_JWKS_URL: 'http://idp.example.org/jwks.json' })).toThrow(/AUTH_JWKS_URL: must be https when NODE_ENV=production/);
    expect(loadConfig({ ...jwks, AUTH_JWKS_URL: 'https://idp.example.org/jwks.json' }).auth.jwksUrl).toBe('https://idp.example.org/jwks.json');
  });

  it('reads the maximum token age (default 24 hours)', () => {
    expect(loadConfig({}).auth.maxTokenAgeSeconds).toBe(86_400);
    expect(loadConfig({ AUTH_TOKEN_MAX_AGE_HOURS: '2' }).auth.maxTokenAgeSeconds).toBe(7_200);
    expect(() => loadConfig({ AUTH_TOKEN_MAX_AGE_HOURS: '0' })).toThrow(/AUTH_TOKEN_MAX_AGE_HOURS/);
  });

  it('in production refuses secrets shorter than 32 bytes, and a JWKS without issuer and audience', () => {
    const ok = { NODE_ENV: 'production', AUTH_JWT_SECRET: 's'.repeat(32), VISITOR_HASH_KEY: 'k'.repeat(32), AUTH_JWT_AUDIENCE: 'recruitment' };
    expect(() => loadConfig({ ...ok, AUTH_JWT_SECRET: 's'.repeat(31) })).toThrow(/AUTH_JWT_SECRET: must be at least 32 bytes/);
    expect(() => loadConfig({ ...ok, VISITOR_HASH_KEY: 'k'.repeat(20) })).toThrow(/VISITOR_HASH_KEY: must be at least 32 bytes/);
    const jwks = { NODE_ENV: 'production', VISITOR_HASH_KEY: 'k'.repeat(32), AUTH_JWKS_URL: 'https://idp.example.org/jwks.json' };
    expect(() => loadConfig({ ...jwks, AUTH_JWT_AUDIENCE: 'recruitment' })).toThrow(/AUTH_JWT_ISSUER: required/);
    expect(() => loadConfig({ ...jwks, AUTH_JWT_ISSUER: 'https://idp.example.org/' })).toThrow(/AUTH_JWT_AUDIENCE: required/);
    const c = loadConfig({ ...jwks, AUTH_JWT_ISSUER: 'https://idp.example.org/', AUTH_JWT_AUDIENCE: 'recruitment' });
    expect(c.auth).toMatchObject({ issuer: 'https://idp.example.org/', audience: 'recruitment', usingDevSecret: false });
    // Outside production the short development secret still works, and a JWKS alone never means "development secret".
    expect(loadConfig({ AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks.json' }).auth.usingDevSecret).toBe(false);
    expect(loadConfig({}).auth.usingDevSecret).toBe(true);
  });

  it('reads CORS origins, the statement timeout, the webhook time window and the answer cache size', () => {
    const c = loadConfig({ CORS_ORIGINS: 'https://app.example.org, http://localhost:5173', QUERY_STATEMENT_TIMEOUT_MS: '1500', WEBHOOK_MAX_EVENT_AGE_HOURS: '24' });
    expect(c.http).toEqual({ corsOrigins: ['https://app.example.org', 'http://localhost:5173'], embedOrigins: [], statementTimeoutMs: 1500, dbConnections: 8, webhookMaxEventAgeHours: 24, webhookMaxClockSkewSeconds: 300, answerCacheMb: 32, warmUpRequests: 150 });
    expect(loadConfig({ ANSWER_CACHE_MB: '0' }).http.answerCacheMb).toBe(0);
    expect(() => loadConfig({ ANSWER_CACHE_MB: '-1' })).toThrow(/ANSWER_CACHE_MB/);
    expect(() => loadConfig({ CORS_ORIGINS: 'app.example.org/path' })).toThrow(/CORS_ORIGINS/);
  });

  it('reads the dashboard embed origins apart from CORS_ORIGINS, and refuses *', () => {
    expect(loadConfig({ CORS_ORIGINS: '*' }).http.embedOrigins).toEqual([]);
    expect(loadConfig({ DASHBOARD_EMBED_ORIGINS: 'https://lms.example.org, http://localhost:5173' }).http.embedOrigins).toEqual(['https://lms.example.org', 'http://localhost:5173']);
    expect(() => loadConfig({ DASHBOARD_EMBED_ORIGINS: '*' })).toThrow(/DASHBOARD_EMBED_ORIGINS/);
    expect(() => loadConfig({ DASHBOARD_EMBED_ORIGINS: 'https://*.example.org' })).toThrow(/DASHBOARD_EMBED_ORIGINS/);
    // Written as a browser sends it, so the page's exact comparison with event.origin matches.
    expect(loadConfig({ DASHBOARD_EMBED_ORIGINS: 'https://LMS.Example.org:443, http://localhost:80/, http://[::1]:5173' }).http.embedOrigins).toEqual(['https://lms.example.org', 'http://localhost', 'http://[::1]:5173']);
    expect(loadConfig({ CORS_ORIGINS: 'HTTPS://App.Example.org:443' }).http.corsOrigins).toEqual(['https://app.example.org']);
    for (const bad of ['https://a;sandbox', 'https://user@lms.example.org', 'https://lms.example.org/path', 'ftp://lms.example.org', 'https://lms example.org', 'https://'])
      expect(() => loadConfig({ DASHBOARD_EMBED_ORIGINS: bad }), bad).toThrow(/DASHBOARD_EMBED_ORIGINS/);
  });
});

describe('loadConfig: Kafka TLS and SASL, registry credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rt-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
  const caFile = join(dir, 'ca.pem');
  writeFileSync(caFile, pem);
  const scram = { KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'pa55-word-secret' };

  it('is plaintext without credentials by default, as the local stack is', () => {
    const c = loadConfig({});
    expect(c.kafka.security).toEqual({ ssl: false, sasl: undefined });
    expect(c.schemaRegistryAuth).toBeUndefined();
    expect(loadConfig({ KAFKA_SSL: 'false' }).kafka.security.ssl).toBe(false);
  });

  it('reads KAFKA_SSL as true or a CA file, and the SASL mechanism in either case', () => {
    expect(loadConfig({ KAFKA_SSL: 'true' }).kafka.security.ssl).toBe(true);
    expect(loadConfig({ KAFKA_SSL: caFile }).kafka.security.ssl).toEqual({ caFile, ca: pem });
    for (const [given, mechanism] of [['plain', 'plain'], ['SCRAM-SHA-256', 'scram-sha-256'], ['scram-sha-512', 'scram-sha-512']] as const) {
      const { sasl } = loadConfig({ ...scram, KAFKA_SASL_MECHANISM: given }).kafka.security;
      expect(sasl).toMatchObject({ mechanism, username: 'svc' });
      expect(sasl?.password).toBe('pa55-word-secret');
    }
    const c = loadConfig({ SCHEMA_REGISTRY_USERNAME: 'key', SCHEMA_REGISTRY_PASSWORD: 'registry-secret' });
    expect(c.schemaRegistryAuth?.username).toBe('key');
    expect(c.schemaRegistryAuth?.password).toBe('registry-secret');
  });

  it.each([
    [{ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'p' }, /KAFKA_SASL_MECHANISM: must be plain, scram-sha-256 or scram-sha-512/],
    [{ KAFKA_SASL_MECHANISM: 'scram-sha-512' }, /KAFKA_SASL_USERNAME: required with KAFKA_SASL_MECHANISM=scram-sha-512/],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'svc' }, /KAFKA_SASL_PASSWORD: required with KAFKA_SASL_MECHANISM=plain/],
    [{ KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'p' }, /KAFKA_SASL_MECHANISM: required with KAFKA_SASL_USERNAME or KAFKA_SASL_PASSWORD/],
    [{ KAFKA_SSL: '/nonexistent/ca.pem' }, /KAFKA_SSL: must be true, false or a readable CA file \(PEM\); \/nonexistent\/ca.pem: ENOENT/],
    [{ KAFKA_SSL: 'yes' }, /KAFKA_SSL: must be true, false or a readable CA file/],
    [{ SCHEMA_REGISTRY_USERNAME: 'key' }, /SCHEMA_REGISTRY_PASSWORD: required with SCHEMA_REGISTRY_USERNAME/],
    [{ SCHEMA_REGISTRY_PASSWORD: 'registry-secret' }, /SCHEMA_REGISTRY_USERNAME: required with SCHEMA_REGISTRY_PASSWORD/],
  ])('%o stops start-up naming the variable', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('refuses a file without a PEM certificate', () => {
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello');
    expect(() => loadConfig({ KAFKA_SSL: notPem })).toThrow(/KAFKA_SSL: .*not\.pem holds no PEM certificate/);
  });

  it('in production refuses PLAIN without TLS and registry credentials over http', () => {
    const ok = { NODE_ENV: 'production', AUTH_JWT_SECRET: 's'.repeat(32), VISITOR_HASH_KEY: 'k'.repeat(32), AUTH_JWT_AUDIENCE: 'recruitment' };
    expect(() => loadConfig({ ...ok, ...scram, KAFKA_SASL_MECHANISM: 'plain' })).toThrow(/KAFKA_SSL: required with KAFKA_SASL_MECHANISM=plain when NODE_ENV=production/);
    expect(loadConfig({ ...ok, ...scram, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SSL: 'true' }).kafka.security.sasl?.mechanism).toBe('plain');
    const registry = { SCHEMA_REGISTRY_USERNAME: 'key', SCHEMA_REGISTRY_PASSWORD: 'registry-secret' };
    expect(() => loadConfig({ ...ok, ...registry })).toThrow(/SCHEMA_REGISTRY_URL: must be https with SCHEMA_REGISTRY_PASSWORD when NODE_ENV=production/);
    expect(loadConfig({ ...ok, ...registry, SCHEMA_REGISTRY_URL: 'https://psrc.example.org' }).schemaRegistryAuth?.username).toBe('key');
  });

  it('never shows a password: not in an error, not when the config is logged or serialized', () => {
    const c = loadConfig({ ...scram, SCHEMA_REGISTRY_USERNAME: 'key', SCHEMA_REGISTRY_PASSWORD: 'registry-secret' });
    const shown = `${JSON.stringify(c)} ${inspect(c, { depth: 10 })}`;
    expect(shown).toContain('svc');
    expect(shown).not.toContain('pa55-word-secret');
    expect(shown).not.toContain('registry-secret');
    for (const env of [{ KAFKA_SASL_MECHANISM: 'kerberos', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'pa55-word-secret' }, { KAFKA_SASL_PASSWORD: 'pa55-word-secret' }, { SCHEMA_REGISTRY_PASSWORD: 'registry-secret' }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      try {
        loadConfig(env);
      } catch (err) {
        expect((err as Error).message).not.toMatch(/pa55-word-secret|registry-secret/);
      }
    }
  });
});
