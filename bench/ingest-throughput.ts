/**
 * Ingest throughput: publishes ~100k input events of realistic sample traffic to topics of
 * its own, then times ingest worker processes (services/ingest-worker/main.ts, as deployed)
 * from start until their group has caught up. Each run has its own topics and database:
 *  - one process, the traffic in publishing order (links first);
 *  - two processes in one group, the same traffic;
 *  - one process over the same traffic published out of order across topics (late links,
 *    registrations before their clicks), which makes the worker revise decisions.
 * Prints events/s. Run with `make bench`.
 */
import { spawn } from 'node:child_process';
import { createTestEnv, type TestEnv } from '../test/support/env.js';
import { waitForCatchUp } from '../test/support/workers.js';
import { publishOutOfOrder } from '../test/support/publish-out-of-order.js';
import { createEventProducer, type EventProducer } from '../libs/kafka/event-producer.js';
import { sampleTraffic } from '../libs/sample/sample-traffic.js';
import { publishSample } from '../libs/sample/publish-sample.js';
import { INPUT_TOPICS } from '../libs/events/topics.js';

const target = Number(process.env.BENCH_EVENTS ?? 100_000);
// ~1.7 input events per click in the sample mix.
const traffic = sampleTraffic({ seed: 42, clicks: Math.round(target / 1.7), orgs: 5, mentorsPerOrg: 20 });

async function run(name: string, instances: number, publish: (producer: EventProducer) => Promise<number>): Promise<number> {
  const env: TestEnv = await createTestEnv(`bench_ingest_${name}`);
  try {
    const producer = createEventProducer(env);
    await producer.connect();
    const events = await publish(producer);
    await producer.disconnect();
    const started = Date.now();
    const workers = Array.from({ length: instances }, () =>
      spawn(process.execPath, ['--import', 'tsx', 'services/ingest-worker/main.ts'], {
        env: { ...process.env, DATABASE_URL: env.config.databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, METRICS_PORT: '0', LOG_LEVEL: 'error', NODE_ENV: 'test' },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    try {
      await waitForCatchUp(env.kafka, `${env.config.kafka.topicPrefix}recruitment.ingest-worker`, INPUT_TOPICS.map((t) => env.topics[t]), 900_000);
    } finally {
      for (const w of workers) w.kill('SIGTERM');
      await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode === null ? w.once('exit', r) : r(null)))));
    }
    const seconds = (Date.now() - started) / 1000;
    const { rows } = await env.db.raw<{ rows: { n: string; r: string }[] }>('select count(*) n, count(retracts_event_id) r from referral_trackings');
    const rate = Math.round(events / seconds);
    console.log(`ingest (${name}): ${events} events in ${seconds.toFixed(1)} s = ${rate} events/s (${rows[0]?.n} funnel events published, ${rows[0]?.r} of them retractions)`);
    return rate;
  } finally {
    await env.close();
  }
}

const one = await run('one_process', 1, (p) => publishSample(p, traffic, 5000));
const two = await run('two_processes', 2, (p) => publishSample(p, traffic, 5000));
console.log(`ingest: two processes run at ${(two / one).toFixed(2)}x one process`);
await run('out_of_order', 1, (p) => publishOutOfOrder(p, traffic, 42, 5000));
