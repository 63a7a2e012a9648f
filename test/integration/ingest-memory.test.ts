import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { CompressionTypes } from '../../libs/kafka/client.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';
import { pipelineServices } from '../../libs/runtime/supervisor.js';
import { serviceAllocator } from '../../libs/runtime/allocator.js';

/**
 * What one fetch may hold, from any producer: up to 100,000 records and 64 MiB once decompressed
 * (the patched client's budget, patches/kafkajs+2.2.4.patch). Here 100,000 valid clicks with
 * 256-character event and device ids and 300-character user agents and referrers, in gzip
 * batches of 10,000, on a link the worker may read before them or after (then it decides them
 * all again, a page at a time: services/ingest-worker/facts/link-pages.ts). The worker runs as `make run` starts it
 * (its Node flags and allocator), in a process of its own, so that running out of heap shows as
 * a death. Before the pages, capped at 128 MB it ran out of heap (SIGABRT) at every restart: a
 * heap snapshot at the limit held the 60,000 clicks of the late link read back in one statement,
 * beside the fetch. Uncapped it peaked at 495 MB in a trial with shorter device ids.
 */
const CLICKS = 100_000;
const PER_BATCH = 10_000;
const PARTITIONS = 6;

let env: TestEnv;
let worker: ChildProcess | undefined;
let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;

beforeAll(async () => {
  env = await createTestEnv('ingest_memory');
}, 60_000);

afterAll(async () => {
  if (worker && worker.exitCode === null && worker.signalCode === null) {
    worker.kill('SIGTERM');
    await new Promise((resolve) => worker?.once('exit', resolve));
  }
  await env?.close();
});

async function storedClicks(): Promise<number> {
  const { rows } = await env.db.raw<{ rows: { n: number }[] }>('select count(*)::int as n from clicks');
  return rows[0]?.n ?? 0;
}

describe('the ingest worker as deployed, given the largest fetch a producer can make', () => {
  it('stores every click of it and stays up', async () => {
    const traffic = sampleTraffic({ seed: 5, clicks: 20, orgs: 1 });
    const template = traffic.clicks[0];
    const link = traffic.links.find((l) => l.linkId === template?.linkId);
    if (!template || !link) throw new Error('the sample traffic has no click on a link');
    // Every message names its partition.
    const raw = env.kafka.producer({ createPartitioner: () => ({ message }) => message.partition ?? 0 });
    await raw.connect();
    try {
      await raw.send({ topic: env.topics.inviteLinks, acks: -1, messages: [{ key: link.linkId, partition: 0, value: await env.codec.encode('inviteLinks', link) }] });
      for (let first = 0; first < CLICKS; first += PER_BATCH) {
        const messages = [];
        for (let i = first; i < first + PER_BATCH; i++) {
          const click = {
            ...template,
            eventId: `memory-click-${i}-`.padEnd(256, 'e'),
            visitor: { ...template.visitor, deviceId: `device-${i}-`.padEnd(256, 'd'), userAgent: `Mozilla/5.0 ${i} `.padEnd(300, 'u'), referrer: `https://example.com/${i}/`.padEnd(300, 'r') },
          };
          messages.push({ key: click.linkId, partition: (first / PER_BATCH) % PARTITIONS, value: await env.codec.encode('inviteClicks', click) });
        }
        await raw.send({ topic: env.topics.inviteClicks, acks: -1, compression: CompressionTypes.GZIP, messages });
      }
    } finally {
      await raw.disconnect();
    }

    const ingest = pipelineServices().find((s) => s.name === 'ingest');
    if (!ingest) throw new Error('the pipeline has no ingest service');
    worker = spawn(process.execPath, ingest.args, {
      env: { ...process.env, ...serviceAllocator().env, ...ingest.env, DATABASE_URL: env.config.databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, METRICS_PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'test' },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    worker.once('exit', (code, signal) => (exited = { code, signal }));

    let stored = 0;
    for (let waited = 0; waited < 240_000 && !exited; waited += 500) {
      stored = await storedClicks();
      if (stored === CLICKS) break;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(exited).toBeUndefined();
    expect(stored).toBe(CLICKS);
  }, 360_000);
});
