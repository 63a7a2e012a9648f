import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/env.js';

/**
 * `make demo` as CI runs it: unattended (DEMO_CHECK=1), on a database and topics of its own.
 * It must publish its traffic, see non-zero numbers for every role through the API, and exit 0.
 */
let env: TestEnv;

beforeAll(async () => {
  env = await createTestEnv('demo');
});
afterAll(async () => {
  await env?.close();
});

describe('make demo', () => {
  it('runs unattended, shows every role its numbers, and exits 0', () => {
    const run = spawnSync('make', ['--no-print-directory', 'demo'], {
      env: { ...process.env, DEMO_CHECK: '1', DATABASE_URL: env.config.databaseUrl, KAFKA_TOPIC_PREFIX: env.config.kafka.topicPrefix, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
      timeout: 400_000,
    });
    const output = `${run.stdout}\n${run.stderr}`;
    expect(run.status, output.slice(-4000)).toBe(0);
    expect(output).toContain('demo check passed');
    for (const role of ['mentor', 'coordinator', 'org_admin', 'platform_admin']) expect(output).toMatch(new RegExp(`${role}\\s+200 `));
    expect(output).toMatch(/service\s+202 POST/);
    expect(output).toContain('http://127.0.0.1:3000/docs');
  });
});
