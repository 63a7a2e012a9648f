import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startQueryApp, type QueryApp } from '../support/query.js';
import { loadQueryFixture } from '../support/query-fixture.js';
import { parseCsv } from '../../services/query-service/csv.js';

/**
 * Follow-up lists (`stuckDays`, `stageSince`) on the org and coordinator referrals routes, and
 * the CSV answer of every list and summary route read back and compared with its JSON, through
 * the real service on the fixture (query-fixture.ts) plus recruits registered days before now.
 */
let env: TestEnv;
let q: QueryApp;
let admin: string;
const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
// Recruits of org-a relative to now: one registered 3 days ago (not yet stuck at 7), one 10
// days ago (stuck), one 20 days ago who activated 15 days ago (never stuck).
const RECENT = { registered3: ago(3), registered10: ago(10), registered20: ago(20), activated15: ago(15) };

async function get(url: string, token = admin, headers: Record<string, string> = {}) {
  const res = await q.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.statusCode, text: res.body, headers: res.headers, json: () => res.json() };
}

beforeAll(async () => {
  env = await createTestEnv('query_follow_up');
  q = await startQueryApp(env);
  await loadQueryFixture(q.pool, env.config.defaultTimezone);
  const rows: [string, string, string, string, string | null, string][] = [
    ['r-new', 'u-new', 'm-a1', RECENT.registered3, null, 'Nina Ny'],
    ['r-old', 'u-old', 'm-a2', RECENT.registered10, null, '=HYPERLINK("http://evil","click")'],
    ['r-act', 'u-act', 'm-a2', RECENT.registered20, RECENT.activated15, 'Aktiv, "Anne"'],
  ];
  for (const [referralId, userId, mentorId, registeredAt, activatedAt, name] of rows) {
    await q.pool.query(
      `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, campaign_id, attributed_by, display_name, registered_at, activated_at, registration_event_id)
       values ($1, $2, 'org-a', $3, $4, null, 'LINK', $5, $6, $7, $8)`,
      [referralId, userId, mentorId, mentorId === 'm-a1' ? 'l-a1n' : 'l-a2', name, registeredAt, activatedAt, `evt-${userId}`],
    );
  }
  admin = await q.token('org_admin', 'admin-a', 'org-a');
});

afterAll(async () => {
  await q?.close();
  await env?.close();
});

type Item = { referralId: string; mentorId: string; mentorName: string | null; stage: string; stageSince: string; registeredAt: string; activatedAt: string | null };
const rows = (items: Item[]) => items.map((i) => [i.referralId, i.mentorId, i.stage, i.stageSince]);

describe('follow-up lists: stuckDays and stageSince', () => {
  it('the org route keeps the recruits not activated whose stage was reached at least N days ago, newest first', async () => {
    const stuck = await get('/v1/orgs/org-a/referrals?stuckDays=7');
    expect(stuck.status).toBe(200);
    expect(rows(stuck.json().items)).toEqual([
      ['r-old', 'm-a2', 'REGISTERED', RECENT.registered10],
      ['r-a3', 'm-a1', 'REGISTERED', '2026-03-29T22:40:00.000Z'],
      ['r-ax', 'm-x', 'REGISTERED', '2026-03-13T12:10:00.000Z'],
      ['r-a2', 'm-a1', 'REGISTERED', '2026-03-10T11:00:00.000Z'],
    ]);
    expect(stuck.json().items.map((i: Item) => i.mentorName)).toEqual(['Ola Hansen', 'Kari Nordmann', 'Xavier A', 'Kari Nordmann']);
    // 0 days: every recruit not activated, the one of 3 days ago too; 11 days: not the one of 10.
    expect((await get('/v1/orgs/org-a/referrals?stuckDays=0')).json().items.map((i: Item) => i.referralId)).toEqual(['r-new', 'r-old', 'r-a3', 'r-ax', 'r-a2']);
    expect((await get('/v1/orgs/org-a/referrals?stuckDays=11')).json().items.map((i: Item) => i.referralId)).toEqual(['r-a3', 'r-ax', 'r-a2']);
    // Filters combine: one mentor; an activated stage is never stuck.
    expect((await get('/v1/orgs/org-a/referrals?stuckDays=7&mentorId=m-a1')).json().items.map((i: Item) => i.referralId)).toEqual(['r-a3', 'r-a2']);
    expect((await get('/v1/orgs/org-a/referrals?stuckDays=7&stage=ACTIVATED')).json()).toEqual({ items: [], nextCursor: null });
    expect((await get('/v1/orgs/org-a/referrals?stuckDays=7&stage=REGISTERED')).json().items).toHaveLength(4);
  });

  it('stageSince is the registration of a registered recruit and the activation of an activated one', async () => {
    const all = (await get('/v1/orgs/org-a/referrals?limit=200')).json().items as Item[];
    expect(all).toHaveLength(10);
    for (const i of all) expect([i.referralId, i.stageSince]).toEqual([i.referralId, i.activatedAt ?? i.registeredAt]);
    expect(all.find((i) => i.referralId === 'r-act')?.stageSince).toBe(RECENT.activated15);
    expect(all.find((i) => i.referralId === 'r-a1')?.stageSince).toBe('2026-03-11T08:00:00.000Z');
    // The mentor's own list keeps its shape (RecruitProfile, SPEC §5).
    const own = (await get('/v1/mentors/m-a1/recruits')).json().items[0];
    expect(own).not.toHaveProperty('stageSince');
  });

  it("the coordinator route lists the stuck recruits of the coordinator's mentors only, paged with cursors", async () => {
    const coord = await q.token('coordinator', 'coord-a', 'org-a');
    const stuck = await get('/v1/coordinators/coord-a/referrals?stuckDays=7', coord);
    expect(rows(stuck.json().items)).toEqual([
      ['r-old', 'm-a2', 'REGISTERED', RECENT.registered10],
      ['r-a3', 'm-a1', 'REGISTERED', '2026-03-29T22:40:00.000Z'],
      ['r-a2', 'm-a1', 'REGISTERED', '2026-03-10T11:00:00.000Z'],
    ]);
    expect(stuck.json().nextCursor).toBeNull();
    const paged: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/v1/coordinators/coord-a/referrals?stuckDays=7&limit=1${cursor ? `&cursor=${cursor}` : ''}`, coord);
      expect(res.status).toBe(200);
      paged.push(...res.json().items.map((i: Item) => i.referralId));
      cursor = res.json().nextCursor;
    } while (cursor !== null);
    expect(paged).toEqual(['r-old', 'r-a3', 'r-a2']);
    expect((await get('/v1/coordinators/coord-a/referrals?stuckDays=7&mentorId=m-a2', coord)).json().items.map((i: Item) => i.referralId)).toEqual(['r-old']);
    // An org admin reads any coordinator of the organization; coord-x's recruits are m-x's.
    expect((await get('/v1/coordinators/coord-x/referrals?stuckDays=7')).json().items.map((i: Item) => i.referralId)).toEqual(['r-ax']);
  });

  it('a bad stuckDays is a 400 naming it', async () => {
    for (const bad of ['-1', 'seven', '1.5', '36501', '1e400']) {
      const res = await get(`/v1/orgs/org-a/referrals?stuckDays=${bad}`);
      expect([bad, res.status, res.json().error.message]).toEqual([bad, 400, expect.stringMatching(/^stuckDays/)]);
    }
  });
});

// ---- CSV ---------------------------------------------------------------------------------

/** A CSV answer as objects by its header, with the header itself. */
function table(text: string): { header: string[]; records: Record<string, string>[] } {
  const [header = [], ...body] = parseCsv(text);
  return { header, records: body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? '']))) };
}
/** The CSV text of a JSON value: numbers as written, null empty, booleans true/false. */
const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
const INSTANT = /^(clicked|installed|registered|activated)At$|^stageSince$/;
const TOTALS = ['clicks', 'uniqueClicks', 'installs', 'registrations', 'activations'];
const RATES = ['clickToRegistration', 'registrationToActivation', 'clickToActivation'];

async function both(url: string, token = admin) {
  const json = await get(url, token);
  const csv = await get(`${url}${url.includes('?') ? '&' : '?'}format=csv`, token);
  expect([url, json.status, csv.status, csv.headers['content-type']]).toEqual([url, 200, 200, 'text/csv; charset=utf-8']);
  expect(csv.headers['content-disposition']).toMatch(/^attachment; filename="[\w.-]+\.csv"$/);
  expect(csv.text.endsWith('\r\n')).toBe(true);
  return { body: json.json(), ...table(csv.text) };
}

/** A list's rows compared field by field: instants the same moment, written in the timezone with its offset. */
function expectListRow(record: Record<string, string>, item: Record<string, unknown>, offsets: RegExp) {
  for (const [key, text] of Object.entries(record)) {
    const value = item[key];
    if (INSTANT.test(key) && value !== null) {
      expect([key, text]).toEqual([key, expect.stringMatching(offsets)]);
      expect([key, Date.parse(text)]).toEqual([key, Date.parse(value as string)]);
    } else if (typeof value === 'string' && /^[=+\-@]/.test(value)) {
      expect([key, text]).toEqual([key, `'${value}`]);
    } else expect([key, text]).toEqual([key, cell(value)]);
  }
}

const OSLO = /^2026-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?\+0[12]:00$/;
const NEW_YORK = /^2026-\d\d-\d\dT\d\d:\d\d:\d\d-0[45]:00$/;

describe('CSV: every list and summary route, read back and compared with its JSON', () => {
  it('org and coordinator referrals, and a mentor\'s recruits: one row per recruit, instants in the org timezone', async () => {
    const org = await both('/v1/orgs/org-a/referrals?limit=200');
    expect(org.header).toEqual(['mentorId', 'mentorName', 'referralId', 'userId', 'displayName', 'linkId', 'campaignId', 'stage', 'clickedAt', 'installedAt', 'registeredAt', 'activatedAt', 'stageSince']);
    expect(org.records).toHaveLength(org.body.items.length);
    org.records.forEach((r, i) => expectListRow(r, org.body.items[i], OSLO));
    expect(org.records.find((r) => r.referralId === 'r-a1')).toMatchObject({ registeredAt: '2026-03-10T11:05:00+01:00', activatedAt: '2026-03-11T09:00:00+01:00', stageSince: '2026-03-11T09:00:00+01:00' });
    // A name a spreadsheet would run as a formula arrives as text; quotes and commas survive.
    expect(org.records.find((r) => r.referralId === 'r-old')?.displayName).toBe(`'=HYPERLINK("http://evil","click")`);
    expect(org.records.find((r) => r.referralId === 'r-act')?.displayName).toBe('Aktiv, "Anne"');

    const stuck = await both('/v1/coordinators/coord-a/referrals?stuckDays=7', await q.token('coordinator', 'coord-a', 'org-a'));
    expect(stuck.records.map((r) => [r.referralId, r.mentorName, r.stage])).toEqual([['r-old', 'Ola Hansen', 'REGISTERED'], ['r-a3', 'Kari Nordmann', 'REGISTERED'], ['r-a2', 'Kari Nordmann', 'REGISTERED']]);
    stuck.records.forEach((r, i) => expectListRow(r, stuck.body.items[i], OSLO));

    const root = await q.token('platform_admin', 'root');
    const b = await both('/v1/orgs/org-b/referrals', root);
    expect(b.records.map((r) => r.referralId)).toEqual(['r-bx2', 'r-bx1', 'r-b1']);
    b.records.forEach((r, i) => expectListRow(r, b.body.items[i], NEW_YORK));
    expect(b.records[2]).toMatchObject({ registeredAt: '2026-03-09T23:10:00-04:00' });

    const recruits = await both('/v1/mentors/m-a1/recruits');
    expect(recruits.header).toEqual(['referralId', 'userId', 'displayName', 'linkId', 'campaignId', 'stage', 'clickedAt', 'installedAt', 'registeredAt', 'activatedAt']);
    expect(recruits.records.map((r) => r.referralId)).toEqual(['r-new', 'r-a3', 'r-a2', 'r-a1']);
    recruits.records.forEach((r, i) => expectListRow(r, recruits.body.items[i], OSLO));
  });

  it('a list streams through its pages from the given cursor, not one page of `limit`', async () => {
    const first = (await get('/v1/orgs/org-a/referrals?limit=3')).json();
    const csv = table((await get(`/v1/orgs/org-a/referrals?limit=3&cursor=${first.nextCursor}&format=csv`)).text);
    const rest = (await get(`/v1/orgs/org-a/referrals?limit=200&cursor=${first.nextCursor}`)).json();
    expect(csv.records.map((r) => r.referralId)).toEqual(rest.items.map((i: Item) => i.referralId));
    expect(csv.records).toHaveLength(7);
  });

  it('referral-stats: a period row per series point, then the total with its conversion', async () => {
    const s = await both('/v1/mentors/m-a1/referral-stats?from=2026-03-01&to=2026-03-31&granularity=week');
    expect(s.header).toEqual(['row', 'periodStart', 'partial', ...TOTALS, ...RATES]);
    expect(s.records.map((r) => r.row)).toEqual([...s.body.series.map(() => 'period'), 'total']);
    s.body.series.forEach((p: Record<string, unknown>, i: number) => {
      expect(s.records[i]).toEqual({ row: 'period', periodStart: p.periodStart, partial: cell(p.partial ?? false), ...Object.fromEntries(TOTALS.map((k) => [k, cell(p[k])])), ...Object.fromEntries(RATES.map((k) => [k, ''])) });
    });
    expect(s.records.at(-1)).toEqual({ row: 'total', periodStart: '', partial: '', ...Object.fromEntries(TOTALS.map((k) => [k, cell(s.body.totals[k])])), ...Object.fromEntries(RATES.map((k) => [k, cell(s.body.conversion[k])])) });
    expect(s.records.at(-1)).toMatchObject({ clicks: '8', registrations: '3', registrationToActivation: String(1 / 3) });
    expect(s.records[0]).toMatchObject({ periodStart: '2026-02-23', partial: 'true' });
  });

  it('recruitment summaries (org and coordinator): period, total, mentor and campaign rows', async () => {
    const check = (s: Awaited<ReturnType<typeof both>>, mentors: Record<string, unknown>[]) => {
      expect(s.header).toEqual(['row', 'periodStart', 'partial', 'rank', 'mentorId', 'mentorName', 'campaignId', ...TOTALS, ...RATES]);
      const numbers = (o: { totals: Record<string, unknown>; conversion?: Record<string, unknown> | null }) => ({
        ...Object.fromEntries(TOTALS.map((k) => [k, cell(o.totals[k])])), ...Object.fromEntries(RATES.map((k) => [k, cell(o.conversion?.[k])])),
      });
      const expected = [
        ...s.body.series.map((p: Record<string, unknown>) => ({ row: 'period', periodStart: p.periodStart, partial: cell(p.partial ?? false), rank: '', mentorId: '', mentorName: '', campaignId: '', ...numbers({ totals: p }) })),
        { row: 'total', periodStart: '', partial: '', rank: '', mentorId: '', mentorName: '', campaignId: '', ...numbers(s.body) },
        ...mentors.map((m) => ({ row: 'mentor', periodStart: '', partial: '', rank: cell(m.rank), mentorId: m.mentorId, mentorName: cell(m.mentorName), campaignId: '', ...numbers(m as never) })),
        ...s.body.campaigns.map((c: Record<string, unknown>) => ({ row: 'campaign', periodStart: '', partial: '', rank: '', mentorId: '', mentorName: '', campaignId: cell(c.campaignId), ...numbers(c as never) })),
      ];
      expect(s.records).toEqual(expected);
    };
    const org = await both('/v1/orgs/org-a/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=week');
    check(org, org.body.topMentors);
    expect(org.records.filter((r) => r.row === 'mentor').map((r) => [r.rank, r.mentorName])).toEqual([['1', 'Kari Nordmann'], ['2', 'Ola Hansen'], ['3', 'Xavier A'], ['4', '']]);
    const coord = await both('/v1/coordinators/coord-a/recruitment-summary?from=2026-03-01&to=2026-03-31&granularity=month', await q.token('coordinator', 'coord-a', 'org-a'));
    check(coord, []);
    expect(coord.records.filter((r) => r.row === 'campaign').map((r) => [r.campaignId, r.registrations])).toEqual([['spring', '5'], ['', '1']]);
  });

  it('mentor-performance, annual-summary and platform growth', async () => {
    const perf = await both('/v1/coordinators/coord-a/mentor-performance?from=2026-03-01&to=2026-03-31');
    expect(perf.header).toEqual(['rank', 'mentorId', 'mentorName', ...TOTALS, ...RATES]);
    expect(perf.records).toEqual(perf.body.items.map((m: Record<string, Record<string, unknown>>) => ({
      rank: cell(m.rank), mentorId: m.mentorId, mentorName: cell(m.mentorName), ...Object.fromEntries(TOTALS.map((k) => [k, cell(m.totals?.[k])])), ...Object.fromEntries(RATES.map((k) => [k, cell(m.conversion?.[k])])),
    })));
    expect(perf.records.map((r) => [r.mentorId, r.registrations])).toEqual([['m-a1', '3'], ['m-a2', '3']]);

    const annual = await both('/v1/mentors/m-a1/annual-summary?year=2026');
    expect(annual.header).toEqual(['mentorId', 'mentorName', 'year', 'from', 'to', ...TOTALS, 'recruits', 'rankInOrg', 'percentileInOrg']);
    const a = annual.body;
    expect(annual.records).toEqual([{
      mentorId: 'm-a1', mentorName: 'Kari Nordmann', year: '2026', from: '2026-01-01', to: '2026-12-31', ...Object.fromEntries(TOTALS.map((k) => [k, cell(a.totals[k])])),
      recruits: cell(a.recruits), rankInOrg: cell(a.rankInOrg), percentileInOrg: cell(a.percentileInOrg),
    }]);

    const root = await q.token('platform_admin', 'root');
    const growth = await both('/v1/platform/growth?from=2026-03-01&to=2026-03-31&granularity=month&limit=1', root);
    expect(growth.header).toEqual(['orgId', 'timezone', 'row', 'periodStart', 'partial', ...TOTALS, ...RATES]);
    // The CSV streams every page of organizations (the JSON answer above is the first of them).
    const all = (await get('/v1/platform/growth?from=2026-03-01&to=2026-03-31&granularity=month&limit=200', root)).json();
    const expected = all.organizations.flatMap((o: { orgId: string; timezone: string; totals: Record<string, unknown>; conversion: Record<string, unknown>; series: Record<string, unknown>[] }) => [
      ...o.series.map((p) => ({ orgId: o.orgId, timezone: o.timezone, row: 'period', periodStart: p.periodStart, partial: cell(p.partial ?? false), ...Object.fromEntries(TOTALS.map((k) => [k, cell(p[k])])), ...Object.fromEntries(RATES.map((k) => [k, ''])) })),
      { orgId: o.orgId, timezone: o.timezone, row: 'total', periodStart: '', partial: '', ...Object.fromEntries(TOTALS.map((k) => [k, cell(o.totals[k])])), ...Object.fromEntries(RATES.map((k) => [k, cell(o.conversion[k])])) },
    ]);
    expect(growth.records).toEqual(expected);
    expect(growth.records.filter((r) => r.row === 'total').map((r) => [r.orgId, r.timezone, r.clicks])).toEqual([['org-a', 'Europe/Oslo', '14'], ['org-b', 'America/New_York', '12']]);
  });

  it('Accept: text/csv asks for CSV; format=json and a browser Accept keep JSON; errors stay JSON', async () => {
    const url = '/v1/coordinators/coord-a/mentor-performance?from=2026-03-01&to=2026-03-31';
    const byAccept = await get(url, admin, { accept: 'text/csv' });
    expect([byAccept.headers['content-type'], byAccept.text]).toEqual(['text/csv; charset=utf-8', (await get(`${url}&format=csv`)).text]);
    expect((await get(`${url}&format=json`, admin, { accept: 'text/csv' })).headers['content-type']).toMatch(/^application\/json/);
    expect((await get(url, admin, { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' })).headers['content-type']).toMatch(/^application\/json/);
    expect((await get(url, admin, { accept: 'application/json;q=0.5, text/csv' })).headers['content-type']).toBe('text/csv; charset=utf-8');
    const bad = await get('/v1/orgs/org-a/referrals?format=xml', admin, { accept: 'text/csv' });
    expect([bad.status, bad.headers['content-type'], bad.json().error.message]).toEqual([400, expect.stringMatching(/^application\/json/), expect.stringMatching(/^format/)]);
    expect((await get('/v1/orgs/org-a/referrals?cursor=abc&format=csv')).status).toBe(400);
  });
});

describe('CSV in the OpenAPI document', () => {
  it('every list and summary route lists text/csv beside JSON, and takes format', async () => {
    const doc = (await q.app.inject('/openapi.json')).json() as { paths: Record<string, { get?: { parameters?: { name: string }[]; responses: Record<string, { content?: Record<string, unknown> }> } }> };
    const withCsv = Object.entries(doc.paths).filter(([, m]) => m.get?.responses['200']?.content?.['text/csv']).map(([p]) => p).sort();
    expect(withCsv).toEqual([
      '/v1/coordinators/{coordinatorId}/mentor-performance', '/v1/coordinators/{coordinatorId}/recruitment-summary', '/v1/coordinators/{coordinatorId}/referrals',
      '/v1/mentors/{mentorId}/annual-summary', '/v1/mentors/{mentorId}/recruits', '/v1/mentors/{mentorId}/referral-stats',
      '/v1/orgs/{orgId}/recruitment-summary', '/v1/orgs/{orgId}/referrals', '/v1/platform/growth',
    ]);
    expect(doc.paths['/v1/coordinators/{coordinatorId}/referrals']?.get?.parameters?.map((p) => p.name).sort()).toEqual(['coordinatorId', 'cursor', 'format', 'limit', 'mentorId', 'orgId', 'stage', 'stuckDays']);
  });
});

describe('CSV: the cap of a list', () => {
  it('streams at most 10,000 rows, in the JSON order', async () => {
    await q.pool.query(
      `insert into referrals (referral_id, user_id, org_id, mentor_id, link_id, attributed_by, registered_at, registration_event_id)
       select 'r-c' || lpad(n::text, 5, '0'), 'u-c' || n, 'org-c', 'm-c', 'l-c', 'LINK', timestamptz '2026-06-01T00:00:00Z' + n * interval '1 minute', 'evt-c' || n
         from generate_series(1, 10050) n`,
    );
    const token = await q.token('org_admin', 'admin-c', 'org-c');
    const res = await get('/v1/orgs/org-c/referrals?format=csv', token);
    expect([res.status, res.headers['x-csv-max-rows']]).toEqual([200, '10000']);
    const { records } = table(res.text);
    expect(records).toHaveLength(10_000);
    expect([records[0]?.referralId, records.at(-1)?.referralId]).toEqual(['r-c10050', 'r-c00051']);
  });
});
