import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { startPipeline } from '../support/workers.js';
import { factsSnapshot, funnelSnapshot } from '../support/facts.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';
import { publishSample } from '../../libs/sample/publish-sample.js';
import { createTokenVerifier } from '../../services/query-service/auth.js';

/** The recruitment CLI as an analyst runs it, against the real stack and this file's topics and database. */
let env: TestEnv;
let pipeline: Awaited<ReturnType<typeof startPipeline>>;
let secondHalfFrom: string;

function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/recruitment.mjs', ...args], {
      env: { ...process.env, DATABASE_URL: env.config.databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

const endOffsets = async (topic: string) => {
  const admin = env.kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high), 0);
  } finally {
    await admin.disconnect();
  }
};

beforeAll(async () => {
  env = await createTestEnv('cli');
  const producer = createEventProducer(env);
  await producer.connect();
  // Two weeks of traffic, published a moment apart: the second one is a broker-time range.
  await publishSample(producer, sampleTraffic({ seed: 41, clicks: 1200, start: Date.UTC(2026, 2, 20), days: 7 }));
  await new Promise((r) => setTimeout(r, 1500));
  secondHalfFrom = new Date().toISOString();
  await publishSample(producer, sampleTraffic({ seed: 42, clicks: 1200, start: Date.UTC(2026, 2, 27), days: 7 }));
  await producer.disconnect();
  pipeline = await startPipeline(env);
  await pipeline.settled();
}, 240_000);

afterAll(async () => {
  await pipeline?.stop();
  await env?.close();
});

describe('the recruitment CLI', () => {
  it('--help works on every command', async () => {
    for (const command of [[], ['produce-sample'], ['replay'], ['rebuild'], ['topics'], ['topics', 'check'], ['schemas', 'check'], ['token'], ['lag'], ['positions'], ['positions', 'show'], ['positions', 'reset']]) {
      const { code, stdout } = await cli(...command, '--help');
      expect([command.join(' '), code]).toEqual([command.join(' '), 0]);
      expect(stdout).toMatch(/^Usage: recruitment/);
    }
  });

  it('replaying a time range of every input topic sends it again and leaves the same numbers', async () => {
    const funnel = await funnelSnapshot(env.db);
    const facts = await factsSnapshot(env.db);
    const clicksBefore = await endOffsets(env.topics.inviteClicks);

    const dry = await cli('replay', '--all', '--from-time', secondHalfFrom, '--dry-run');
    expect(dry.code).toBe(0);
    const inRange = Number(/(\d+) records in range/.exec(dry.stdout)?.[1]);
    expect(inRange).toBeGreaterThan(1500);

    const run = await cli('replay', '--all', '--from-time', secondHalfFrom);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop() as string) as { read: number; sent: number; stopped: boolean };
    expect(result.stopped).toBe(false);
    expect(result.sent).toBeGreaterThan(1200);
    expect(run.stderr).toMatch(/replay: \d+\/\d+ \(100%\) \d+\/s ETA 0s/); // progress with rate and ETA
    // The second half's clicks really went through Kafka again...
    expect((await endOffsets(env.topics.inviteClicks)) - clicksBefore).toBeGreaterThan(600);
    await pipeline.settled();
    // ...and changed nothing.
    expect(await funnelSnapshot(env.db)).toEqual(funnel);
    expect(await factsSnapshot(env.db)).toEqual(facts);
  });

  it('Ctrl-C stops a replay safely; numbers stay exact and running it again is fine', async () => {
    const funnel = await funnelSnapshot(env.db);
    const child = spawn(process.execPath, ['bin/recruitment.mjs', 'replay', '--all'], {
      env: { ...process.env, DATABASE_URL: env.config.databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    await new Promise<void>((resolve) => child.stdout.on('data', () => /records in range/.test(stdout) && resolve()));
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    if (code === 'still running') child.kill('SIGKILL');
    expect([0, 130]).toContain(code); // stopped, or already done before the signal landed
    // The CLI's result is its one line without a log level: kafkajs may still log after it (a
    // consumer stopped while joining its group logs the join's failure once it is disconnected).
    const result = stdout.trim().split('\n').filter((line) => line.startsWith('{') && !('level' in (JSON.parse(line) as object))).pop();
    if (code === 130) expect(JSON.parse(result ?? 'null')).toMatchObject({ stopped: true });
    const again = await cli('replay', '--all', '--to-time', new Date().toISOString());
    expect(again.code).toBe(0);
    await pipeline.settled();
    expect(await funnelSnapshot(env.db)).toEqual(funnel);
  });

  it('rebuild gives exactly the incremental numbers', async () => {
    const before = await funnelSnapshot(env.db);
    const { code, stdout } = await cli('rebuild');
    expect(code).toBe(0);
    expect(JSON.parse(stdout).events).toBeGreaterThan(1000);
    expect(await funnelSnapshot(env.db)).toEqual(before);
  });

  it('checks topics and schemas, reports lag, and mints tokens the query service accepts', async () => {
    const topics = await cli('topics', 'check');
    expect([topics.code, topics.stdout.match(/^ok /gm)?.length]).toEqual([0, 9]);
    const schemas = await cli('schemas', 'check');
    expect([schemas.code, schemas.stdout.match(/^ok /gm)?.length]).toEqual([0, 8]);
    const lag = await cli('lag', '--group', env.group('ingest'), env.group('aggregator'));
    expect(lag.code).toBe(0);
    expect(lag.stdout).toContain(`${env.group('ingest')}: total lag 0`);
    expect(lag.stdout).toContain(`${env.group('aggregator')}: total lag 0`);
    const token = await cli('token', '--role', 'coordinator', '--sub', 'c-1', '--org', 'org-1');
    const caller = await createTokenVerifier(env.config.auth)(`Bearer ${token.stdout.trim()}`);
    expect(caller).toEqual({ sub: 'c-1', org: 'org-1', role: 'coordinator' });
    const missingOrg = await cli('token', '--role', 'mentor', '--sub', 'm-1');
    expect(missingOrg.code).toBe(1);
    expect(missingOrg.stderr).toContain('--org is required');
    const badTopic = await cli('replay', '--topic', 'referral-events');
    expect(badTopic.code).toBe(1);
    expect(badTopic.stderr).toContain('only input topics can be replayed');
  });
});
