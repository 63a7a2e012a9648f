/**
 * Where a lane's transaction goes, statement by statement (issue 21): the ingest worker's own
 * batch applier (services/ingest-worker/apply-batch.ts), in this process, on a database of its
 * own, over sample traffic (libs/sample) delivered in event-time order in batches of a fixed
 * size, with no Kafka and nothing else running. The first third of the batches warms the
 * tables and connections; over the rest it prints the mean wall time of a transaction, and per
 * statement (by its text) how often it runs per transaction and its mean round trip (and the rows it returns) as the
 * worker sees it (Postgres' planning and execution, the socket, and this process' encoding
 * and parsing). Run it at a few sizes to split a transaction's fixed cost from its cost per
 * event:
 *
 *   npx tsx bench/lane-statements.ts 50      # and 250, 1000
 *
 * A measurement on an idle machine, not part of `make bench`: the same statements cost more
 * under contention (bench part 2).
 */
import pg from 'pg';
import { createTestEnv } from '../test/support/env.js';
import { createBatchApplier, type TopicRecords } from '../services/ingest-worker/apply-batch.js';
import { sampleTraffic } from '../libs/sample/sample-traffic.js';
import { timeOrdered } from './lib/pipeline.js';

const size = Number(process.argv[2] ?? 250);
if (!Number.isInteger(size) || size < 1) throw new Error(`the batch size must be a positive integer, got ${process.argv[2]}`);

const env = await createTestEnv('lane_statements');
const pool = new pg.Pool({ connectionString: env.config.databaseUrl, max: 2 });
const timing = { on: false, statements: new Map<string, { count: number; ms: number; rows: number }>() };
// Every connection's queries timed from the call to their answer, keyed by their text.
pool.on('connect', (client) => {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const first = args[0] as string | { text?: string; name?: string };
    const text = (typeof first === 'string' ? first : (first.text ?? first.name ?? '?')).replace(/\s+/g, ' ').slice(0, 100);
    const started = performance.now();
    const result = query(...args);
    if (timing.on && result instanceof Promise) {
      result.then((answer: unknown) => {
        const s = timing.statements.get(text) ?? { count: 0, ms: 0, rows: 0 };
        s.count += 1;
        for (const r of [answer].flat() as { rows?: unknown[] }[]) s.rows += r?.rows?.length ?? 0;
        s.ms += performance.now() - started;
        timing.statements.set(text, s);
      }, () => undefined);
    }
    return result;
  }) as typeof client.query;
});

try {
  const apply = createBatchApplier({ pool, config: env.config });
  const traffic = sampleTraffic({ seed: 7, clicks: 30_000 });
  await apply.applyGroups([{ topic: 'inviteLinks', records: traffic.links }, { topic: 'coordinatorScopes', records: traffic.scopes }] as TopicRecords[]);
  const events = timeOrdered(traffic);
  const batches: (typeof events)[] = [];
  for (let i = 0; i < events.length; i += size) batches.push(events.slice(i, i + size));
  const warm = Math.floor(batches.length / 3);
  let measured = 0;
  let wallMs = 0;
  for (const [i, batch] of batches.entries()) {
    timing.on = i >= warm;
    const groups = [...new Set(batch.map((e) => e.topic))].map((topic) => ({ topic, records: batch.filter((e) => e.topic === topic).map((e) => e.record) }) as TopicRecords);
    const started = performance.now();
    await apply.applyGroups(groups);
    if (timing.on) {
      measured += 1;
      wallMs += performance.now() - started;
    }
  }
  await apply.clearAcknowledged();
  const rows = [...timing.statements].sort((a, b) => b[1].ms - a[1].ms);
  const perTx = (x: number) => (x / measured).toFixed(2);
  const events_ = batches.slice(warm).reduce((a, b) => a + b.length, 0);
  console.log(`batches of ${size} events: ${measured} transactions measured, ${perTx(wallMs)} ms each (${((wallMs / events_) * 1000).toFixed(0)} µs per event)`);
  console.log(`statements per transaction ${perTx(rows.reduce((a, [, s]) => a + s.count, 0))}, ${perTx(rows.reduce((a, [, s]) => a + s.ms, 0))} ms in them`);
  console.log('ms per transaction | runs per transaction | ms per run | rows per transaction | statement');
  for (const [text, s] of rows) console.log(`${perTx(s.ms).padStart(8)} | ${perTx(s.count).padStart(5)} | ${(s.ms / s.count).toFixed(2).padStart(6)} | ${perTx(s.rows).padStart(7)} | ${text}`);
} finally {
  await pool.end();
  await env.close();
}
