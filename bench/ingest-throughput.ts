/**
 * Ingest throughput: publishes ~100k input events of realistic sample traffic to topics of
 * its own, then times one ingest worker from start until its group has caught up.
 * Prints events/s. Run with `make bench`.
 */
import { createTestEnv } from '../test/support/env.js';
import { startIngestWorker, waitForCatchUp } from '../test/support/workers.js';
import { createEventProducer } from '../libs/kafka/event-producer.js';
import { sampleTraffic } from '../libs/sample/sample-traffic.js';
import { publishSample } from '../libs/sample/publish-sample.js';
import { INPUT_TOPICS } from '../libs/events/topics.js';

const target = Number(process.env.BENCH_EVENTS ?? 100_000);
// ~1.6 input events per click in the sample mix.
const traffic = sampleTraffic({ seed: 42, clicks: Math.round(target / 1.6), orgs: 5, mentorsPerOrg: 20 });
const env = await createTestEnv('bench_ingest');
try {
  const producer = createEventProducer(env);
  await producer.connect();
  const t0 = Date.now();
  const events = await publishSample(producer, traffic, 5000);
  await producer.disconnect();
  console.log(`published ${events} events in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const started = Date.now();
  const worker = await startIngestWorker(env);
  await waitForCatchUp(env.kafka, env.group('ingest'), INPUT_TOPICS.map((t) => env.topics[t]), 900_000);
  const seconds = (Date.now() - started) / 1000;
  await worker.stop();
  const { rows } = await env.db.raw<{ rows: { n: string }[] }>('select count(*) n from referral_trackings');
  console.log(`ingest: ${events} events in ${seconds.toFixed(1)} s = ${Math.round(events / seconds)} events/s (${rows[0]?.n} funnel events published)`);
} finally {
  await env.close();
}
