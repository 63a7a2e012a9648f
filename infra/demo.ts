/**
 * `make demo`: the three services under one supervisor, realistic sample traffic through
 * Kafka, then the URLs, a ready-made token and a dashboard link per role. The stack is up
 * already (make demo runs make up first, which also builds the dashboard). Ctrl-C stops the
 * services.
 *
 * With DEMO_CHECK=1 (CI sets it) it runs unattended instead: sends the traffic, checks that the
 * API shows non-zero numbers for every role, stops everything and exits 0, or 1 naming what
 * was missing.
 */
import { loadConfig } from '../libs/config/config.js';
import { createLogger } from '../libs/log/logger.js';
import { createKafka } from '../libs/kafka/client.js';
import { createEventProducer } from '../libs/kafka/event-producer.js';
import { consumerLag } from '../libs/kafka/lag.js';
import { createEventCodec, createSchemaRegistry } from '../libs/events/codec.js';
import { INPUT_TOPICS, topicNames } from '../libs/events/topics.js';
import { createPool } from '../libs/runtime/connections.js';
import { pipelineServices, superviseServices } from '../libs/runtime/supervisor.js';
import { mintToken, type TokenRole } from '../libs/auth/tokens.js';
import { sampleTraffic } from '../libs/sample/sample-traffic.js';

const check = process.env.DEMO_CHECK === '1' || process.env.DEMO_CHECK === 'true';
const config = loadConfig();
const log = createLogger({ name: 'demo', level: 'warn' });
const say = (line = '') => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const api = `http://127.0.0.1:${config.httpPort}`;
const names = topicNames(config.kafka.topicPrefix);

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(500);
  }
}
const ready = (url: string) => async () => (await fetch(url)).ok;
/** The roles that have a dashboard (a service token only posts events). */
const DASHBOARD_ROLES = ['org_admin', 'coordinator', 'mentor', 'platform_admin'] as const;

const services = superviseServices(pipelineServices(), { color: process.stdout.isTTY });
let stopping = false;
const stop = async (code: number) => {
  if (stopping) process.exit(code);
  stopping = true;
  say('stopping the services…');
  await services.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  await until('the services to be ready', async () => (await ready(`${api}/readyz`)()) && (await ready('http://127.0.0.1:9101/readyz')()) && (await ready('http://127.0.0.1:9102/readyz')()));

  // Four organizations, one of them on New York time; a clock change (29 March) inside the
  // period; mentors of very different reach; campaigns; bots and link previews; redeliveries;
  // device-attributed installs and registrations; and a few links published late, after the
  // clicks and registrations that use them.
  const seed = 7;
  const traffic = sampleTraffic({ seed, clicks: 6000, orgs: 4, mentorsPerOrg: 10, start: Date.UTC(2026, 2, 16), days: 28, duplicateRate: 0.06 });
  const pool = createPool(config, log, 1);
  await pool.query("insert into org_settings (org_id, timezone) values ($1, 'America/New_York') on conflict (org_id) do update set timezone = excluded.timezone", [`s${seed}_org3`]);
  await pool.end();
  const late = new Set(traffic.links.filter((_, i) => i % 9 === 4).map((l) => l.linkId));
  const kafka = createKafka({ ...config.kafka, log });
  const producer = createEventProducer({ kafka, codec: createEventCodec({ registry: createSchemaRegistry(config), topics: names }), topics: names });
  await producer.connect();
  await producer.send('inviteLinks', traffic.links.filter((l) => !late.has(l.linkId)));
  await producer.send('coordinatorScopes', traffic.scopes);
  // Newest first within each chunk: events arrive out of order.
  for (const [topic, records] of [['inviteClicks', traffic.clicks], ['appInstalls', traffic.installs], ['userRegistered', traffic.registrations], ['userLogins', traffic.logins]] as const) {
    for (let i = 0; i < records.length; i += 1000) await producer.send(topic, records.slice(i, i + 1000).reverse() as never);
  }
  await producer.send('inviteLinks', traffic.links.filter((l) => late.has(l.linkId)));
  await producer.disconnect();
  const sent = Object.values(traffic).reduce((n, list: unknown[]) => n + list.length, 0);
  say(`published ${sent} sample events (seed ${seed}); waiting for the workers…`);

  const admin = kafka.admin();
  await admin.connect();
  await until('the ingest worker to catch up', async () => (await consumerLag(admin, `${config.kafka.topicPrefix}recruitment.ingest-worker`, INPUT_TOPICS.map((t) => names[t]))).every((r) => r.lag === 0));
  await sleep(1000);
  await until('the aggregator to catch up', async () => (await consumerLag(admin, `${config.kafka.topicPrefix}recruitment.aggregator-worker`, [names.referralEvents])).every((r) => r.lag === 0));
  await admin.disconnect();

  const org = `s${seed}_org0`;
  // Who each ready-made token speaks for; the curl lines below mint the same identities.
  const identities: Record<TokenRole, { sub: string; org?: string }> = {
    mentor: { sub: `${org}_mentor0`, org },
    coordinator: { sub: `s${seed}_coord0`, org },
    org_admin: { sub: 'demo-admin', org },
    platform_admin: { sub: 'demo-platform' },
    service: { sub: 'demo-webhook', org },
  };
  const tokens = Object.fromEntries(
    await Promise.all(Object.entries(identities).map(async ([role, who]) => [role, await mintToken({ role: role as TokenRole, ...who }, config.auth.jwtSecret, '12h', config.auth)])),
  ) as Record<TokenRole, string>;
  const range = 'from=2026-03-01&to=2026-04-30';
  // The four weeks of sample traffic, by week, in the dashboard.
  const dashboardLink = (token: string) => `${api}/dashboard/?from=2026-03-16&to=2026-04-12&granularity=week#token=${token}`;
  const examples: [TokenRole, string, (body: never) => number][] = [
    ['mentor', `/v1/mentors/${org}_mentor0/referral-stats?${range}&granularity=week`, (b: { totals: { clicks: number } }) => b.totals.clicks],
    ['coordinator', `/v1/coordinators/s${seed}_coord0/mentor-performance?${range}`, (b: { items: { totals: { registrations: number } }[] }) => b.items.reduce((n, i) => n + i.totals.registrations, 0)],
    ['org_admin', `/v1/orgs/${org}/recruitment-summary?${range}&granularity=month`, (b: { totals: { registrations: number } }) => b.totals.registrations],
    ['platform_admin', `/v1/platform/growth?${range}&granularity=month`, (b: { organizations: { totals: { clicks: number } }[] }) => b.organizations.reduce((n, o) => n + o.totals.clicks, 0)],
  ];

  say('');
  say(`  API       ${api}/v1`);
  say(`  docs      ${api}/docs   (Authorize with a token below)`);
  say(`  OpenAPI   ${api}/openapi.json`);
  say(`  metrics   ${api}/metrics, http://127.0.0.1:9101/metrics, http://127.0.0.1:9102/metrics`);
  if (config.auth.usingDevSecret) say(`  secret    tokens are HS256 with the development secret "${config.auth.jwtSecret}"; mint more with: npx recruitment token --help`);
  say('');
  for (const [role, token] of Object.entries(tokens)) say(`  ${role.padEnd(15)} ${token}`);
  say('');
  // The token rides in the URL fragment, which the browser never sends to the server (so it
  // reaches no log); the page moves it to the tab's sessionStorage and clears it from the URL.
  say('  dashboard (open a link; each signs in as that role):');
  for (const role of DASHBOARD_ROLES) say(`  ${role.padEnd(15)} ${dashboardLink(tokens[role])}`);
  say('');
  for (const [role, path] of examples) {
    const who = identities[role];
    say(`  curl -H "Authorization: Bearer $(npx recruitment token --role ${role} --sub ${who.sub}${who.org ? ` --org ${who.org}` : ''})" '${api}${path}'`);
  }
  say('');

  // Every role sees non-zero numbers (and the service role may post an event).
  const problems: string[] = [];
  for (const [role, path, count] of examples) {
    const res = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${tokens[role]}` } });
    const n = res.ok ? count((await res.json()) as never) : 0;
    say(`  ${role.padEnd(15)} ${res.status} ${path.split('?')[0]} -> ${n}`);
    if (!res.ok || !(n > 0)) problems.push(`${role}: ${res.status} ${path} shows ${n}`);
  }
  // The dashboard is served, under its strict CSP, to be read with those same tokens.
  const page = await fetch(`${api}/dashboard/`);
  const csp = page.headers.get('content-security-policy') ?? '';
  say(`  ${'dashboard'.padEnd(15)} ${page.status} GET /dashboard/`);
  if (!page.ok || !csp.includes("script-src 'self'") || !(await page.text()).includes('<main id="main"')) problems.push(`dashboard: GET /dashboard/ answered ${page.status} (${csp ? 'with' : 'without'} its CSP)`);
  const posted = await fetch(`${api}/v1/events/invite-clicks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens.service}`, 'content-type': 'application/json' },
    body: JSON.stringify({ eventId: 'demo-webhook-click-1', linkId: traffic.links[0]?.linkId, occurredAt: new Date().toISOString(), visitor: { deviceId: 'demo-device', platform: 'WEB' } }),
  });
  say(`  ${'service'.padEnd(15)} ${posted.status} POST /v1/events/invite-clicks`);
  if (posted.status !== 202) problems.push(`service: POST /v1/events/invite-clicks answered ${posted.status}`);

  if (check) {
    if (problems.length) say(`demo check FAILED:\n  ${problems.join('\n  ')}`);
    else say('demo check passed: every role sees its numbers');
    await stop(problems.length ? 1 : 0);
  } else {
    if (problems.length) say(`warning: ${problems.join('; ')}`);
    say('the services keep running; Ctrl-C stops them (`make down` stops the stack)');
  }
} catch (err) {
  say(`demo failed: ${(err as Error).message}`);
  await stop(1);
}
