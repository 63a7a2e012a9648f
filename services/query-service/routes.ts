import type { FastifyReply, FastifyRequest } from 'fastify';
import type { InviteClicked, UserRegistered } from '../../libs/events/types.generated.js';
import { check } from '../../libs/events/validation.js';
import type { App, QueryServiceDeps } from './types.js';
import { answerBytes, type AnswerCache, type AnswerScope, type CacheOutcome, type CachedAnswer } from './answer-cache.js';
import { addVary, takesGzip } from './encoding.js';
import type { Queryable } from '../../libs/db/queryable.js';
import type { Grant, GrantFor, Resource } from './policy.js';
import { ApiError, badParameter } from './errors.js';
import { TimeoutError, within } from '../../libs/runtime/within.js';
import { mentorStats } from './queries/mentor-stats.js';
import { coordinatorReferrals, coordinatorReferralsTimed, mentorRecruits, orgReferrals, orgReferralsTimed, type TimedPage } from './queries/recruits.js';
import { annualSummary } from './queries/annual-summary.js';
import { mentorPerformance } from './queries/mentor-performance.js';
import { coordinatorSummary, orgSummary } from './queries/org-summary.js';
import { platformGrowth } from './queries/platform-growth.js';
import { conversionRecord } from './queries/conversion-record.js';
import { linkOrg } from './scope-queries.js';
import { orgFirstDay } from './queries/previous-period.js';
import { sendCsvList, sendCsvTable, wantsCsv } from './csv-reply.js';
import { annualTable, type CsvTable, growthHeader, growthRows, performanceTable, recruitHeader, recruitRow, referralHeader, referralRow, statsTable, summaryTable } from './csv-tables.js';
import {
  Accepted, AnnualSummary, Bodies, ConversionRecord, CoordinatorRecruitmentSummary, ErrorBody, LinkNotPlaced, MentorPerformance, MentorReferralStats, OrgReferralPage,
  MAX_PAGE, OrgRecruitmentSummary, Params, PlatformGrowth, Query, RecruitPage, type OrgRecruitProfileT, type RecruitProfileT,
} from './schemas.js';

/** Every status a route can answer besides its success: bad parameter, token, role, scope, rate, and an unavailable dependency. */
const errors = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 429: ErrorBody, 503: ErrorBody };
/** The grant authorize() gave this request, of the resource the route declared (anything else is a bug in the route table). */
function grantOf<K extends Grant['resource']>(request: FastifyRequest, resource: K): GrantFor<K> {
  const grant = request.grant;
  if (grant?.resource !== resource) throw new Error(`route expected a ${resource} grant, got ${grant?.resource ?? 'none'}`);
  return grant as GrantFor<K>;
}
const PUBLISH_TIMEOUT_MS = 10_000;

/** The resources the routes address, read from their (already validated) path parameters. */
const mentor = (r: FastifyRequest): Resource => ({ kind: 'mentor', mentorId: (r.params as { mentorId: string }).mentorId, orgId: (r.query as { orgId?: string }).orgId ?? null });
const coordinator = (r: FastifyRequest): Resource => ({ kind: 'coordinator', coordinatorId: (r.params as { coordinatorId: string }).coordinatorId, orgId: (r.query as { orgId?: string }).orgId ?? null });
const org = (r: FastifyRequest): Resource => ({ kind: 'org', orgId: (r.params as { orgId: string }).orgId });
const events = (): Resource => ({ kind: 'events' });

/** Keys sorted at every level: one spelling per value, whatever order its fields were given in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const fields = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The routes of SPEC §5. Each declares the resource it addresses; auth.ts decides who may. */
export function registerRoutes(app: App, deps: QueryServiceDeps, db: Queryable, answers: AnswerCache): void {
  const { config } = deps;

  /**
   * A route's answer through the answer cache (answer-cache.ts), serialized by the route's
   * response schema exactly as an uncached one: keyed by the route, what the grant lets the
   * caller see (not who the caller is: two coordinators of the same mentors share answers) and
   * the validated parameters but `format` (a CSV export reads the answer its JSON would);
   * `scope` says what it reads (AnswerScope).
   */
  function cachedAnswer(request: FastifyRequest, reply: FastifyReply, scope: AnswerScope, compute: () => Promise<unknown>) {
    return answers.answer(answerKey(request), scope, async () => reply.serialize(await compute()));
  }

  /** The key of a request's answer (see cachedAnswer). */
  function answerKey(request: FastifyRequest): string {
    const { caller: _caller, ...seen } = request.grant as Grant & { caller: unknown };
    const { format: _format, ...query } = request.query as Record<string, unknown>;
    return `${request.routeOptions.url ?? ''}\0${canonical(seen)}\0${canonical(query)}`;
  }

  /**
   * The organization's first day of activity (orgFirstDay), kept like an answer until a notice
   * names the organization: the basis of every comparison with an earlier period.
   */
  async function firstDayOf(org: string): Promise<string | null> {
    const { answer } = await answers.answer('first-day', org, async () => JSON.stringify(await orgFirstDay(db, org)));
    return JSON.parse(answerBytes(answer).toString('utf8')) as string | null;
  }

  /**
   * A summary route's answer about some mentors of an organization (jsonOrTable): kept under
   * their versions (AnswerScope `mentors`), so that a commit about other mentors leaves it; with
   * `compare`, computed from the organization's first day read beforehand and kept under that
   * too, so that the organization's other changes, which seldom move it, leave it as well.
   */
  async function mentorsAnswer<T>(request: FastifyRequest, reply: FastifyReply, org: string, mentors: readonly string[], compare: unknown, compute: (firstDay?: string | null) => Promise<T>, csv: (answer: T) => [name: string, table: CsvTable]) {
    if (!compare) return jsonOrTable(request, reply, { org, mentors }, () => compute(), csv);
    const first = await firstDayOf(org);
    return jsonOrTable(request, reply, { org, mentors, basis: JSON.stringify(first) }, () => compute(first), csv);
  }

  /** A JSON answer through the answer cache (see cachedAnswer), with its ETag. */
  async function cachedJson(request: FastifyRequest, reply: FastifyReply, scope: AnswerScope, compute: () => Promise<unknown>) {
    return sendKept(request, reply, await cachedAnswer(request, reply, scope, compute));
  }

  /**
   * Sends a JSON answer from the answer cache, with where it came from: to a client that takes
   * gzip, a compressed answer's bytes as kept (Content-Encoding gzip, an ETag of its own, as
   * a strong validator names one representation); to others, its bytes uncompressed.
   */
  function sendKept(request: FastifyRequest, reply: FastifyReply, { answer, outcome }: { answer: CachedAnswer; outcome: CacheOutcome }) {
    addVary(reply.header('x-cache', outcome).type('application/json; charset=utf-8'), 'accept-encoding');
    // A client holding the answer uncompressed holds it still (a miss is sent before it is
    // compressed, to a browser too): a 304 as the etag plugin gives, without inflating it.
    const held = request.headers['if-none-match'];
    if (held === answer.etag || held === `W/${answer.etag}`) return reply.header('etag', answer.etag).code(304).send();
    if (answer.encoding === 'gzip' && takesGzip(request.headers['accept-encoding'])) {
      return reply.header('content-encoding', 'gzip').header('etag', `${answer.etag.slice(0, -1)}-gzip"`).send(answer.body);
    }
    return reply.header('etag', answer.etag).send(answerBytes(answer));
  }

  /**
   * A page of referrals (recruits.ts) through the answer cache: it reads the referrals of the
   * mentors in `scope` and their names, and is kept until a notice names them or, for a
   * follow-up list, until the next waiting recruit reaches its cut-off (TimedPage.until).
   */
  async function pageAnswer(request: FastifyRequest, reply: FastifyReply, scope: AnswerScope, compute: () => Promise<TimedPage>) {
    return sendKept(
      request,
      reply,
      await answers.answer(answerKey(request), scope, async () => {
        const { page, until } = await compute();
        return { serialized: reply.serialize(page), until };
      }),
    );
  }

  /**
   * A summary route's answer: JSON through the answer cache, or (CSV asked) the table `csv`
   * makes of the same kept answer, named as it says: an export of numbers just viewed costs no
   * query. The table is made from the answer as its JSON says it (the response schema's fields).
   */
  async function jsonOrTable<T>(request: FastifyRequest, reply: FastifyReply, scope: AnswerScope, compute: () => Promise<T>, csv: (answer: T) => [name: string, table: CsvTable]) {
    if (!wantsCsv(request)) return cachedJson(request, reply, scope, compute);
    const { answer, outcome } = await cachedAnswer(request, reply, scope, compute);
    const [name, table] = csv(JSON.parse(answerBytes(answer).toString('utf8')) as T);
    void reply.header('x-cache', outcome);
    return sendCsvTable(reply, name, table);
  }

  app.get('/v1/mentors/:mentorId/referral-stats', {
    schema: { tags: ['mentors'], summary: "A mentor's funnel totals, conversion and series", params: Params.mentorId, querystring: Query.stats, response: { 200: MentorReferralStats, ...errors } },
    config: { resource: mentor },
  }, async (request, reply) => {
    const grant = grantOf(request, 'mentor');
    return mentorsAnswer(request, reply, grant.orgId, [grant.mentorId], request.query.compare, (first) => mentorStats(db, grant, request.query, first), (answer) => [`referral-stats-${grant.mentorId}-${answer.from}-${answer.to}`, statsTable(answer)]);
  });

  app.get('/v1/mentors/:mentorId/recruits', {
    schema: { tags: ['mentors'], summary: "A mentor's recruits, newest registration first", params: Params.mentorId, querystring: Query.recruits, response: { 200: RecruitPage, ...errors } },
    config: { resource: mentor, csvList: true },
  }, async (request, reply) => {
    const grant = grantOf(request, 'mentor');
    // A page reads the mentor's referrals alone (and nothing of the clock): kept until a notice names them.
    if (!wantsCsv(request)) return cachedJson(request, reply, { org: grant.orgId, mentors: [grant.mentorId] }, () => mentorRecruits(db, grant, request.query));
    return sendCsvList<RecruitProfileT>(reply, `recruits-${grant.mentorId}`, recruitHeader, (r) => recruitRow(r, grant.timezone), (cursor, limit) => mentorRecruits(db, grant, { ...request.query, cursor, limit }), request.query.cursor);
  });

  app.get('/v1/mentors/:mentorId/annual-summary', {
    schema: { tags: ['mentors'], summary: "A mentor's year and standing in the organization", params: Params.mentorId, querystring: Query.annual, response: { 200: AnnualSummary, ...errors } },
    config: { resource: mentor },
  }, async (request, reply) => {
    const grant = grantOf(request, 'mentor');
    return jsonOrTable(request, reply, grant.orgId, () => annualSummary(db, grant, request.query), (answer) => [`annual-summary-${grant.mentorId}-${answer.year}`, annualTable(answer)]);
  });

  app.get('/v1/coordinators/:coordinatorId/mentor-performance', {
    schema: {
      tags: ['coordinators'], summary: "The coordinator's mentors ranked", params: Params.coordinatorId, querystring: Query.coordinatorPerformance,
      response: { 200: MentorPerformance, ...errors },
    },
    config: { resource: coordinator },
  }, async (request, reply) => {
    const grant = grantOf(request, 'coordinator');
    return mentorsAnswer(request, reply, grant.orgId, grant.mentorIds, request.query.compare, (first) => mentorPerformance(db, grant, request.query, first), (answer) => [`mentor-performance-${grant.coordinatorId}-${answer.from}-${answer.to}`, performanceTable(answer)]);
  });

  app.get('/v1/coordinators/:coordinatorId/recruitment-summary', {
    schema: {
      tags: ['coordinators'], summary: "The funnel, series and campaigns of the coordinator's mentors", params: Params.coordinatorId, querystring: Query.coordinatorSummary,
      response: { 200: CoordinatorRecruitmentSummary, ...errors },
    },
    config: { resource: coordinator },
  }, async (request, reply) => {
    const grant = grantOf(request, 'coordinator');
    return mentorsAnswer(request, reply, grant.orgId, grant.mentorIds, request.query.compare, (first) => coordinatorSummary(db, grant, request.query, first), (answer) => [`recruitment-summary-${grant.coordinatorId}-${answer.from}-${answer.to}`, summaryTable(answer)]);
  });

  app.get('/v1/coordinators/:coordinatorId/referrals', {
    schema: {
      tags: ['coordinators'], summary: "The referrals of the coordinator's mentors, newest registration first (stuckDays: the follow-up list)", params: Params.coordinatorId, querystring: Query.coordinatorReferrals,
      response: { 200: OrgReferralPage, ...errors },
    },
    config: { resource: coordinator, csvList: true },
  }, async (request, reply) => {
    const grant = grantOf(request, 'coordinator');
    if (!wantsCsv(request)) return pageAnswer(request, reply, { org: grant.orgId, mentors: grant.mentorIds }, () => coordinatorReferralsTimed(db, grant, request.query));
    return sendCsvList<OrgRecruitProfileT>(reply, `referrals-${grant.coordinatorId}`, referralHeader, (r) => referralRow(r, grant.timezone), (cursor, limit) => coordinatorReferrals(db, grant, { ...request.query, cursor, limit }), request.query.cursor);
  });

  app.get('/v1/orgs/:orgId/recruitment-summary', {
    schema: { tags: ['organizations'], summary: "An organization's funnel, top mentors and campaigns", params: Params.orgId, querystring: Query.summary, response: { 200: OrgRecruitmentSummary, ...errors } },
    config: { resource: org },
  }, async (request, reply) => {
    const grant = grantOf(request, 'org');
    return jsonOrTable(request, reply, grant.orgId, () => orgSummary(db, grant, request.query), (answer) => [`recruitment-summary-${grant.orgId}-${answer.from}-${answer.to}`, summaryTable(answer)]);
  });

  app.get('/v1/orgs/:orgId/referrals', {
    schema: { tags: ['organizations'], summary: "An organization's referrals, newest registration first", params: Params.orgId, querystring: Query.referrals, response: { 200: OrgReferralPage, ...errors } },
    config: { resource: org, csvList: true },
  }, async (request, reply) => {
    const grant = grantOf(request, 'org');
    if (!wantsCsv(request)) return pageAnswer(request, reply, grant.orgId, () => orgReferralsTimed(db, grant, request.query));
    return sendCsvList<OrgRecruitProfileT>(reply, `referrals-${grant.orgId}`, referralHeader, (r) => referralRow(r, grant.timezone), (cursor, limit) => orgReferrals(db, grant, { ...request.query, cursor, limit }), request.query.cursor);
  });

  app.get('/v1/platform/growth', {
    schema: { tags: ['platform'], summary: 'Totals and series per organization, a page of organizations at a time', querystring: Query.growth, response: { 200: PlatformGrowth, ...errors } },
    config: { resource: () => ({ kind: 'platform' }) },
  }, async (request, reply) => {
    const grant = grantOf(request, 'platform');
    if (!wantsCsv(request)) return cachedJson(request, reply, '*', () => platformGrowth(db, grant, request.query, config.defaultTimezone));
    // A page of organizations is many rows (a series each): pages of as many organizations as MAX_GROWTH_ROWS holds (up to
    // MAX_PAGE), whatever the caller's limit, up to the cap in rows; at limit 1 a yearly series took a query per two rows.
    const page = async (cursor: string | undefined) => {
      const answer = await platformGrowth(db, grant, { ...request.query, cursor, limit: MAX_PAGE }, config.defaultTimezone);
      return { items: answer.organizations.flatMap(growthRows), nextCursor: answer.nextCursor, range: `${answer.from}-${answer.to}` };
    };
    return sendCsvList(reply, 'platform-growth', growthHeader, (r) => r, page, request.query.cursor);
  });

  app.get('/v1/conversions/:userId', {
    schema: { tags: ['conversions'], summary: "How a user was recruited in an organization: link or device, mentor, campaign", params: Params.userId, querystring: Query.conversion, response: { 200: ConversionRecord, ...errors } },
    config: { resource: () => ({ kind: 'recruit' }) },
  }, async (request) => {
    const grant = grantOf(request, 'recruit');
    const record = await conversionRecord(db, grant.visibility, request.params.userId, request.query.orgId ?? grant.caller.org, config.attributionWindowDays);
    if (!record) throw new ApiError(404, 'not_found', 'conversion not found');
    return record;
  });

  // Webhook ingress for producers not on Kafka: validate, publish, 202. A retry with the same
  // eventId publishes again, and the ingest worker drops the duplicate.
  const accepted = { 202: Accepted, ...errors, 409: LinkNotPlaced };
  const { webhookMaxEventAgeHours: maxAgeHours, webhookMaxClockSkewSeconds: skewSeconds } = config.http;
  /** An event's time, refused when it lies further from now than an upstream clock or retry could explain. */
  const eventTime = (name: string, value: string | number) => {
    const ms = typeof value === 'number' ? value : Date.parse(value);
    const problem = check({}, { [name]: ms });
    if (problem) throw badParameter(name, problem);
    const now = Date.now();
    if (ms < now - maxAgeHours * 3_600_000) throw badParameter(name, `is more than ${maxAgeHours} hours ago; replay old events through Kafka instead`);
    if (ms > now + skewSeconds * 1000) throw badParameter(name, `is more than ${skewSeconds} seconds in the future`);
    return ms;
  };
  /** The same field rules the ingest worker applies, so a record it would dead-letter is a 400 here instead. */
  const ids = (fields: Record<string, string | null | undefined>) => {
    const problem = check(fields, {});
    if (problem) {
      const [name, ...rest] = problem.split(' ');
      throw badParameter(name as string, rest.join(' '));
    }
  };
  /**
   * A service token writes only for the organizations it names (403), and only about links it
   * can place in one of them: a link of another organization, or one not published yet, is a
   * 409 naming linkId, to retry once the link is published (the same answer for both, so it
   * never tells whether another organization has the link). `*` tokens are not checked.
   */
  async function mayWrite(request: FastifyRequest, orgId: string | null, linkId: string | null): Promise<void> {
    const { writes } = grantOf(request, 'events');
    if (writes === '*') return;
    const denied = orgId !== null && !writes.includes(orgId) ? orgId : writes.length === 0 ? '(any)' : null;
    if (denied !== null) throw new ApiError(403, 'forbidden', `this token may not publish events of organization ${denied}`);
    const placed = linkId === null ? null : await linkOrg(db, linkId);
    if (linkId !== null && (placed === null || !writes.includes(placed))) {
      throw new ApiError(409, 'link_not_placed', `linkId: ${linkId} is not a published link of this token's organizations (${writes.join(', ')}); retry once the link is published`);
    }
  }
  async function publish(send: () => Promise<void>): Promise<void> {
    try {
      await within(PUBLISH_TIMEOUT_MS, send());
    } catch (err) {
      if (err instanceof TimeoutError) throw new ApiError(503, 'unavailable', 'the event broker did not acknowledge in time; retry with the same eventId');
      throw err;
    }
  }

  app.post('/v1/events/invite-clicks', {
    schema: { tags: ['events'], summary: 'Publish an InviteClicked (role service)', body: Bodies.inviteClick, response: accepted },
    config: { resource: events },
  }, async (request, reply) => {
    const b = request.body;
    const v = b.visitor;
    ids({ eventId: b.eventId, linkId: b.linkId, 'visitor.deviceId': v.deviceId });
    // A bad body is a 400 before a link not placed is a 409 (whose retry could never succeed).
    const occurredAt = eventTime('occurredAt', b.occurredAt);
    await mayWrite(request, null, b.linkId);
    const record: InviteClicked = {
      eventId: b.eventId, linkId: b.linkId, occurredAt,
      visitor: { ip: v.ip ?? null, userAgent: v.userAgent ?? null, deviceId: v.deviceId ?? null, platform: v.platform ?? null, referrer: v.referrer ?? null, locale: v.locale ?? null },
    };
    await publish(() => deps.producer.send('inviteClicks', [record]));
    return reply.status(202).send({ eventId: record.eventId });
  });

  app.post('/v1/events/registrations', {
    schema: { tags: ['events'], summary: 'Publish a UserRegistered (role service)', body: Bodies.registration, response: accepted },
    config: { resource: events },
  }, async (request, reply) => {
    const b = request.body;
    ids({ eventId: b.eventId, userId: b.userId, orgId: b.orgId, linkId: b.linkId, deviceId: b.deviceId });
    const occurredAt = eventTime('occurredAt', b.occurredAt);
    await mayWrite(request, b.orgId, b.linkId ?? null);
    const record: UserRegistered = {
      eventId: b.eventId, userId: b.userId, orgId: b.orgId, linkId: b.linkId ?? null, deviceId: b.deviceId ?? null, displayName: b.displayName ?? null,
      occurredAt,
    };
    await publish(() => deps.producer.send('userRegistered', [record]));
    return reply.status(202).send({ eventId: record.eventId });
  });
}
