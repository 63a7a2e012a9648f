import { createHmac, randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import helmet from 'helmet';
import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from '@fastify/cors';
import etag from '@fastify/etag';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { createTokenVerifier, type Caller } from './auth.js';
import { authorize, type Grant, type Resource } from './policy.js';
import type { App, QueryServiceDeps } from './types.js';
import { ApiError, errorHandler } from './errors.js';
import { registerRoutes } from './routes.js';
import { addCsvResponses, hoistNamedSchemas } from './openapi.js';
import { DASHBOARD_DIST, registerDashboard } from './dashboard.js';
import { within } from '../../libs/runtime/within.js';
import { ADDRESS_KEYS, addressBlock, createRateLimiter } from './rate-limit-store.js';
import { cached, createInFlight, CSV_LIST_PAGES, requestCost } from './fair-use.js';
import { wantsCsv } from './csv-reply.js';
import { preparedStatements } from '../../libs/db/prepared-statements.js';
import { finiteNumbers } from './schemas.js';
import { createAnswerCache, type AnswerCache } from './answer-cache.js';
import { scopeFacts } from './scope-queries.js';
import { lazyChildLogger } from './request-logger.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** What the route addresses; routes with one need a token and pass authorize() first. */
    resource?: (request: FastifyRequest) => Resource;
    /** A list whose CSV export streams its pages (csv-reply.ts sendCsvList): such an export costs CSV_LIST_PAGES requests (fair-use.ts). */
    csvList?: boolean;
  }
  interface FastifyInstance {
    /** Answers kept until the tables they read change (answer-cache.ts). */
    answers: AnswerCache;
  }
  interface FastifyRequest {
    caller?: Caller;
    grant?: Grant;
    /** The rate-limit bucket: a digest of the verified identity or of the client address. */
    rateKey?: string;
    /** Ends this request's place among the requests in flight (fair use); idempotent. */
    releaseInFlight?: () => void;
  }
}

/**
 * The headers helmet sets with these options, read once by running its middleware on a
 * stand-in response that records them. They depend on the options alone (no directive here is
 * a function of the request), so every reply can be given the same set.
 */
export function securityHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  const response = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failure: unknown;
  helmet(options)({} as IncomingMessage, response as unknown as ServerResponse, (err?: unknown) => (failure = err));
  if (failure) throw failure instanceof Error ? failure : new Error(String(failure));
  return headers;
}

/**
 * The query service as a Fastify app, not listening: main.ts listens, tests inject.
 */
export async function buildApp(deps: QueryServiceDeps): Promise<App> {
  const { config, log, pool, redis } = deps;
  const db = preparedStatements(pool);
  const digest = (text: string) => createHmac('sha256', config.visitorHashKey).update(text).digest('base64url').slice(0, 32);
  const addressKey = (ip: string) => `a:${digest(`address\0${addressBlock(ip)}`)}`;
  // A verified token's Caller is one object for as long as the token is kept verified (auth.ts): its key is computed once.
  const callerKeys = new WeakMap<Caller, string>();
  const callerKey = (c: Caller) => {
    let key = callerKeys.get(c);
    if (key === undefined) callerKeys.set(c, (key = `c:${digest(`caller\0${c.role}\0${c.org ?? ''}\0${c.sub}`)}`));
    return key;
  };
  const verify = createTokenVerifier(config.auth);
  const registry = new Registry();
  if (deps.processMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'query_' });
  const requests = new Counter({ name: 'http_requests_total', help: 'Requests answered, by method, route and status', labelNames: ['method', 'route', 'status'], registers: [registry] });
  const latency = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Request latency, by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  const app = Fastify({
    loggerInstance: log,
    // One line per request from the onResponse hook below: route, status, time; never an address.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.:-]{1,64}$/.test(given) ? given : randomUUID();
    },
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false }, plugins: [finiteNumbers] },
    bodyLimit: 64 * 1024,
    routerOptions: { maxParamLength: 256 },
    // Errors raised by the router itself (a bad URL encoding, an overlong path) answer in our format too.
    frameworkErrors: (err, request, reply) => errorHandler(err, request, reply),
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => reply.status(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } }));

  // Security headers (helmet) on every answer, computed once (securityHeaders): the same
  // headers helmet's middleware sets, given to each reply in one call instead of thirteen
  // middlewares each setting its header on the raw response (a tenth of a cached answer's CPU).
  // No upgrade-insecure-requests: the docs page must load its scripts over plain http on a
  // local machine; behind TLS the browser is on https already.
  const security = securityHeaders({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } });
  app.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(security);
    done();
  });
  // Browsers on the origins of CORS_ORIGINS may call the API (preflight answered). None by
  // default, and then the plugin is not registered at all: with no origin allowed it adds no
  // header and answers no preflight, but still costs every request a hook.
  const origins = config.http.corsOrigins;
  if (origins.length > 0) {
    await app.register(cors, {
      origin: origins.includes('*') ? true : origins,
      methods: ['GET', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'x-request-id', 'if-none-match'],
      exposedHeaders: ['x-request-id', 'etag', 'retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining'],
      maxAge: 600,
    });
  }
  // Read answers carry an ETag; a client that sends it back gets 304 without the body.
  await app.register(etag);
  app.addHook('onSend', async (request, reply, payload) => {
    // An answer about one caller's scope must never sit in a shared cache.
    if (request.routeOptions.url?.startsWith('/v1/')) void reply.header('cache-control', 'private, no-cache');
    return payload;
  });
  // Fair use (issue 20): a sliding-window limit of cost units per identity (a ranged read costs
  // by its span: fair-use.ts), counted and enforced in the process and shared through Redis
  // every 0.1 s (rate-limit-store.ts), so neither a Redis outage lifts it nor a request waits
  // for Redis; and a cap on the requests one identity and one organization have in flight
  // here, so one caller cannot hold every connection of the pool. The limiter has its own Redis
  // connection that fails at once while Redis is away (no offline queue, no retries).
  const limiterRedis = redis.duplicate({ enableOfflineQueue: false, commandTimeout: 1_000, maxRetriesPerRequest: 0, lazyConnect: false });
  limiterRedis.on('error', (err) => log.debug({ err }, 'rate limiter redis error'));
  app.addHook('onClose', async () => limiterRedis.disconnect());
  const fairUse = config.fairUse;
  // Addresses beyond ADDRESS_KEYS at once share one budget (spilt): an unauthenticated flood from ever new addresses cannot grow the heap.
  const limiter = createRateLimiter(limiterRedis, `rt:${config.kafka.topicPrefix}ratelimit:`, {
    max: deps.rateLimitPerMinute ?? fairUse.requestsPerMinute,
    maxKeys: ADDRESS_KEYS,
    spill: (key) => (key.startsWith('a:') ? 'a:spilt' : null),
  });
  const inFlight = createInFlight();
  /** The in-flight key every request counts under (RATE_LIMIT_IN_FLIGHT_TOTAL). */
  const ALL = '*';
  const refusedFairUse = new Counter({ name: 'http_fair_use_refusals_total', help: 'Requests refused 429 by reason (rate, in_flight), or 503 (overloaded)', labelNames: ['reason'], registers: [registry] });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'recruitment-tracking query service', version: '1.0.0', description: 'Referral funnel numbers for mentors, coordinators, org admins and the platform (SPEC §5).' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    // The plugin's document types are narrower than the JSON the function walks; the result is the same document, reshaped.
    transformObject: (documentObject) => addCsvResponses(hoistNamedSchemas('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject)) as never,
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, transformStaticCSP: (header) => header.replace(/\s*upgrade-insecure-requests;?/, '') });
  // The dashboard page, with a stricter CSP of its own; a client of /v1 like any other.
  await registerDashboard(app, { root: deps.dashboardDir ?? DASHBOARD_DIST, embedOrigins: config.http.embedOrigins });

  // Every request to an API route, or to no route at all, is counted, whatever the spelling of
  // its path (the matched route decides, not the raw URL): per verified identity, so one token
  // is one bucket however its signature is spelled; per client address digest when there is no
  // valid token, so failed authentications count too. The token is verified first; its
  // failure is answered only after the request was counted.
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
    const route = request.routeOptions.url;
    if (route !== undefined && !route.startsWith('/v1/')) return;
    let refused: unknown;
    if (request.routeOptions.config.resource) {
      try {
        request.caller = await verify(request.headers.authorization);
      } catch (err) {
        refused = err;
      }
    }
    request.rateKey = request.caller ? callerKey(request.caller) : addressKey(request.ip);
    const read = request.method === 'GET' || request.method === 'HEAD';
    const decision = limiter.take(request.rateKey, read ? requestCost(request.query) * (request.routeOptions.config.csvList === true && wantsCsv(request) ? CSV_LIST_PAGES : 1) : 1);
    void reply.header('x-ratelimit-limit', String(limiter.max)).header('x-ratelimit-remaining', String(decision.remaining));
    if (!decision.ok) {
      refusedFairUse.inc({ reason: 'rate' });
      const seconds = Math.ceil(decision.retryAfterMs / 1000);
      void reply.header('retry-after', String(seconds));
      throw new ApiError(429, 'rate_limited', `more than ${limiter.max} cost units a minute (a longer range costs more); retry in ${seconds} s`);
    }
    if (refused) throw refused;
    // Beyond this the process only queues (its pool serves QUERY_DB_CONNECTIONS at a time): a 503 now is kinder
    // than an answer seconds late, and the requests it holds, and so its memory, stay bounded.
    if (inFlight.count(ALL) >= fairUse.inFlightTotal) {
      refusedFairUse.inc({ reason: 'overloaded' });
      void reply.header('retry-after', '1');
      throw new ApiError(503, 'overloaded', `the service has ${fairUse.inFlightTotal} requests in flight, as many as it takes; retry shortly`);
    }
    const caps = [{ key: ALL, cap: fairUse.inFlightTotal }, { key: `i:${request.rateKey}`, cap: fairUse.inFlightPerIdentity }];
    if (request.caller?.org) caps.push({ key: `o:${request.caller.org}`, cap: fairUse.inFlightPerOrg });
    const release = inFlight.enter(caps);
    if (!release) {
      refusedFairUse.inc({ reason: 'in_flight' });
      void reply.header('retry-after', '1');
      throw new ApiError(429, 'too_many_in_flight', `too many requests of this ${caps.length > 1 ? 'identity or organization' : 'identity'} in flight (at most ${fairUse.inFlightPerIdentity} per identity, ${fairUse.inFlightPerOrg} per organization); retry when one is answered`);
    }
    request.releaseInFlight = release;
    reply.raw.once('close', release);
  });
  // After validation (a bad parameter is a 400 even when out of scope), before the handler.
  // The facts it rests on are kept between requests until a scope table changes (answer-cache.ts).
  app.addHook('preHandler', async (request) => {
    const resource = request.routeOptions.config.resource;
    if (!resource) return;
    request.grant = await authorize(facts, request.caller as Caller, resource(request), config.defaultTimezone);
  });
  app.addHook('onResponse', async (request, reply) => {
    request.releaseInFlight?.();
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    requests.inc(labels);
    latency.observe(labels, reply.elapsedTime / 1000);
    log.info({ reqId: request.id, method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10, role: request.caller?.role }, 'request');
  });

  const hidden = { schema: { hide: true } };
  app.get('/healthz', hidden, async () => ({ status: 'ok' }));
  // Operational endpoints need no token: their answers are computed at most once a second,
  // however often they are asked (a readiness check costs a Postgres query, a Redis ping and a
  // Kafka describe).
  const names = ['postgres', 'redis', 'kafka'];
  const readiness = cached(1_000, async () => {
    const checks = await Promise.allSettled([within(2000, pool.query('select 1')), within(2000, redis.ping()), within(2000, deps.kafkaAdmin.describeCluster())]);
    return names.filter((_, i) => checks[i]?.status === 'rejected');
  });
  const metricsText = cached(1_000, () => registry.metrics());
  app.get('/readyz', hidden, async (_request, reply) => {
    const down = await readiness();
    return down.length ? reply.status(503).send({ status: 'unavailable', down }) : { status: 'ready' };
  });
  app.get('/metrics', hidden, async (_request, reply) => reply.type(registry.contentType).send(await metricsText()));
  app.get('/openapi.json', hidden, async () => app.swagger());

  // Answers of the aggregate routes, kept until a change notice names what they read.
  const answers = createAnswerCache({ connectionString: config.databaseUrl, maxBytes: config.http.answerCacheMb * 1024 * 1024, log, registry });
  app.decorate('answers', answers);
  const facts = scopeFacts(db, (key, compute) => answers.fact(key, compute));
  app.addHook('onClose', async () => answers.close());
  registerRoutes(app, deps, db, answers);
  await app.ready();
  return app;
}


export type { App, QueryServiceDeps } from './types.js';
