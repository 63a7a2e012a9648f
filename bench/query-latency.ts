/**
 * Query service latency: 200,000 funnel events for 150 mentors over a year are aggregated into
 * a database of their own, then autocannon drives GET /v1/mentors/{id}/referral-stats (a
 * random mentor per request, 90 days, daily series) on the query service process for 20 s,
 * with 1 connection (latency unloaded) and 20 (under load), and a yearly range with 20. Prints
 * p50/p99 and requests/s.
 */
import autocannon from 'autocannon';
import { createTestEnv } from '../test/support/env.js';
import { startAggregatorWorker, waitForPositions } from '../test/support/workers.js';
import { spawn } from 'node:child_process';
import { eventually } from '../test/support/env.js';
import { mintToken } from '../libs/auth/tokens.js';
import { createEventProducer } from '../libs/kafka/event-producer.js';
import { referralEvents } from '../libs/sample/referral-events.js';

const env = await createTestEnv('bench_query');
try {
  const events = referralEvents({ seed: 3, count: 200_000, orgs: 5, mentorsPerOrg: 30, days: 365, start: Date.UTC(2025, 11, 1) });
  const producer = createEventProducer(env);
  await producer.connect();
  for (let i = 0; i < events.length; i += 2_000) await producer.send('referralEvents', events.slice(i, i + 2_000));
  await producer.disconnect();
  const aggregator = await startAggregatorWorker(env);
  await waitForPositions(env.kafka, env.db, env.topics.referralEvents, 600_000);
  await aggregator.stop();
  const mentors = [...new Set(events.map((e) => [e.mentorId, e.orgId] as const).map(([m, o]) => `${m}|${o}`))];
  for (const mo of mentors) {
    const [mentorId, orgId] = mo.split('|');
    await env.db.raw('insert into invite_links (link_id, org_id, mentor_id, created_at) values (?, ?, ?, now()) on conflict do nothing', [`bench-${mentorId}`, orgId as string, mentorId as string]);
  }
  const { rows } = await env.db.raw<{ rows: { n: string }[] }>('select count(*) n from funnel_daily');

  // The service runs as its own process, as in production; autocannon drives it from this one.
  const port = Number(process.env.BENCH_PORT ?? 3999);
  const address = `http://127.0.0.1:${port}`;
  const service = spawn(process.execPath, [...(process.env.BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] : []), '--import', 'tsx', 'services/query-service/main.ts'], {
    env: { ...process.env, DATABASE_URL: env.config.databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, HTTP_PORT: String(port), LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000000' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await eventually(async () => ((await fetch(`${address}/readyz`).catch(() => null))?.ok ? true : undefined), 60_000, 'the query service');
  const token = await mintToken({ role: 'platform_admin', sub: 'bench' }, env.config.auth.jwtSecret);
  const ids = mentors.map((m) => m.split('|')[0] as string);
  try {
    for (const [label, query, connections] of [
      ['90 days, daily, 1 connection', 'from=2026-06-01&to=2026-08-29&granularity=day', 1],
      ['90 days, daily, 20 connections', 'from=2026-06-01&to=2026-08-29&granularity=day', 20],
      ['a year, monthly, 20 connections', 'from=2026-01-01&to=2026-12-31&granularity=month', 20],
    ] as const) {
      let i = 0;
      const result = await autocannon({
        url: address,
        connections,
        duration: Number(process.env.BENCH_SECONDS ?? 20),
        headers: { authorization: `Bearer ${token}` },
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/mentors/${ids[i++ % ids.length]}/referral-stats?${query}` }) }],
      });
      const bad = result.non2xx + result.errors + result.timeouts;
      console.log(
        `query mentor-stats (${label}; ${rows[0]?.n} daily rows, 150 mentors): p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, ` +
          `${Math.round(result.requests.average)} req/s, ${result.requests.total} requests, ${bad} not 2xx`,
      );
    }
  } finally {
    service.kill('SIGTERM');
    await new Promise((r) => service.once('exit', r));
  }
} finally {
  await env.close();
}
