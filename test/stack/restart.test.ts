import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { readTopic } from '../support/kafka.js';
import { FIXTURES } from '../../libs/events/fixtures.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { valueSubject } from '../../libs/events/topics.js';

let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('restart');
});
afterAll(async () => {
  await env?.close();
});

const stack = (command: 'up' | 'down') =>
  execFileSync('bash', [`infra/scripts/${command}.sh`], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 280_000 });

describe('the local stack', () => {
  it('keeps registered schemas and topic data across make down && make up', async () => {
    const producer = createEventProducer(env);
    await producer.connect();
    await producer.send('userRegistered', [FIXTURES.userRegistered]);
    await producer.disconnect();
    const subject = valueSubject(env.topics.userRegistered);
    const before = await (await fetch(`${env.config.schemaRegistryUrl}/subjects/${subject}/versions/latest`)).json();

    stack('down');
    stack('up');

    const after = await (await fetch(`${env.config.schemaRegistryUrl}/subjects/${subject}/versions/latest`)).json();
    expect(after).toEqual(before);
    const [message] = await readTopic(env.kafka, env.topics.userRegistered, 1);
    expect({ ...(await env.codec.decode('userRegistered', message?.value ?? null)) }).toEqual(FIXTURES.userRegistered);
  });

  it('make up a second time changes nothing', () => {
    const pids = () => execFileSync('bash', ['-c', 'cat "${RECRUITMENT_STACK_HOME:-$HOME/.cache/recruitment-tracking}"/run/*.pid 2>/dev/null || true']).toString();
    const first = pids();
    stack('up');
    expect(pids()).toBe(first);
  });
});
