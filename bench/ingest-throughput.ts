/**
 * Ingest throughput: publishes ~100k input events of realistic sample traffic to topics of
 * its own, then times ingest workers from start until their group has caught up, each run on
 * a database of its own over the same events:
 *  - one instance, the traffic in publishing order (links first);
 *  - two instances in one group;
 *  - one instance over the same traffic published out of order across topics (late links,
 *    registrations before their clicks), which makes the worker revise decisions.
 * Prints events/s. Run with `make bench`.
 */
import { createTestEnv, type TestEnv } from '../test/support/env.js';
import { startIngestWorker, waitForCatchUp } from '../test/support/workers.js';
import { publishOutOfOrder } from '../test/support/publish-out-of-order.js';
import { createEventProducer } from '../libs/kafka/event-producer.js';
import { sampleTraffic } from '../libs/sample/sample-traffic.js';
import { publishSample } from '../libs/sample/publish-sample.js';
import { INPUT_TOPICS } from '../libs/events/topics.js';

const target = Number(process.env.BENCH_EVENTS ?? 100_000);
// ~1.7 input events per click in the sample mix.
const traffic = sampleTraffic({ seed: 42, clicks: Math.round(target / 1.7), orgs: 5, mentorsPerOrg: 20 });

async function run(env: TestEnv, name: string, events: number, instances: number): Promise<number> {
  const { url, db } = await env.database(name);
  const started = Date.now();
  const workers = [];
  for (let i = 0; i < instances; i++) workers.push(await startIngestWorker(env, { group: name, databaseUrl: url }));
  await waitForCatchUp(env.kafka, env.group(name), INPUT_TOPICS.map((t) => env.topics[t]), 900_000);
  const seconds = (Date.now() - started) / 1000;
  for (const w of workers) await w.stop();
  const { rows } = await db.raw<{ rows: { n: string; r: string }[] }>('select count(*) n, count(retracts_event_id) r from referral_trackings');
  const rate = Math.round(events / seconds);
  console.log(`ingest (${name}): ${events} events in ${seconds.toFixed(1)} s = ${rate} events/s (${rows[0]?.n} funnel events published, ${rows[0]?.r} of them retractions)`);
  return rate;
}

/** A test env of its own with the traffic published to its topics. */
async function published(name: string, publish: (env: TestEnv) => Promise<number>): Promise<{ env: TestEnv; events: number }> {
  const env = await createTestEnv(name);
  const t0 = Date.now();
  const events = await publish(env).catch(async (err: unknown) => {
    await env.close();
    throw err;
  });
  console.log(`published ${events} events in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return { env, events };
}

const inOrder = await published('bench_ingest', async (env) => {
  const producer = createEventProducer(env);
  await producer.connect();
  try {
    return await publishSample(producer, traffic, 5000);
  } finally {
    await producer.disconnect();
  }
});
try {
  const one = await run(inOrder.env, 'one_instance', inOrder.events, 1);
  const two = await run(inOrder.env, 'two_instances', inOrder.events, 2);
  console.log(`ingest: two instances run at ${(two / one).toFixed(2)}x one instance`);
} finally {
  await inOrder.env.close();
}

const shuffled = await published('bench_ingest_shuffled', async (env) => {
  const producer = createEventProducer(env);
  await producer.connect();
  try {
    return await publishOutOfOrder(producer, traffic, 42, 5000);
  } finally {
    await producer.disconnect();
  }
});
try {
  await run(shuffled.env, 'out_of_order', shuffled.events, 1);
} finally {
  await shuffled.env.close();
}
