/**
 * Preloaded (`node --import build/bench/lib/timing-probe.js`, compiled with the services) into a process the bench
 * times without owning its code (the ingest worker, its main.ts as deployed): every kafkajs
 * consumer the process creates is watched (consumer-timing.ts), and on SIGTERM (or at exit,
 * whichever comes first) one line `{"benchTiming": {firstFetchAt, lastCommitAt, cpuSeconds}}`
 * is written to stdout. The process's own code is untouched: the consumer factory of the
 * kafkajs client class is wrapped, which every client the project makes (libs/kafka/client.ts)
 * shares.
 */
import { writeSync } from 'node:fs';
import { createKafka, type Consumer, type Kafka } from '../../libs/kafka/client.js';
import { createLogger } from '../../libs/log/logger.js';
import { TIMING_KEY, combineTimings, watchConsumer, type ConsumerWatch } from './consumer-timing.js';

const watches: ConsumerWatch[] = [];
// A client that never connects, only to reach the class every client of this process shares.
const probe = createKafka({ brokers: ['127.0.0.1:9'], clientId: 'bench-timing-probe', log: createLogger({ name: 'bench-timing-probe', level: 'error' }), security: { ssl: false, sasl: undefined } });
const shared = Object.getPrototypeOf(probe) as { consumer: Kafka['consumer'] };
const createConsumer = shared.consumer;
shared.consumer = function (this: Kafka, ...args: Parameters<Kafka['consumer']>): Consumer {
  const consumer = createConsumer.apply(this, args);
  watches.push(watchConsumer(consumer));
  return consumer;
};

let written = false;
function report(): void {
  if (written) return;
  written = true;
  writeSync(1, JSON.stringify({ [TIMING_KEY]: combineTimings(watches.map((w) => w.timing())) }) + '\n');
}
// Before the process's own handler begins its shut-down: the figures as they were when the bench
// stopped it. A process with no handler of its own still ends on SIGTERM.
process.prependListener('SIGTERM', () => {
  report();
  if (process.listenerCount('SIGTERM') === 1) process.exit(143);
});
process.once('exit', report);
