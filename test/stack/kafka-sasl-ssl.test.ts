import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../libs/config/config.js';
import { createKafka, errorChain } from '../../libs/kafka/client.js';
import { createLogger } from '../../libs/log/logger.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';
import { compiledEntry } from '../../libs/runtime/repo-paths.js';
import { createTestEnv, eventually, type TestEnv } from '../support/env.js';
import { expectedFunnel, factsSnapshot, funnelRecords, funnelSnapshot } from '../support/facts.js';
import { startPipeline } from '../support/workers.js';

/**
 * A Kafka broker of this test's own that only speaks SASL_SSL to clients (SCRAM-SHA-512 over
 * TLS, as managed clusters do), with a CA and a broker certificate generated here; brokers talk
 * to each other over SASL_SSL too, only the controller listener is plaintext (loopback). The
 * whole pipeline runs through it, configured only by the environment variables of SPEC §6:
 * provisioning (infra/provision.ts), the CLI publishing sample traffic, the ingest worker and the
 * aggregator; the schema registry, Postgres and Redis are the shared local ones. Clients without
 * credentials, with a wrong password, or not trusting the CA are refused.
 */
const CLIENT_PORT = 19192;
const CONTROLLER_PORT = 19193;
const KAFKA_LIBS = join(process.env.RECRUITMENT_STACK_HOME ?? join(homedir(), '.cache', 'recruitment-tracking'), 'dist', `kafka-${process.env.KAFKA_VERSION ?? '4.3.1'}`, 'libs');
const USER = 'recruitment-svc';
const PASSWORD = randomBytes(12).toString('hex');
const BROKER_PASSWORD = randomBytes(12).toString('hex');
const KEYSTORE_PASSWORD = randomBytes(12).toString('hex');

const home = mkdtempSync(join(tmpdir(), 'rt-sasl-'));
const caFile = join(home, 'ca.pem');
const logFile = join(home, 'kafka.log');
let broker: ChildProcess | undefined;
let env: TestEnv;

const run = promisify(execFile);
const namespace = `t_kafka_sasl_ssl_${randomBytes(3).toString('hex')}`;
const databaseUrl = (() => {
  const url = new URL(loadConfig(process.env).databaseUrl);
  url.pathname = `/rt_${namespace}`;
  return url.toString();
})();
/** What a deployment against a managed cluster sets (README), pointed at this broker. */
const secured = {
  KAFKA_BROKERS: `127.0.0.1:${CLIENT_PORT}`,
  KAFKA_SSL: caFile,
  KAFKA_SASL_MECHANISM: 'scram-sha-512',
  KAFKA_SASL_USERNAME: USER,
  KAFKA_SASL_PASSWORD: PASSWORD,
  KAFKA_TOPIC_PREFIX: `${namespace}.`,
  DATABASE_URL: databaseUrl,
};
/** A command of the project (provisioning, the CLI), compiled as it runs, in a process of its own, with the environment given. */
const command = (args: string[], extra: Record<string, string> = {}) =>
  run(process.execPath, args, { env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'warn', ...secured, ...extra }, timeout: 90_000 });

function openssl(...args: string[]) {
  execFileSync('/usr/bin/openssl', args, { cwd: home, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, and a certificate for 127.0.0.1 signed by it in a PKCS12 keystore. */
function certificates(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=recruitment-test-ca');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'broker.key', '-out', 'broker.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(home, 'san.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl('x509', '-req', '-in', 'broker.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'broker.pem', '-days', '2', '-extfile', 'san.cnf');
  openssl('pkcs12', '-export', '-in', 'broker.pem', '-inkey', 'broker.key', '-certfile', 'ca.pem', '-out', 'broker.p12', '-name', 'broker', '-passout', `pass:${KEYSTORE_PASSWORD}`);
}

function serverProperties(): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${CONTROLLER_PORT}`,
    `listeners=SASL_SSL://127.0.0.1:${CLIENT_PORT},CONTROLLER://127.0.0.1:${CONTROLLER_PORT}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${CLIENT_PORT}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=SASL_SSL',
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="broker" password="${BROKER_PASSWORD}";`,
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${join(home, 'broker.p12')}`,
    `ssl.keystore.password=${KEYSTORE_PASSWORD}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${caFile}`,
    `log.dirs=${join(home, 'data')}`,
    'num.partitions=6',
    'auto.create.topics.enable=false',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=12',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    '',
  ].join('\n');
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** Starts the broker: formatted with both SCRAM users (the broker's own and the service's), then run with its log in the test's directory. */
async function startBroker(): Promise<void> {
  certificates();
  const conf = join(home, 'server.properties');
  writeFileSync(conf, serverProperties());
  mkdirSync(join(home, 'data'));
  const javaOpts = ['-Xms128m', '-Xmx512m', '-XX:+UseG1GC', '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=file:${join(process.cwd(), 'infra/kafka/log4j2.properties')}`];
  // Given as --cluster-id=…: one in 64 random ids starts with '-', which the tool's argument
  // parser otherwise reads as an option ("argument --cluster-id/-t: expected one argument").
  const clusterId = randomBytes(16).toString('base64url');
  await run('java', [...javaOpts, '-cp', `${KAFKA_LIBS}/*`, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', conf,
    '--add-scram', `SCRAM-SHA-512=[name=broker,password=${BROKER_PASSWORD}]`, '--add-scram', `SCRAM-SHA-512=[name=${USER},password=${PASSWORD}]`], { timeout: 60_000 });
  const out = openSync(logFile, 'a');
  broker = spawn('java', [...javaOpts, '-cp', `${KAFKA_LIBS}/*`, 'kafka.Kafka', conf], { stdio: ['ignore', out, out] });
  closeSync(out);
  await eventually(async () => {
    if (broker?.exitCode !== null) throw new Error(`the broker exited (${broker?.exitCode}); see ${logFile}`);
    return (await listening(CLIENT_PORT)) ? true : undefined;
  }, 90_000, `the SASL_SSL listener on ${CLIENT_PORT}`, 500);
}

async function stopBroker(): Promise<void> {
  const child = broker;
  if (!child || child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  process.kill(child.pid, 'SIGTERM');
  const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

beforeAll(async () => {
  try {
    await startBroker();
    // Provisioning as `make up` runs it, from the environment alone: database, topics over SASL_SSL, schemas.
    await eventually(async () => ((await command([compiledEntry('infra/provision.ts')])) ? true : undefined), 60_000, 'provisioning through SASL_SSL', 1_000);
    env = await createTestEnv('kafka_sasl_ssl', { env: secured });
  } catch (err) {
    // The log exists once the broker was spawned; a failure before (certificates, formatting) is the error alone.
    if (existsSync(logFile)) console.error(`broker log (${logFile}):\n${readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n')}`);
    throw err;
  }
}, 240_000);

afterAll(async () => {
  await env?.close();
  await stopBroker();
  rmSync(home, { recursive: true, force: true });
});

describe('Kafka over SASL_SSL (SCRAM-SHA-512 over TLS)', () => {
  it('provisioning, the CLI, ingest and aggregation run through it, and every event is counted exactly', async () => {
    const admin = env.kafka.admin();
    await admin.connect();
    try {
      const topics = await admin.listTopics();
      expect(Object.values(env.topics).filter((t) => !topics.includes(t))).toEqual([]);
    } finally {
      await admin.disconnect();
    }
    const check = await command(['bin/recruitment.mjs', 'topics', 'check']);
    expect(check.stdout.trim().split('\n').filter((l) => l.startsWith('ok  '))).toHaveLength(Object.keys(env.topics).length);

    const pipeline = await startPipeline(env);
    try {
      // The CLI publishes the sample traffic (as `npx recruitment produce-sample` would against a managed cluster).
      const seed = 20;
      const produced = JSON.parse((await command(['bin/recruitment.mjs', 'produce-sample', '-n', '400', '--seed', String(seed)])).stdout) as { sent: number; clicks: number };
      const traffic = sampleTraffic({ seed, clicks: 250, orgs: 3, mentorsPerOrg: 12, start: Date.UTC(2026, 2, 16), days: 21 });
      expect(produced.clicks).toBe(traffic.clicks.length);
      await pipeline.settled();

      const facts = await factsSnapshot(env.db);
      expect(facts.clicks.length).toBe(new Set(traffic.clicks.map((c) => c.eventId)).size);
      const uncounted = (await env.db.raw<{ rows: { event_id: string }[] }>('select t.event_id from referral_trackings t left join funnel_counted_events c using (event_id) where c.event_id is null')).rows;
      expect(uncounted).toEqual([]);
      const stages = await funnelRecords(env.db);
      expect(stages.length).toBeGreaterThan(0);
      expect(await funnelSnapshot(env.db)).toEqual(expectedFunnel(stages));
    } finally {
      await pipeline.stop();
    }
  });

  it('refuses a client without credentials, with a wrong password, or not trusting the CA', async () => {
    const quiet = createLogger({ name: 'refused', level: 'silent' });
    const attempt = async (security: ReturnType<typeof loadConfig>['kafka']['security']) => {
      const admin = createKafka({ brokers: [`127.0.0.1:${CLIENT_PORT}`], clientId: 'refused', log: quiet, security }).admin({ retry: { retries: 0 } });
      try {
        await admin.connect();
        return { metadata: await admin.listTopics() };
      } catch (err) {
        return { errors: errorChain(err).map((e) => `${e.name}: ${e.message}`) };
      } finally {
        await admin.disconnect();
      }
    };
    const ssl = env.config.kafka.security.ssl;
    // No SASL handshake: the broker closes the connection at the first request, before any metadata.
    expect(await attempt({ ssl, sasl: undefined })).toEqual({ errors: ['KafkaJSConnectionClosedError: Closed connection'] });
    const wrong = loadConfig({ ...secured, KAFKA_SASL_PASSWORD: 'not-the-password' }).kafka.security;
    expect(await attempt(wrong)).toEqual({
      errors: ['KafkaJSSASLAuthenticationError: SASL SCRAM SHA512 authentication failed: Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512'],
    });
    // KAFKA_SSL=true trusts only the system's CAs, which did not sign this broker's certificate.
    expect(await attempt({ ...env.config.kafka.security, ssl: true })).toEqual({ errors: ['KafkaJSNumberOfRetriesExceeded: Connection error: self-signed certificate in certificate chain', 'KafkaJSConnectionError: Connection error: self-signed certificate in certificate chain'] });
    // The right credentials on the same terms answer.
    expect(await attempt(env.config.kafka.security)).toMatchObject({ metadata: expect.arrayContaining([env.topics.inviteClicks]) });

    // The CLI with a wrong password stops with the broker's answer.
    const refused = await command(['bin/recruitment.mjs', 'topics', 'check'], { KAFKA_SASL_PASSWORD: 'not-the-password' }).then(
      () => null,
      (err: { code: number; stderr: string }) => err,
    );
    expect(refused?.code).toBe(1);
    expect(refused?.stderr).toContain('SASL SCRAM SHA512 authentication failed');
  });
});
