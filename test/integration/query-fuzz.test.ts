import type { OutgoingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { loadQueryFixture } from '../support/query-fixture.js';

/**
 * An HTTP fuzz of every route of the query service (issue 19, "query edges"): random and
 * boundary values in every path parameter, query parameter, body field and header that
 * matters (empty, huge, unicode, encoded slashes and dots, negative, NaN, years 0 and 10000,
 * huge limits, forged cursors, wrong types, arrays, repeated parameters), under valid tokens
 * of every role and bad tokens, through app.inject() against the real Postgres, Redis and
 * broker. No answer is ever a 5xx, and every 4xx is JSON `{error: {code, message}}`. (Not
 * /dashboard: without a build it answers 503 on purpose, naming the command that builds it.)
 *
 * Under CI the seed is fixed, so a run there is reproducible; elsewhere every run draws a new
 * one (printed on failure). FC_SEED overrides both; FUZZ_SCALE multiplies the request counts.
 */
let env: TestEnv;
let q: QueryApp;
const SEED = Number(process.env.FC_SEED ?? (process.env.CI ? 20261119 : Date.now() % 2 ** 31));
const SCALE = Number(process.env.FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.ceil(n * SCALE);
/** Requests sent and how they were answered, by status, over the whole file. */
const answered = new Map<number, number>();
let sent = 0;

// ---- values ---------------------------------------------------------------------------

/** A string as a URL component, every byte of its UTF-8 percent-encoded (a lone surrogate travels as U+FFFD). */
const enc = (s: string) => encodeURIComponent(s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD'));
const BOUNDARY_TEXT = [
  '', ' ', '\t', '0', '-0', '-1', '1', '01', '1.5', '1e3', '1e309', '-1e309', 'NaN', 'Infinity', '-Infinity', '9007199254740993', '9'.repeat(40), '0x1F', 'true', 'false',
  'null', 'undefined', '[]', '{}', '[object Object]', '__proto__', 'constructor', 'toString', 'hasOwnProperty', "' or 1=1 --", "'; drop table referrals; --", '\u0000',
  'a\u0000b', '\uFEFF', '\u202Eabc', 'ß', 'İ', 'e\u0301', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '👩‍👩‍👧', '日本語', '..', '.', '/', '\\', 'a/b', '../../etc/passwd', '%', '%2F', '+',
  'x'.repeat(255), 'x'.repeat(256), 'x'.repeat(257), 'x'.repeat(3000), 'ä'.repeat(200),
];
/** Dates well and badly formed, inside and outside every calendar: years 0, 1, 1969, 9999, 10000, signed, non-ASCII digits. */
const BOUNDARY_DATES = [
  '0000-01-01', '0000-00-00', '0000-01-05', '0001-01-01', '0099-12-31', '0100-01-01', '1899-12-31', '1969-12-31', '1970-01-01', '1970-01-05', '1999-12-31', '2000-01-01',
  '2024-02-29', '2026-02-29', '2026-03-10', '2026-13-01', '2026-00-10', '2026-03-32', '2026-03-00', '2100-12-31', '9999-01-01', '9999-12-01', '9999-12-31', '10000-01-01',
  '+010000-01-01', '-000001-01-01', '+002026-03-10', '2026-3-1', '2026-03-10T00:00:00Z', '2026/03/10', '２０２６-03-10', '٢٠٢٦-03-10', '20260310',
];
const BOUNDARY_YEARS = ['0', '1', '99', '100', '1969', '1970', '1999', '2000', '2026', '2100', '2101', '9999', '10000', '-1', '-2026', '2026.0', '2026.5', '2e3', ' 2026', '0x7EA', '1e400', '-1e400', 'Infinity', '-Infinity'];
const BOUNDARY_LIMITS = ['0', '1', '2', '199', '200', '201', '-1', '1e2', '100.0', '2147483648', '99999999999999999999', 'NaN', '1.5', ' 5', 'Infinity', '-Infinity', '1e400', '-1e400'];
const KNOWN_IDS = ['m-a1', 'm-a2', 'm-a3', 'm-b1', 'm-x', 'm-new', 'coord-a', 'coord-b', 'coord-x', 'org-a', 'org-b', 'org-nowhere', 'u-a1', 'u-b1', 'u-bx1', 'spring', 'autumn', 'l-a1', 'l-b1'];

const text = fc.oneof(
  { arbitrary: fc.constantFrom(...BOUNDARY_TEXT), weight: 4 },
  { arbitrary: fc.string({ maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 12 }), weight: 1 },
  { arbitrary: fc.oneof(fc.integer(), fc.double()).map(String), weight: 1 },
);
/** Dates of any year from -1000 to 12000, with any month and day numbers. */
const anyDate = fc
  .tuple(fc.integer({ min: -1000, max: 12000 }), fc.integer({ min: 0, max: 13 }), fc.integer({ min: 0, max: 32 }))
  .map(([y, m, d]) => `${y < 0 ? '-' : ''}${String(Math.abs(y)).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
const dateText = fc.oneof({ arbitrary: fc.constantFrom(...BOUNDARY_DATES), weight: 3 }, { arbitrary: anyDate, weight: 2 }, { arbitrary: text, weight: 1 });
const yearText = fc.oneof({ arbitrary: fc.constantFrom(...BOUNDARY_YEARS), weight: 3 }, { arbitrary: fc.integer({ min: -20000, max: 20000 }).map(String), weight: 1 }, { arbitrary: text, weight: 1 });
const limitText = fc.oneof({ arbitrary: fc.constantFrom(...BOUNDARY_LIMITS), weight: 3 }, { arbitrary: fc.integer().map(String), weight: 1 }, { arbitrary: text, weight: 1 });
const idText = fc.oneof({ arbitrary: fc.constantFrom(...KNOWN_IDS), weight: 3 }, { arbitrary: text, weight: 2 });
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
/** Cursors shaped like the service's (an instant and a referral id, or an organization), with impossible instants and junk. */
const forgedCursor = fc.oneof(
  fc
    .tuple(
      fc.oneof(
        fc.constantFrom(
          '2026-03-10T10:05:00.000Z', '0000-01-01T00:00:00.000Z', '0001-01-01T00:00:00.000Z', '1969-12-31T23:59:59.999Z', '9999-12-31T23:59:59.999Z', '+010000-01-01T00:00:00.000Z',
          '+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00.000Z', '-271821-04-20T00:00:00.000Z', '2026-02-30T10:00:00.000Z', 'yesterday', '',
        ),
        fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15), noInvalidDate: true }).map((d) => d.toISOString()),
      ),
      fc.oneof(fc.constantFrom('r-a1', 'r-b1', 'r-bx1', '', '\u0000', 'x'.repeat(400)), text),
    )
    .map(b64),
  fc.tuple(fc.constant('org'), fc.oneof(idText, fc.constantFrom('', '\u0000', 'x'.repeat(380)))).map(b64),
  fc.jsonValue({ maxDepth: 2 }).map(b64),
  fc.constantFrom('', 'abc', '!!!', 'x'.repeat(513), 'x'.repeat(2000), b64('null'), b64('[]'), b64('{"__proto__":1}'), '%00', '..'),
  text,
);
const granularityText = fc.oneof(fc.constantFrom('day', 'week', 'month', 'year', 'hour', 'DAY', 'days', ''), text);
const stageText = fc.oneof(fc.constantFrom('CLICKED', 'INSTALLED', 'REGISTERED', 'ACTIVATED', 'registered', 'LOST', ''), text);
const compareText = fc.oneof(fc.constantFrom('previous', 'year', 'YEAR', 'last', 'previous,year', ''), text);
const sortText = fc.oneof(fc.constantFrom('registrations', 'activations', 'clickToRegistration', 'clicks', ''), text);
const VALUE_OF: Record<string, fc.Arbitrary<string>> = {
  from: dateText, to: dateText, year: yearText, limit: limitText, cursor: forgedCursor, granularity: granularityText, stage: stageText, sort: sortText, compare: compareText,
  orgId: idText, mentorId: idText, campaignId: idText, stuckDays: limitText, format: fc.oneof(fc.constantFrom('json', 'csv', 'CSV', 'xml', ''), text),
};
/** A raw URL component: a value percent-encoded, or one of the encodings a router trips over. */
const RAW = ['%', '%zz', '%2F', '%2f', '%2e%2e', '%2E', '..', '.', 'a%2Fb', '%252F', '%00', '%FF', '%C0%AF', '%ED%A0%80', '%E2%80%AE', '+', '%20', '%0A', '%0D%0A', ';', ',', "'"];
const raw = (value: fc.Arbitrary<string>) => fc.oneof({ arbitrary: value.map(enc), weight: 6 }, { arbitrary: fc.constantFrom(...RAW), weight: 1 });

// ---- routes ---------------------------------------------------------------------------

interface Route {
  method: 'GET' | 'POST';
  path: (id: string) => string;
  /** Ids of the fixture the path takes. */
  ids: string[];
  params: string[];
  body?: 'click' | 'registration';
}
const [MENTORS, COORDINATORS, ORGS] = [['m-a1', 'm-a2', 'm-x', 'm-b1'], ['coord-a', 'coord-x', 'coord-b'], ['org-a', 'org-b']];
const ROUTES: Route[] = [
  { method: 'GET', path: (x) => `/v1/mentors/${x}/referral-stats`, ids: MENTORS, params: ['from', 'to', 'granularity', 'campaignId', 'orgId', 'compare', 'format'] },
  { method: 'GET', path: (x) => `/v1/mentors/${x}/recruits`, ids: MENTORS, params: ['stage', 'limit', 'cursor', 'orgId', 'format'] },
  { method: 'GET', path: (x) => `/v1/mentors/${x}/annual-summary`, ids: MENTORS, params: ['year', 'orgId', 'format'] },
  { method: 'GET', path: (x) => `/v1/coordinators/${x}/mentor-performance`, ids: COORDINATORS, params: ['from', 'to', 'sort', 'limit', 'compare', 'format'] },
  { method: 'GET', path: (x) => `/v1/coordinators/${x}/recruitment-summary`, ids: COORDINATORS, params: ['from', 'to', 'granularity', 'compare', 'format'] },
  { method: 'GET', path: (x) => `/v1/orgs/${x}/recruitment-summary`, ids: ORGS, params: ['from', 'to', 'granularity', 'compare', 'format'] },
  { method: 'GET', path: (x) => `/v1/orgs/${x}/referrals`, ids: ORGS, params: ['stage', 'mentorId', 'stuckDays', 'limit', 'cursor', 'format'] },
  { method: 'GET', path: (x) => `/v1/coordinators/${x}/referrals`, ids: COORDINATORS, params: ['stage', 'mentorId', 'stuckDays', 'limit', 'cursor', 'format'] },
  { method: 'GET', path: () => '/v1/platform/growth', ids: [''], params: ['from', 'to', 'granularity', 'limit', 'cursor', 'format'] },
  { method: 'GET', path: (x) => `/v1/conversions/${x}`, ids: ['u-a1', 'u-b1', 'u-bx1'], params: ['orgId'] },
  { method: 'POST', path: () => '/v1/events/invite-clicks', ids: [''], params: [], body: 'click' },
  { method: 'POST', path: () => '/v1/events/registrations', ids: [''], params: [], body: 'registration' },
];
const READS = ROUTES.filter((r) => r.method === 'GET');
const WEBHOOKS = ROUTES.filter((r) => r.method === 'POST');
const WEIRD_KEYS = ['extra', '__proto__', 'constructor', 'from[]', 'to[0]', 'limit[]', 'cursor[a]', '', 'FROM', 'from ', '%66rom', 'a%00', 'x'.repeat(300)];

/** Dates of a few boundary years, so `from` and `to` often fall in the same one and make a short range there. */
const nearDate = fc
  .tuple(fc.constantFrom('0000', '0001', '1969', '1970', '2026', '2026', '2026', '9999', '10000'), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 31 }))
  .map(([y, m, d]) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
const PLAUSIBLE: Record<string, fc.Arbitrary<string>> = {
  from: nearDate, to: nearDate, year: fc.oneof(fc.constantFrom('1970', '2025', '2026', '9999'), fc.constantFrom(...BOUNDARY_YEARS)), limit: fc.constantFrom('1', '50', '200'), granularity: fc.constantFrom('day', 'week', 'month', 'year'),
  stage: fc.constantFrom('REGISTERED', 'ACTIVATED', 'CLICKED'), sort: fc.constantFrom('registrations', 'activations', 'clickToRegistration'), compare: fc.constantFrom('previous', 'year'),
  cursor: fc.oneof({ arbitrary: fc.tuple(fc.constantFrom('2026-03-11T12:02:00.000Z', '2026-03-10T10:05:00.000Z', '9999-12-31T23:59:59.999Z'), fc.constantFrom('r-a5', 'r-a1', '')).map(b64), weight: 2 }, { arbitrary: forgedCursor, weight: 1 }),
  orgId: fc.constantFrom('org-a', 'org-b'), mentorId: fc.constantFrom('m-a1', 'm-x'), campaignId: fc.constantFrom('spring', 'autumn'),
  stuckDays: fc.constantFrom('0', '7', '36500'), format: fc.constantFrom('json', 'csv'),
};
/** The query string of a route: its own parameters (valid, boundary or junk values), unknown ones, repeats, arrays, empty pairs. */
const queryOf = (route: Route) => fc.oneof(plausibleQuery(route), randomQuery(route));
/** Each of the route's parameters at most once, with a value of its kind at the boundaries: the requests that reach the queries. */
const plausibleQuery = (route: Route) =>
  fc
    .record(Object.fromEntries(route.params.map((k) => [k, PLAUSIBLE[k] ?? text])) as Record<string, fc.Arbitrary<string>>, { requiredKeys: [] })
    .map((params) => (Object.keys(params).length === 0 ? '' : `?${Object.entries(params).map(([k, v]) => `${k}=${enc(v as string)}`).join('&')}`));
const randomQuery = (route: Route) =>
  fc
    .array(
      fc.oneof(
        { arbitrary: fc.constantFrom(...(route.params.length ? route.params : ['extra'])).chain((k) => fc.tuple(fc.constant(k), raw(VALUE_OF[k] ?? text))), weight: 6 },
        { arbitrary: fc.tuple(fc.constantFrom(...WEIRD_KEYS), raw(text)), weight: 1 },
        { arbitrary: fc.constantFrom(...route.params, 'x').map((k) => [k, null] as const), weight: 1 },
      ),
      { maxLength: 6 },
    )
    .map((pairs) => (pairs.length === 0 ? '' : `?${pairs.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join('&')}`));
const pathId = raw(idText);

// ---- tokens ---------------------------------------------------------------------------

/** Authorization header values by name, minted in beforeAll: every role valid, and every way a token can be bad. */
const AUTH: Record<string, string | string[] | undefined> = {};
const sign = (claims: Record<string, unknown>, options: { sub?: string | null; exp?: number | string | null; secret?: string; nbf?: number } = {}) => {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (options.sub !== null) jwt = jwt.setSubject(options.sub ?? 'someone');
  if (options.exp !== null) jwt = jwt.setExpirationTime(options.exp ?? '1h');
  if (options.nbf !== undefined) jwt = jwt.setNotBefore(options.nbf);
  return jwt.sign(new TextEncoder().encode(options.secret ?? env.config.auth.jwtSecret));
};

type SignOptions = Parameters<typeof sign>[1];
const VALID_TOKENS: [string, Parameters<QueryApp['token']>][] = [
  ['mentor m-a1', ['mentor', 'm-a1', 'org-a']], ['mentor m-x@b', ['mentor', 'm-x', 'org-b']], ['mentor new', ['mentor', 'm-new', 'org-a']],
  ['coordinator a', ['coordinator', 'coord-a', 'org-a']], ['coordinator x', ['coordinator', 'coord-x', 'org-a']], ['coordinator b', ['coordinator', 'coord-b', 'org-b']],
  ['coordinator unscoped', ['coordinator', 'coord-none', 'org-a']], ['org_admin a', ['org_admin', 'admin-a', 'org-a']], ['org_admin b', ['org_admin', 'admin-b', 'org-b']],
  ['org_admin nowhere', ['org_admin', 'admin-n', 'org-nowhere']], ['platform_admin', ['platform_admin', 'root', null]], ['service org-a', ['service', 'svc-a', 'org-a']],
  ['service orgs [a]', ['service', 'svc-a', null, ['org-a']]], ['service orgs [b, a]', ['service', 'svc-ab', null, ['org-b', 'org-a']]], ['service *', ['service', 'svc-all', null, ['*']]],
  ['service unbound', ['service', 'svc-none', null]],
];
/** Well-signed tokens whose claims are wrong, and tokens that are not valid at all. */
const BAD_TOKENS: [string, Record<string, unknown>, SignOptions][] = [
  ['sub with NUL', { role: 'mentor', org: 'org-a' }, { sub: 'm-a1\u0000' }],
  ['org with NUL', { role: 'org_admin', org: 'org-a\u0000' }, {}],
  ['coordinator sub with NUL', { role: 'coordinator', org: 'org-a' }, { sub: 'coord-a\u0000' }],
  ['service orgs with NUL', { role: 'service', orgs: ['org-a\u0000'] }, {}],
  ['huge sub', { role: 'mentor', org: 'org-a' }, { sub: 'm'.repeat(5000) }],
  ['huge org', { role: 'org_admin', org: 'o'.repeat(5000) }, {}],
  ['unicode claims', { role: 'coordinator', org: '组织\u202E' }, { sub: '👩‍👩‍👧' }],
  ['org a number', { role: 'org_admin', org: 42 }, {}],
  ['org an array', { role: 'org_admin', org: ['org-a'] }, {}],
  ['orgs a string', { role: 'service', orgs: 'org-a' }, {}],
  ['orgs of numbers', { role: 'service', orgs: [1, 2] }, {}],
  ['orgs empty', { role: 'service', orgs: [] }, {}],
  ['orgs [""]', { role: 'service', orgs: [''] }, {}],
  ['unknown role', { role: 'admin', org: 'org-a' }, {}],
  ['role an array', { role: ['platform_admin'] }, {}],
  ['no role', { org: 'org-a' }, {}],
  ['no sub', { role: 'org_admin', org: 'org-a' }, { sub: null }],
  ['no exp', { role: 'org_admin', org: 'org-a' }, { exp: null }],
  ['expired', { role: 'org_admin', org: 'org-a' }, { exp: Math.floor(Date.now() / 1000) - 3600 }],
  ['exp in year 300000', { role: 'org_admin', org: 'org-a' }, { exp: 8.64e12 }],
  ['not yet valid', { role: 'org_admin', org: 'org-a' }, { nbf: Math.floor(Date.now() / 1000) + 3600 }],
  ['wrong secret', { role: 'platform_admin' }, { secret: 'not-the-secret-at-all-but-long-enough' }],
];
const HEADER_ONLY = ['none', 'alg none', 'no signature', 'Bearer only', 'Bearer and space', 'lowercase bearer', 'basic', 'three dots', 'junk', 'trailing text', 'twice', 'huge header'];
const AUTH_NAMES = [...VALID_TOKENS.map(([name]) => name), ...BAD_TOKENS.map(([name]) => name), ...HEADER_ONLY];

async function mintTokens(): Promise<void> {
  const bearer = (t: string) => `Bearer ${t}`;
  for (const [name, args] of VALID_TOKENS) AUTH[name] = bearer(await q.token(...args));
  for (const [name, claims, options] of BAD_TOKENS) AUTH[name] = bearer(await sign(claims, options));
  const admin = (AUTH['org_admin a'] as string).slice('Bearer '.length);
  const [head, body] = admin.split('.') as [string, string];
  const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'root', role: 'platform_admin', exp: 9e9 })).toString('base64url')}.`;
  const headers: Record<(typeof HEADER_ONLY)[number], string | string[] | undefined> = {
    none: undefined,
    'alg none': bearer(none),
    'no signature': bearer(`${head}.${body}.`),
    'Bearer only': 'Bearer',
    'Bearer and space': 'Bearer ',
    'lowercase bearer': `bearer ${admin}`,
    basic: 'Basic YWRtaW46YWRtaW4=',
    'three dots': 'Bearer a.b.c',
    junk: 'Bearer %00%ff',
    'trailing text': `Bearer ${admin} extra`,
    twice: [bearer(admin), AUTH.platform_admin as string],
    'huge header': `Bearer ${'a'.repeat(20_000)}.${'b'.repeat(20_000)}.c`,
  };
  Object.assign(AUTH, headers);
}
/** Mostly valid tokens of every role, so most requests reach the routes' own checks and queries. */
const authName = () => fc.oneof({ arbitrary: fc.constantFrom(...VALID_TOKENS.map(([name]) => name)), weight: 3 }, { arbitrary: fc.constantFrom(...AUTH_NAMES), weight: 1 });

// ---- bodies ---------------------------------------------------------------------------

const minutesAgo = (m: number) => Date.now() - m * 60_000;
/** Event times: recent, too old, in the future, past any calendar, badly formed, of the wrong type. */
const eventTime = fc.oneof(
  fc.constantFrom('recent iso', 'recent ms', '71h', '73h', '+10s', '+1h').map((k) => {
    const at = { 'recent iso': minutesAgo(1), 'recent ms': minutesAgo(2), '71h': minutesAgo(71 * 60), '73h': minutesAgo(73 * 60), '+10s': Date.now() + 10_000, '+1h': Date.now() + 3_600_000 }[k] as number;
    return k.includes('ms') ? at : new Date(at).toISOString();
  }),
  fc.constantFrom<unknown>(
    '0000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00Z', '9999-12-31T23:59:59Z', '2026-02-30T00:00:00Z', '2026-03-10', 'yesterday', '',
    8.64e15, 8.64e15 + 1, 9_000_000_000_000_000, 2 ** 63, 0, -1, 1.5, 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2,
  ),
);
/** A JSON value of the wrong kind for any field. */
const wrongType = fc.oneof(
  fc.constantFrom<unknown>(null, true, false, 0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, [], ['l-a1'], ['l-a1', 'l-b1'], {}, { linkId: 'l-a1' }, 'x'.repeat(70_000)),
  fc.jsonValue({ maxDepth: 2 }),
);
const unique = fc.uuid().map((u) => `fuzz-${u}`);
const linkId = fc.constantFrom('l-a1', 'l-a2', 'l-b1', 'l-ax', 'l-bx', 'l-unknown');
const recent = fc.constantFrom(1, 5, 60).map((m) => new Date(minutesAgo(m)).toISOString());
/** A body the webhook accepts from a token of the right organization. */
const VALID_BODIES = {
  click: fc.record({
    eventId: unique, linkId, occurredAt: recent,
    visitor: fc.record({ ip: fc.constantFrom('198.51.100.7', '2001:db8::1'), userAgent: fc.constant('Mozilla/5.0'), deviceId: fc.constantFrom('dev-1', null), platform: fc.constantFrom('IOS', 'WEB', null), referrer: fc.constant(null), locale: fc.constant('nb-NO') }, { requiredKeys: [] }),
  }),
  registration: fc.record(
    {
      eventId: unique, userId: fc.constantFrom('u-fuzz', 'u-a1', 'u-b1'), orgId: fc.constantFrom('org-a', 'org-b'), linkId: fc.oneof(linkId, fc.constant(null)),
      deviceId: fc.constantFrom('dev-1', null), displayName: fc.constantFrom('Kari Nordmann', '名前', null), occurredAt: recent,
    },
    { requiredKeys: ['eventId', 'userId', 'orgId', 'occurredAt'] },
  ),
};
/** A value for any field: boundary text, an event time of any kind, or a JSON value of the wrong type. */
const anyField = fc.oneof({ arbitrary: text, weight: 3 }, { arbitrary: eventTime, weight: 2 }, { arbitrary: wrongType, weight: 2 }, { arbitrary: linkId, weight: 1 });
const FIELDS = { click: ['eventId', 'linkId', 'occurredAt', 'visitor', 'visitor.ip', 'visitor.userAgent', 'visitor.deviceId', 'visitor.platform', 'visitor.referrer', 'visitor.locale', 'visitor.extra', 'extra'], registration: ['eventId', 'userId', 'orgId', 'linkId', 'deviceId', 'displayName', 'occurredAt', 'extra'] };
/** A valid body with one to three fields replaced by anything, or dropped. */
const mutatedBody = (kind: 'click' | 'registration') =>
  fc
    .tuple(VALID_BODIES[kind], fc.array(fc.tuple(fc.constantFrom(...FIELDS[kind]), fc.option(anyField, { nil: undefined, freq: 4 })), { minLength: 1, maxLength: 3 }))
    .map(([body, mutations]) => {
      const out: Record<string, unknown> = { ...body, ...(kind === 'click' ? { visitor: { ...(body as { visitor: object }).visitor } } : {}) };
      for (const [path, value] of mutations) {
        const [head, tail] = path.split('.') as [string, string | undefined];
        const target = tail !== undefined && out[head] && typeof out[head] === 'object' && !Array.isArray(out[head]) ? (out[head] as Record<string, unknown>) : tail === undefined ? out : null;
        if (!target) continue;
        const key = tail ?? head;
        if (value === undefined) delete target[key];
        else target[key] = value;
      }
      return out;
    });
/** Bodies of every field at random. */
const field = (valid: fc.Arbitrary<unknown>) => fc.oneof({ arbitrary: valid, weight: 5 }, { arbitrary: text, weight: 2 }, { arbitrary: wrongType, weight: 1 });
const optional = (valid: fc.Arbitrary<unknown>) => fc.oneof(valid, fc.constant(null));
const visitor = fc.record(
  {
    ip: field(fc.constantFrom('198.51.100.7', '2001:db8::1', '')),
    userAgent: field(fc.constantFrom('Mozilla/5.0', 'facebookexternalhit/1.1', '')),
    deviceId: field(optional(fc.constantFrom('dev-1', 'dev-2'))),
    platform: field(fc.constantFrom('IOS', 'ANDROID', 'WEB', 'OTHER', null, 'ios', 'BLACKBERRY')),
    referrer: field(fc.constantFrom('https://example.org/', '')),
    locale: field(fc.constantFrom('nb-NO', 'en', '')),
    extra: wrongType,
  },
  { requiredKeys: [] },
);
const RANDOM_BODIES = {
  click: fc.record({ eventId: field(unique), linkId: field(linkId), occurredAt: field(eventTime), visitor: fc.oneof({ arbitrary: visitor, weight: 5 }, { arbitrary: wrongType, weight: 1 }), extra: wrongType }, { requiredKeys: [] }),
  registration: fc.record(
    {
      eventId: field(unique), userId: field(fc.constantFrom('u-fuzz', 'u-a1', 'u-b1')), orgId: field(fc.constantFrom('org-a', 'org-b', 'org-nowhere')), linkId: field(optional(linkId)),
      deviceId: field(optional(fc.constantFrom('dev-1', 'dev-2'))), displayName: field(optional(fc.constantFrom('Kari Nordmann', '名前', ''))), occurredAt: field(eventTime), extra: wrongType,
    },
    { requiredKeys: [] },
  ),
};
/** Bodies that are not a JSON object at all, or not JSON, or too big, or built to reach the prototype. */
const RAW_BODIES = [
  '', ' ', 'null', '[]', '[{}]', '{', '{"eventId":', 'NaN', '{"eventId": NaN}', '{"occurredAt": Infinity}', '"string"', '123', 'true', '{"__proto__": {"role": "platform_admin"}}',
  '{"constructor": {"prototype": {"x": 1}}}', `{"eventId": "${'x'.repeat(70_000)}"}`, `${'['.repeat(5000)}${']'.repeat(5000)}`, '\u0000', '\uFEFF{}', '{"eventId":"a","eventId":"b"}',
];
const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'application/JSON', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'text/plain',
  'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/vnd.api+json', '', '*/*', ';;;',
];
const payloadOf = (route: Route) =>
  fc.oneof(
    { arbitrary: VALID_BODIES[route.body ?? 'click'].map((b) => JSON.stringify(b)), weight: 2 },
    { arbitrary: mutatedBody(route.body ?? 'click').map((b) => JSON.stringify(b)), weight: 6 },
    { arbitrary: RANDOM_BODIES[route.body ?? 'click'].map((b) => JSON.stringify(b)), weight: 3 },
    { arbitrary: RANDOM_BODIES[route.body === 'click' ? 'registration' : 'click'].map((b) => JSON.stringify(b)), weight: 1 },
    { arbitrary: fc.constantFrom(...RAW_BODIES), weight: 1 },
  );

// ---- requests -------------------------------------------------------------------------

interface Fuzzed {
  method: string;
  url: string;
  auth: string;
  headers?: Record<string, string>;
  payload?: string;
}
const describeRequest = (r: Fuzzed) => `${r.method} ${r.url.slice(0, 300)} auth=${r.auth}${r.headers ? ` headers=${JSON.stringify(r.headers).slice(0, 200)}` : ''}${r.payload !== undefined ? ` body=${r.payload.slice(0, 300)}` : ''}`;

/** Sends one request; asserts no 5xx and the error shape of every 4xx. */
async function send(r: Fuzzed): Promise<number> {
  const authorization = AUTH[r.auth];
  const res = await q.app.inject({
    method: r.method as 'GET',
    url: r.url,
    headers: { ...(authorization !== undefined ? { authorization } : {}), ...r.headers } as OutgoingHttpHeaders,
    ...(r.payload !== undefined ? { payload: r.payload } : {}),
  });
  sent++;
  answered.set(res.statusCode, (answered.get(res.statusCode) ?? 0) + 1);
  const what = describeRequest(r);
  expect([what, res.statusCode < 500 ? 'no 5xx' : `${res.statusCode} ${res.body.slice(0, 300)}`]).toEqual([what, 'no 5xx']);
  if (res.statusCode >= 400 && r.method !== 'HEAD') {
    expect([what, res.headers['content-type']]).toEqual([what, expect.stringMatching(/^application\/json/)]);
    const body: unknown = JSON.parse(res.body);
    expect([what, body]).toEqual([what, { error: { code: expect.stringMatching(/^[a-z_]+$/), message: expect.any(String) } }]);
  }
  return res.statusCode;
}

/** The fixture's links each organization-bound service token may name (query-fixture.ts). */
const PLACEABLE: Record<string, string[]> = {
  'service org-a': ['l-a1', 'l-a1n', 'l-a2', 'l-a3', 'l-ax'],
  'service orgs [a]': ['l-a1', 'l-a1n', 'l-a2', 'l-a3', 'l-ax'],
  'service orgs [b, a]': ['l-a1', 'l-a1n', 'l-a2', 'l-a3', 'l-ax', 'l-b1', 'l-bx'],
  'service unbound': [],
};

/** Anything in the path, the query and the authorization header. */
const randomRead = fc
  .constantFrom(...READS)
  .chain((route) => fc.record({ method: fc.constant(route.method), url: fc.tuple(pathId, queryOf(route)).map(([id, query]) => `${route.path(id)}${query}`), auth: authName() }));
/** A fixture id of the route's kind, plausible parameters and a token that may well see it: the requests that reach the queries. */
const SEEING = ['platform_admin', 'org_admin a', 'org_admin b', 'coordinator a', 'coordinator x', 'mentor m-a1', 'mentor m-x@b'];
const deepRead = fc
  .constantFrom(...READS)
  .chain((route) =>
    fc.record({ method: fc.constant(route.method), url: fc.tuple(fc.constantFrom(...route.ids), plausibleQuery(route)).map(([id, query]) => `${route.path(id)}${query}`), auth: fc.constantFrom(...SEEING) }),
  );
const readRequest = fc.oneof({ arbitrary: randomRead, weight: 1 }, { arbitrary: deepRead, weight: 2 });

const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
const webhookRequest = fc.constantFrom(...WEBHOOKS).chain((route) =>
  fc.record({
    method: fc.constant(route.method),
    url: fc.oneof({ arbitrary: fc.constant(route.path('')), weight: 9 }, { arbitrary: queryOf(ROUTES[0] as Route).map((query) => `${route.path('')}${query}`), weight: 1 }),
    // Mostly service tokens, so bodies reach the checks behind authorization.
    auth: fc.oneof({ arbitrary: fc.constantFrom('service org-a', 'service orgs [a]', 'service orgs [b, a]', 'service *', 'service unbound', 'service orgs with NUL'), weight: 4 }, { arbitrary: authName(), weight: 1 }),
    headers: fc.oneof({ arbitrary: fc.constantFrom(...JSON_TYPES), weight: 8 }, { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 1 }).map((type) => (type === '' ? ({} as Record<string, string>) : { 'content-type': type })),
    payload: payloadOf(route),
  }),
);

/** Any method on any route, unknown paths and the operational routes, with odd headers. */
const strayRequest = fc.record({
  method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'),
  url: fc.oneof(
    fc.tuple(fc.constantFrom(...ROUTES), pathId).map(([route, id]) => route.path(id)),
    fc.constantFrom(
      '/', '/v1', '/v1/', '/v1/mentors', '/v1/mentors/', '/v1/mentors//referral-stats', '/v1/mentors/m-a1/referral-stats/', '/v1/mentors/m-a1/../../platform/growth',
      '/v1/mentors/m-a1%2F..%2F..%2Fplatform/growth', '/V1/platform/growth', '/v2/platform/growth', '/%76%31/platform/growth', '/v1/platform/growth?%', '/v1/platform/growth#frag',
      `/v1/mentors/${'m'.repeat(300)}/recruits`, `/v1/mentors/${'%C3%A4'.repeat(200)}/recruits`, '/healthz', '/readyz', '/metrics', '/openapi.json', '/docs', '/docs/', '/docs/json',
      '/docs/static/index.html', '/docs/static/../../package.json', '/docs/static/%2e%2e/%2e%2e/package.json', '/healthz?x=%zz',
    ),
  ),
  auth: authName(),
  headers: fc.record(
    {
      accept: fc.constantFrom('*/*', 'text/csv', 'application/xml', '', 'application/json;q=0', 'text/html'),
      'if-none-match': fc.constantFrom('*', '"abc"', 'W/"x"', '', '"'.repeat(50)),
      'x-request-id': fc.constantFrom('req-1', '', 'x'.repeat(100), '../../', 'a b'),
      origin: fc.constantFrom('https://evil.example', 'null', ''),
      'access-control-request-method': fc.constantFrom('GET', 'POST', 'DELETE'),
      'content-type': fc.constantFrom('application/json', 'text/plain'),
    },
    { requiredKeys: [] },
  ),
  payload: fc.option(fc.constantFrom('{}', 'null', '{', 'x'), { nil: undefined }),
});

beforeAll(async () => {
  env = await createTestEnv('query_fuzz');
  // Random ranges reach back to year 0 (a range cost of 24,000 units, twice that with compare):
  // room for every one of them, as this fuzz is about answers, not the limiter.
  q = await startQueryApp(env, { rateLimitPerMinute: 1_000_000_000 });
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
  await mintTokens();
});

afterAll(async () => {
  await q?.close();
  await env?.close();
});

describe('the query service under an HTTP fuzz of every route', () => {
  it('the read routes never answer 5xx, whatever their path, query and token', async () => {
    await fc.assert(fc.asyncProperty(readRequest, async (r) => void (await send(r))), { numRuns: runs(6_500), seed: SEED });
  });

  it('the webhooks never answer 5xx, whatever their body and token, and accept only what a service token may write', async () => {
    await fc.assert(
      fc.asyncProperty(webhookRequest, async (r) => {
        const status = await send(r);
        if (status !== 202) return;
        expect([describeRequest(r), r.auth.startsWith('service ')]).toEqual([describeRequest(r), true]);
        // An organization-bound token is accepted only naming a link of its own organizations (or none).
        const body = JSON.parse(r.payload as string) as { linkId?: unknown; orgId?: unknown };
        const placeable = PLACEABLE[r.auth];
        if (placeable && typeof body.linkId === 'string') expect([describeRequest(r), placeable.includes(body.linkId)]).toEqual([describeRequest(r), true]);
      }),
      { numRuns: runs(3_000), seed: SEED },
    );
  });

  it('stray methods, paths and headers never answer 5xx', async () => {
    await fc.assert(fc.asyncProperty(strayRequest, async (r) => void (await send(r))), { numRuns: runs(1_000), seed: SEED });
  });

  it('every boundary date of every date parameter is a 200 inside 1970-01-01..9999-12-31, else a 400 naming it', async () => {
    // Worked out here, apart from the service: a real YYYY-MM-DD date of the calendar, or a whole year of it.
    const inCalendar = (day: string) => {
      const t = Date.parse(`${day}T00:00:00Z`);
      return /^\d{4}-\d{2}-\d{2}$/.test(day) && day >= '1970-01-01' && day <= '9999-12-31' && !Number.isNaN(t) && new Date(t).toISOString().startsWith(day);
    };
    const yearInCalendar = (year: string) => year.trim() !== '' && Number.isInteger(Number(year)) && Number(year) >= 1970 && Number(year) <= 9999;
    const cases: { url: string; bad: string | null }[] = [];
    const ranged = ['/v1/mentors/m-a1/referral-stats?orgId=org-a', '/v1/coordinators/coord-a/mentor-performance?sort=registrations', '/v1/orgs/org-a/recruitment-summary?granularity=day', '/v1/platform/growth?limit=5'];
    for (const route of ranged) {
      for (const day of BOUNDARY_DATES) {
        // The other end of the range is the same day when this one is good, else a good one: only this parameter can be wrong.
        const other = inCalendar(day) ? day : '2026-03-10';
        cases.push({ url: `${route}&from=${enc(day)}&to=${other}`, bad: inCalendar(day) ? null : 'from' }, { url: `${route}&from=${other}&to=${enc(day)}`, bad: inCalendar(day) ? null : 'to' });
      }
    }
    for (const year of BOUNDARY_YEARS) cases.push({ url: `/v1/mentors/m-a1/annual-summary?orgId=org-a&year=${enc(year)}`, bad: yearInCalendar(year) ? null : 'year' });
    for (const granularity of ['day', 'week', 'month', 'year']) {
      for (const [from, to] of [['0000-01-01', '0000-01-05'], ['1970-01-01', '1970-01-31'], ['9999-12-01', '9999-12-31'], ['9990-01-01', '9999-12-31'], ['1969-12-31', '1970-01-01'], ['9999-12-31', '10000-01-01']] as const) {
        const bad = !inCalendar(from) ? 'from' : !inCalendar(to) ? 'to' : null;
        cases.push({ url: `/v1/orgs/org-a/recruitment-summary?from=${from}&to=${to}&granularity=${granularity}`, bad: bad ?? (granularity === 'day' && from === '9990-01-01' ? 'to' : null) });
        cases.push({ url: `/v1/platform/growth?from=${from}&to=${to}&granularity=${granularity}`, bad: bad ?? (granularity === 'day' && from === '9990-01-01' ? 'to' : null) });
      }
    }
    // Only `to`, near the calendar's first day: `from` defaults to 29 days before it, but never before 1970-01-01.
    cases.push({ url: '/v1/orgs/org-a/recruitment-summary?to=1970-01-05', bad: null });
    for (const { url, bad } of cases) {
      await send({ method: 'GET', url, auth: 'platform_admin' });
      const res = await q.app.inject({ method: 'GET', url, headers: { authorization: AUTH.platform_admin as string } });
      const answer = res.statusCode === 200 ? null : (res.json() as { error: { message: string } }).error.message.split(':')[0];
      expect([url, res.statusCode, answer]).toEqual([url, bad === null ? 200 : 400, bad]);
    }
    const early = await q.app.inject({ method: 'GET', url: '/v1/orgs/org-a/recruitment-summary?to=1970-01-05', headers: { authorization: AUTH.platform_admin as string } });
    expect(early.json()).toMatchObject({ from: '1970-01-01', to: '1970-01-05' });
  });

  it('sent more than 10,000 requests in all', () => {
    console.info(`query fuzz (seed ${SEED}): ${sent} requests, by status ${JSON.stringify(Object.fromEntries([...answered].sort(([a], [b]) => a - b)))}`);
    expect(sent).toBeGreaterThanOrEqual(runs(10_000));
  });
});
