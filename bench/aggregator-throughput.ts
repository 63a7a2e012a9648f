/**
 * Aggregator throughput: publishes funnel events to a referral-events topic of its own, then
 * times one aggregator worker from start until its stored positions reach the end of every
 * partition. Two runs: traffic spread over 150 mentors, and a burst for a single mentor.
 */
import { createTestEnv } from '../test/support/env.js';
import { startAggregatorWorker, waitForPositions } from '../test/support/workers.js';
import { createEventProducer } from '../libs/kafka/event-producer.js';
import { referralEvents } from '../libs/sample/referral-events.js';
import type { ReferralEventRecorded } from '../libs/events/types.generated.js';

const count = Number(process.env.BENCH_AGGREGATOR_EVENTS ?? 200_000);

async function run(name: string, events: ReferralEventRecorded[]): Promise<number> {
  const env = await createTestEnv(`bench_aggregator_${name}`);
  try {
    const producer = createEventProducer(env);
    await producer.connect();
    for (let i = 0; i < events.length; i += 2_000) await producer.send('referralEvents', events.slice(i, i + 2_000));
    await producer.disconnect();
    const started = Date.now();
    const worker = await startAggregatorWorker(env);
    await waitForPositions(env.kafka, env.db, env.topics.referralEvents, 900_000);
    const seconds = (Date.now() - started) / 1000;
    await worker.stop();
    const { rows } = await env.db.raw<{ rows: { n: string }[] }>('select count(*) n from funnel_hourly');
    const rate = Math.round(events.length / seconds);
    console.log(`aggregator (${name}): ${events.length} events in ${seconds.toFixed(1)} s = ${rate} events/s into ${rows[0]?.n} hourly rows`);
    return rate;
  } finally {
    await env.close();
  }
}

const spread = await run('spread', referralEvents({ seed: 1, count, orgs: 5, mentorsPerOrg: 30, days: 90 }));
const burst = await run('one_mentor', referralEvents({ seed: 2, count, orgs: 1, mentorsPerOrg: 1, days: 1 }));
console.log(`aggregator: one-mentor burst runs at ${(burst / spread).toFixed(2)}x the spread rate`);
