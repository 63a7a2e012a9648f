import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { startIngestWorker, waitForCatchUp, waitForPositions } from '../support/workers.js';
import { expectedFunnel, funnelSnapshot } from '../support/facts.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { reconnectingAdmin } from '../../libs/kafka/client.js';
import { deleteTopics, provisionTopics } from '../../libs/kafka/provision-topics.js';
import { referralEvents } from '../../libs/sample/referral-events.js';
import type { TopicKey } from '../../libs/events/topics.js';
import type { ReferralEventRecorded, UserLoggedIn } from '../../libs/events/types.generated.js';
import { compiledEntry } from '../../libs/runtime/repo-paths.js';
import { AGGREGATOR_NODE_FLAGS } from '../../libs/runtime/supervisor.js';

/**
 * A partition that cannot make progress is visible (error log, metric, /readyz) within the
 * stall threshold, and a stored position the topic no longer has stops its partition, with
 * what to do, instead of being skipped past in silence. The aggregator runs as `make run` runs
 * it (its main, its endpoints, its log lines), with a 2 s threshold.
 */
let env: TestEnv;
const STALL_SECONDS = 2;

interface LogLine {
  level: number;
  msg: string;
  topic?: string;
  partition?: number;
  offset?: string;
}

/** The aggregator's main in a child process: its log lines, and its /readyz and /metrics. */
async function startAggregatorProcess() {
  const child: ChildProcess = spawn(process.execPath, [...AGGREGATOR_NODE_FLAGS, compiledEntry('services/aggregator-worker/main.ts')], {
    env: {
      ...process.env, DATABASE_URL: env.config.databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, METRICS_PORT: '0', LOG_LEVEL: 'info', NODE_ENV: 'test',
      KAFKA_SESSION_TIMEOUT_MS: '8000', PARTITION_STALL_SECONDS: String(STALL_SECONDS),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: LogLine[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // not a log line
    }
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await eventually(async () => lines.find((l) => l.msg.startsWith('operational endpoints listening'))?.['port' as never] as number | undefined, 60_000, 'the aggregator to listen');
  const base = `http://127.0.0.1:${port}`;
  return {
    lines,
    async readyz(): Promise<{ status: number; reason?: string }> {
      const res = await fetch(`${base}/readyz`);
      const body = (await res.json()) as { reason?: string };
      return { status: res.status, reason: body.reason };
    },
    /** A gauge's value for one partition, or undefined when it has none. */
    async gauge(name: string, topic: string, partition: number): Promise<number | undefined> {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${name}{topic="${topic}",partition="${partition}"} `));
      return line === undefined ? undefined : Number(line.split(' ').pop());
    },
    async stop(): Promise<void> {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

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

/** Deletes a topic and creates it again, empty: what a rebuilt cluster looks like to the workers. */
async function recreateTopic(key: TopicKey): Promise<void> {
  await deleteTopics(env.kafka, [env.topics[key]]);
  await eventually(async () => ((await provisionTopics(env.kafka, env.topics, { only: [key] })).length === 1 ? true : undefined), 60_000, `${env.topics[key]} to be created again`, 500);
}

/**
 * Each partition's end offset. Asked again while the broker answers that it does not lead a
 * partition yet (a topic just created again), as it did once in a make test.
 */
async function ends(topic: string): Promise<Map<number, bigint>> {
  const admin = reconnectingAdmin(env.kafka);
  try {
    return await eventually(async () => new Map((await admin.use((a) => a.fetchTopicOffsets(topic))).map((o) => [o.partition, BigInt(o.high)])), 30_000, `the end offsets of ${topic}`, 250);
  } finally {
    await admin.close();
  }
}

async function storedPositions(): Promise<Map<number, bigint>> {
  const { rows } = await env.db.raw<{ rows: { partition: number; next_offset: string }[] }>('select partition, next_offset from funnel_positions where topic = ?', [env.topics.referralEvents]);
  return new Map(rows.map((r) => [r.partition, BigInt(r.next_offset)]));
}

const countedEvents = async () => Number((await env.db.raw<{ rows: { n: string }[] }>('select count(*) n from funnel_counted_events')).rows[0]?.n);

async function publish(events: ReferralEventRecorded[]): Promise<void> {
  const producer = createEventProducer(env);
  await producer.connect();
  try {
    await producer.send('referralEvents', events);
  } finally {
    await producer.disconnect();
  }
}

const events = referralEvents({ seed: 7, count: 300, days: 20 });

beforeAll(async () => {
  env = await createTestEnv('partition_positions', { env: { PARTITION_STALL_SECONDS: String(STALL_SECONDS) } });
});

afterAll(async () => {
  await env?.close();
});

describe('partitions that do not move', () => {
  it('a partition held up longer than the threshold is an error line, a metric and a failing /readyz, until it moves again', async () => {
    const topic = env.topics.referralEvents;
    await publish(events);
    const worker = await startAggregatorProcess();
    try {
      await waitForPositions(env.kafka, env.db, topic);
      await eventually(async () => ((await worker.readyz()).status === 200 ? true : undefined), 30_000, 'the aggregator ready');
      const stored = await storedPositions();
      // The first partition with a stored position: readiness names the first five stalled.
      const [partition, offset] = [...stored].sort(([a], [b]) => a - b)[0] as [number, bigint];

      // Another transaction holds every stored position: each batch of the topic waits on it.
      const blocker = await env.db.transaction();
      try {
        await blocker.raw('select partition from funnel_positions where topic = ? for update', [topic]);
        await publish(events); // the same events again: records to read in every partition that had some

        const line = await eventually(async () => worker.lines.find((l) => l.level === 50 && l.topic === topic && l.partition === partition && /has not advanced/.test(l.msg)), 30_000, 'the stall error line');
        expect(line.offset).toBe(offset.toString());
        expect(line.msg).toMatch(new RegExp(`^${topic.replace(/\./g, '\\.')}\\[${partition}\\] has not advanced for \\d+ s at offset ${offset} with \\d+ records to read$`));
        expect(await worker.gauge('aggregator_partition_stalled', topic, partition)).toBe(1);
        expect(await worker.gauge('aggregator_partition_stopped', topic, partition)).toBe(0);
        expect(await worker.gauge('aggregator_partition_idle_seconds', topic, partition)).toBeGreaterThanOrEqual(STALL_SECONDS);
        const ready = await worker.readyz();
        expect(ready.status).toBe(503);
        expect(ready.reason).toMatch(new RegExp(`partitions: .*${topic.replace(/\./g, '\\.')}\\[${partition}\\] has not advanced for \\d+ s at offset ${offset} with \\d+ records to read`));
      } finally {
        await blocker.commit();
      }

      await waitForPositions(env.kafka, env.db, topic);
      await eventually(async () => ((await worker.readyz()).status === 200 ? true : undefined), 30_000, 'the aggregator ready again');
      expect(await worker.gauge('aggregator_partition_stalled', topic, partition)).toBe(0);
      expect(worker.lines.some((l) => l.partition === partition && /is moving again/.test(l.msg))).toBe(true);
      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel(events));
    } finally {
      await worker.stop();
    }
  });
});

describe('positions the topic no longer has', () => {
  it("the aggregator stops the partitions of a recreated topic with what to do, and after positions reset counts the new events once", async () => {
    const topic = env.topics.referralEvents;
    const old = await storedPositions();
    const countedBefore = await countedEvents();
    await recreateTopic('referralEvents');
    // New events for the same mentors (so the same partitions), with new ids: fewer than each partition held.
    const fresh = events.slice(0, 12).map((e) => ({ ...e, eventId: `new_${e.eventId}`, retractsEventId: null }));
    await publish(fresh);
    const high = await ends(topic);
    const stopped = [...old].filter(([p, at]) => at > (high.get(p) ?? 0n)).map(([p]) => p).sort((a, b) => a - b);
    const withNew = [...high].filter(([, h]) => h > 0n).map(([p]) => p);
    expect(withNew.filter((p) => !stopped.includes(p))).toEqual([]); // every partition with new records has a position beyond its new end

    const worker = await startAggregatorProcess();
    try {
      const errors = () => worker.lines.filter((l) => l.level === 50 && /is beyond the partition's end/.test(l.msg));
      await eventually(async () => (errors().length === stopped.length ? true : undefined), 30_000, 'an error for each stopped partition');
      expect(errors().map((l) => l.partition).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual(stopped);
      const [p] = stopped as [number];
      const line = errors().find((l) => l.partition === p) as LogLine;
      expect(line.msg).toBe(
        `${topic}[${p}] position ${old.get(p)} is beyond the partition's end ${high.get(p)} (the topic was recreated or truncated): not consuming this partition (the others go on). ` +
          `To consume it again from its start: npx recruitment positions reset --group aggregator --topic ${topic} --partition ${p} --to earliest ` +
          '(or --to latest, or --to <offset>; npx recruitment positions show --group aggregator lists every position). ' +
          'The running worker picks the new position up. Then npx recruitment rebuild recomputes the funnel tables from the facts, recovering any event the topic lost',
      );
      expect(await worker.gauge('aggregator_partition_stopped', topic, p)).toBe(1);
      expect(await worker.gauge('aggregator_partition_stalled', topic, p)).toBe(1);
      const ready = await worker.readyz();
      expect(ready.status).toBe(503);
      expect(ready.reason).toContain(`${topic}[${p}] stopped: position ${old.get(p)} is beyond the partition's end ${high.get(p)}`);
      // Nothing was skipped past: the new events wait, uncounted, and kafkajs never reset an offset.
      expect(await countedEvents()).toBe(countedBefore);
      expect(await storedPositions()).toEqual(old);
      expect(worker.lines.filter((l) => /Offset out of range/.test(l.msg))).toEqual([]);

      const show = await cli('positions', 'show', '--group', 'aggregator');
      expect(show.code).toBe(1);
      expect(show.stdout).toContain(`FAIL ${topic}[${p}] position ${old.get(p)} start 0 end ${high.get(p)}: position ${old.get(p)} is beyond the partition's end ${high.get(p)}`);

      const reset = await cli('positions', 'reset', '--group', 'aggregator', '--topic', 'referral-events', '--to', 'earliest');
      expect(reset.code, reset.stderr).toBe(0);
      expect(reset.stdout).toContain(`${topic}[${p}] position ${old.get(p)} -> 0 (start 0, end ${high.get(p)})`);

      // The running worker takes the reset positions up, counts the new events, and is ready again.
      await waitForPositions(env.kafka, env.db, topic);
      await eventually(async () => ((await worker.readyz()).status === 200 ? true : undefined), 30_000, 'the aggregator ready again');
      expect(await worker.gauge('aggregator_partition_stopped', topic, p)).toBe(0);
      expect(await countedEvents()).toBe(countedBefore + fresh.length);
      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel([...events, ...fresh]));
      expect((await cli('positions', 'show', '--group', 'aggregator')).code).toBe(0);
    } finally {
      await worker.stop();
    }
  });

  it('a topic recreated under a running aggregator stops its partitions too, and nothing is counted or skipped', async () => {
    const topic = env.topics.referralEvents;
    const worker = await startAggregatorProcess();
    try {
      await publish(events); // counted already: positions move, counts do not
      await waitForPositions(env.kafka, env.db, topic);
      await eventually(async () => ((await worker.readyz()).status === 200 ? true : undefined), 30_000, 'the aggregator ready');
      const old = await storedPositions();
      const countedBefore = await countedEvents();
      await recreateTopic('referralEvents');
      const fresh = events.slice(12, 20).map((e) => ({ ...e, eventId: `newer_${e.eventId}`, retractsEventId: null }));
      await publish(fresh);
      const high = await ends(topic);
      const stopped = [...old].filter(([p, at]) => at > (high.get(p) ?? 0n)).map(([p]) => p).sort((a, b) => a - b);
      expect([...high].filter(([, h]) => h > 0n).every(([p]) => stopped.includes(p))).toBe(true);
      const errors = () => [...new Set(worker.lines.filter((l) => l.level === 50 && /is beyond the partition's end/.test(l.msg)).map((l) => l.partition))].sort((a, b) => (a ?? 0) - (b ?? 0));
      await eventually(async () => (errors().length === stopped.length ? true : undefined), 30_000, 'an error for each stopped partition');
      expect(errors()).toEqual(stopped);
      expect((await worker.readyz()).status).toBe(503);
      expect(await countedEvents()).toBe(countedBefore);
      expect(await storedPositions()).toEqual(old);

      expect((await cli('positions', 'reset', '--group', 'aggregator', '--topic', 'referral-events')).code).toBe(0);
      await waitForPositions(env.kafka, env.db, topic);
      await eventually(async () => ((await worker.readyz()).status === 200 ? true : undefined), 30_000, 'the aggregator ready again');
      expect(await countedEvents()).toBe(countedBefore + fresh.length);
    } finally {
      await worker.stop();
    }
  });

  it('the ingest worker stops a partition whose committed offset retention deleted records past; reset with the workers stopped, it reads what is left', async () => {
    const topic = env.topics.userLogins;
    const login = (i: number, tag: string): UserLoggedIn => ({ eventId: `${tag}_login_${i}`, userId: 'user_1', occurredAt: Date.UTC(2026, 2, 20) + i * 60_000 });
    const send = async (logins: UserLoggedIn[]) => {
      const producer = createEventProducer(env);
      await producer.connect();
      try {
        await producer.send('userLogins', logins);
      } finally {
        await producer.disconnect();
      }
    };
    // One key: every login in one partition.
    await send(Array.from({ length: 20 }, (_, i) => login(i, 'read')));
    const p = [...(await ends(topic))].find(([, h]) => h > 0n)?.[0] as number;
    // The ingest worker's own group, as `--group ingest` names it.
    const options = { group: 'recruitment.ingest-worker' };
    const first = await startIngestWorker(env, options);
    await waitForCatchUp(env.kafka, first.worker.groupId, [topic]);
    await first.stop();

    // While the worker is away, 10 more arrive and retention deletes the first 5 of them.
    await send(Array.from({ length: 10 }, (_, i) => login(i, 'later')));
    const admin = reconnectingAdmin(env.kafka);
    try {
      await admin.use(async (a) => {
        await a.fetchTopicMetadata({ topics: [topic] }); // deleteTopicRecords finds the leader in the metadata it already has
        await a.deleteTopicRecords({ topic, partitions: [{ partition: p, offset: '25' }] });
      });
    } finally {
      await admin.close();
    }

    const second = await startIngestWorker(env, options);
    try {
      const stoppedGauge = `ingest_partition_stopped{topic="${topic}",partition="${p}"} 1`;
      await eventually(async () => ((await second.worker.metrics.registry.getSingleMetricAsString('ingest_partition_stopped')).includes(stoppedGauge) ? true : undefined), 30_000, 'the partition stopped');
      expect(second.worker.partitionProblem()).toBe(`${topic}[${p}] stopped: position 20 is below the partition's start 25 (retention deleted 5 records before they were read)`);
      const refused = await cli('positions', 'reset', '--group', 'ingest', '--topic', 'user-logins', '--partition', String(p), '--to', 'earliest');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/has 1 running member\(s\) \(state \w+\): stop its workers first, then reset, then start them/);
    } finally {
      await second.stop();
    }
    expect((await env.db.raw<{ rows: unknown[] }>("select 1 from logins where event_id like 'later_%'")).rows).toEqual([]);
    // The group kept its offset: at the next start the partition stops again, until the reset.
    const show = await cli('positions', 'show', '--group', 'ingest', '--topic', 'user-logins');
    expect(show.code).toBe(1);
    expect(show.stdout).toContain(`FAIL ${topic}[${p}] position 20 start 25 end 30: position 20 is below the partition's start 25`);

    const reset = await cli('positions', 'reset', '--group', 'ingest', '--topic', 'user-logins', '--partition', String(p), '--to', 'earliest');
    expect(reset.code, reset.stderr).toBe(0);
    expect(reset.stdout).toContain(`${topic}[${p}] position 20 -> 25 (start 25, end 30)`);
    const third = await startIngestWorker(env, options);
    try {
      await waitForCatchUp(env.kafka, third.worker.groupId, [topic]);
      expect(third.worker.partitionProblem()).toBeNull();
    } finally {
      await third.stop();
    }
    const { rows } = await env.db.raw<{ rows: { event_id: string }[] }>("select event_id from logins where event_id like 'later_%' order by event_id");
    expect(rows.map((r) => r.event_id)).toEqual(['later_login_5', 'later_login_6', 'later_login_7', 'later_login_8', 'later_login_9']);
  });
});
