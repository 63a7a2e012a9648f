/**
 * The `recruitment` CLI (npx recruitment --help): replays and backfills, rebuilds, sample
 * traffic, topics and schemas, dev tokens and consumer lag. Reads the environment of SPEC §6
 * like the services, so it points wherever they point.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { loadConfig } from '../../libs/config/config.js';
import { createLogger } from '../../libs/log/logger.js';
import { createKafka, type Admin } from '../../libs/kafka/client.js';
import { createEventProducer } from '../../libs/kafka/event-producer.js';
import { checkTopics, provisionTopics } from '../../libs/kafka/provision-topics.js';
import { planReplay, replay } from '../../libs/kafka/replay.js';
import { consumerLag } from '../../libs/kafka/lag.js';
import { committedOffsets, parseResetTo, readPositions, resetTarget, setCommittedOffsets, topicRanges, type ResetTo } from '../../libs/kafka/group-positions.js';
import { createEventCodec, createSchemaRegistry } from '../../libs/events/codec.js';
import { INPUT_TOPICS, TOPICS, topicNames, type TopicKey } from '../../libs/events/topics.js';
import { createPool } from '../../libs/runtime/connections.js';
import { createProgress } from '../../libs/runtime/progress.js';
import { REBUILD_STEPS, rebuildFunnels } from '../../libs/funnel/rebuild.js';
import { setPositions, storedPositions } from '../../libs/funnel/funnel-store.js';
import { sampleTraffic } from '../../libs/sample/sample-traffic.js';
import { publishSample } from '../../libs/sample/publish-sample.js';
import { mintToken, TOKEN_ROLES, type TokenRole } from '../../libs/auth/tokens.js';

// A command's own output is what a person reads: its logs only say warn and worse, unless LOG_LEVEL says otherwise.
const config = loadConfig(process.env, { LOG_LEVEL: 'warn' });
const log = createLogger({ name: 'recruitment-cli', level: config.logLevel });
const names = topicNames(config.kafka.topicPrefix);
const kafka = () => createKafka({ ...config.kafka, log });
const codec = () => createEventCodec({ registry: createSchemaRegistry(config), topics: names });
const out = (line: string) => process.stdout.write(`${line}\n`);

const integer = (name: string) => (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${name} must be a whole number`);
  return Number(value);
};
const offset = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be an offset (a whole number)');
  return BigInt(value);
};
const instant = (value: string) => {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('must be an ISO 8601 time, e.g. 2026-03-29T00:00:00Z');
  return ms;
};

/** A topic given as its catalogue key (inviteClicks), short name (invite-clicks) or full name. */
function topicKey(value: string): TopicKey {
  const keys = Object.keys(TOPICS) as TopicKey[];
  const found = keys.find((k) => k === value || TOPICS[k].name === value || names[k] === value || TOPICS[k].name === `recruitment.${value}.v1`);
  if (!found) program.error(`error: unknown topic ${JSON.stringify(value)}; one of ${INPUT_TOPICS.map((k) => TOPICS[k].name.replace(/^recruitment\.|\.v1$/g, '')).join(', ')}`);
  return found as TopicKey;
}

/** Runs work that Ctrl-C can interrupt: the first signal aborts it cleanly, a second exits. */
async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let count = 0;
  const onSignal = () => {
    if (++count > 1) process.exit(130);
    process.stderr.write('\nstopping after the batch in flight (Ctrl-C again to exit now)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const program = new Command('recruitment')
  .description('Operate recruitment-tracking: replays and backfills, rebuilds, sample traffic, topics, schemas, tokens, lag.\nReads KAFKA_BROKERS, SCHEMA_REGISTRY_URL, DATABASE_URL, AUTH_JWT_SECRET … like the services (SPEC §6).')
  .showHelpAfterError()
  .configureHelp({ showGlobalOptions: true });

program
  .command('produce-sample')
  .description('publish seedable, realistic sample traffic to the input topics (links, scopes, clicks with bots and duplicates, installs, registrations, logins)')
  .option('-n, --events <n>', 'about how many input events to publish', integer('events'), 10_000)
  .option('--seed <n>', 'seed: the same seed gives the same traffic', integer('seed'), 1)
  .option('--orgs <n>', 'organizations', integer('orgs'), 3)
  .option('--mentors <n>', 'mentors per organization', integer('mentors'), 12)
  .option('--start <time>', 'first event time (ISO 8601)', instant, Date.UTC(2026, 2, 16))
  .option('--days <n>', 'days the traffic spans', integer('days'), 21)
  .action(async (o: { events: number; seed: number; orgs: number; mentors: number; start: number; days: number }) => {
    const traffic = sampleTraffic({ seed: o.seed, clicks: Math.max(1, Math.round(o.events / 1.6)), orgs: o.orgs, mentorsPerOrg: o.mentors, start: o.start, days: o.days });
    const total = Object.values(traffic).reduce((n, list: unknown[]) => n + list.length, 0);
    const producer = createEventProducer({ kafka: kafka(), codec: codec(), topics: names });
    await producer.connect();
    const progress = createProgress('produce-sample', total);
    try {
      const sent = await publishSample(producer, traffic, 2000, (n) => progress.update(n));
      progress.stop();
      out(JSON.stringify({ sent, links: traffic.links.length, clicks: traffic.clicks.length, registrations: traffic.registrations.length, seed: o.seed }));
    } finally {
      await producer.disconnect();
    }
  });

program
  .command('replay')
  .description(
    'send a range of input records through the pipeline again (to the same topic and partition). Idempotent: the ingest worker drops what it has seen, so a replay only fills gaps and can be re-run. State topics (links, scopes) are replayed as their current state.',
  )
  .option('-t, --topic <topic...>', 'input topics to replay (e.g. invite-clicks user-registered)')
  .option('--all', 'every input topic')
  .addOption(new Option('--from-offset <n>', 'first offset, in every partition').argParser(offset).conflicts('fromTime'))
  .addOption(new Option('--from-time <time>', 'first record at or after this broker timestamp (ISO 8601)').argParser(instant))
  .addOption(new Option('--to-offset <n>', 'stop before this offset, in every partition').argParser(offset).conflicts('toTime'))
  .addOption(new Option('--to-time <time>', 'stop before the first record at or after this broker timestamp').argParser(instant))
  .option('--dry-run', 'print the plan, send nothing')
  .action(async (o: { topic?: string[]; all?: boolean; fromOffset?: bigint; fromTime?: number; toOffset?: bigint; toTime?: number; dryRun?: boolean }) => {
    if (!o.all && !o.topic?.length) program.error('error: name the topics to replay with --topic, or pass --all');
    const keys = o.all ? [...INPUT_TOPICS] : [...new Set((o.topic ?? []).map(topicKey))];
    const notInput = keys.filter((k) => !(INPUT_TOPICS as readonly string[]).includes(k));
    if (notInput.length) program.error(`error: only input topics can be replayed, not ${notInput.map((k) => TOPICS[k].name).join(', ')}`);
    const k = kafka();
    // Ctrl-C at any point, planning included, stops cleanly; a replay can always be run again.
    const result = await interruptible(async (signal) => {
      const admin = k.admin();
      await admin.connect();
      let plan;
      try {
        plan = await planReplay(
          admin,
          keys.map((key) => ({ name: names[key], state: (TOPICS[key].config as Record<string, string>)['cleanup.policy'] === 'compact' })),
          { offset: o.fromOffset, time: o.fromTime },
          { offset: o.toOffset, time: o.toTime },
        );
      } finally {
        await admin.disconnect();
      }
      for (const r of plan.ranges) out(`${r.topic}[${r.partition}] offsets ${r.start}..${r.end - 1n}${plan.stateTopics.includes(r.topic) ? ' (latest state per key)' : ''}`);
      out(`${plan.total} records in range`);
      if (o.dryRun || plan.total === 0 || signal.aborted) return { read: 0, sent: 0, stopped: signal.aborted };
      const progress = createProgress('replay', plan.total);
      try {
        return await replay(k, plan, { log, signal, onProgress: (n) => progress.update(n) });
      } finally {
        progress.stop();
      }
    });
    if (!o.dryRun) out(JSON.stringify(result));
    if (result.stopped) process.exitCode = 130;
  });

program
  .command('rebuild')
  .description('recompute the funnel tables from the ingest facts and swap them in atomically (safe while the workers run)')
  .action(async () => {
    const pool = createPool(config, log, 2);
    const progress = createProgress('rebuild (steps)', REBUILD_STEPS.length);
    try {
      const result = await rebuildFunnels(pool, {
        defaultTimezone: config.defaultTimezone,
        log,
        onStep: (done, step) => {
          progress.update(done);
          if (!process.stderr.isTTY && done < REBUILD_STEPS.length) process.stderr.write(`rebuild: ${step}…\n`);
        },
      });
      progress.stop();
      out(JSON.stringify(result));
    } finally {
      await pool.end();
    }
  });

const topics = program.command('topics').description('the topics of SPEC §3');
topics
  .command('create')
  .description('create the topics that are missing, with their partitions and retention or compaction')
  .action(async () => {
    const created = await provisionTopics(kafka(), names, { replicationFactor: config.kafka.replicationFactor, retention: { input: config.retention.inputDays, deadLetter: config.retention.deadLetterDays } });
    out(created.length ? `created: ${created.join(', ')}` : 'all topics present');
  });
topics
  .command('check')
  .description('check that every topic exists with its partitions and cleanup policy; exits 1 otherwise')
  .action(async () => {
    const rows = await checkTopics(kafka(), names);
    for (const r of rows) out(`${r.problem ? 'FAIL' : 'ok  '} ${r.topic} (${r.partitions} partitions)${r.problem ? `: ${r.problem}` : ''}`);
    if (rows.some((r) => r.problem)) process.exitCode = 1;
  });

const schemas = program.command('schemas').description('the Avro schemas of schemas/*.avsc in the registry');
schemas
  .command('register')
  .description('register every schema under <topic>-value with BACKWARD compatibility (a new compatible version is added)')
  .action(async () => {
    const ids = await codec().registerAll();
    for (const [topic, id] of ids) out(`${names[topic]}-value: id ${id}`);
  });
schemas
  .command('check')
  .description("check that the registry holds this code's version of every schema; exits 1 otherwise")
  .action(async () => {
    const rows = await codec().checkAll();
    for (const r of rows) out(`${r.problem ? 'FAIL' : 'ok  '} ${r.subject}${r.id !== null ? ` (id ${r.id})` : ''}${r.problem ? `: ${r.problem}` : ''}`);
    if (rows.some((r) => r.problem)) process.exitCode = 1;
  });

program
  .command('token')
  .description('mint a JWT for the query service, signed with AUTH_JWT_SECRET (or the development secret)')
  .addOption(new Option('--role <role>', 'the role claim').choices(TOKEN_ROLES).makeOptionMandatory())
  .requiredOption('--sub <id>', 'the subject: the mentor, coordinator or admin id')
  .option('--org <id>', 'the organization (required for mentor, coordinator and org_admin; for service, the one it writes for)')
  .option('--orgs <ids>', 'service only: the organizations it may write events for, comma-separated, or * for every one')
  .option('--ttl <duration>', 'lifetime, e.g. 30m, 12h (the service refuses a token older than AUTH_TOKEN_MAX_AGE_HOURS, default 24h, whatever its exp)', '12h')
  .action(async (o: { role: TokenRole; sub: string; org?: string; orgs?: string; ttl: string }) => {
    if (!o.org && ['mentor', 'coordinator', 'org_admin'].includes(o.role)) program.error(`error: --org is required for role ${o.role}`);
    if (config.auth.jwksUrl) process.stderr.write('note: AUTH_JWKS_URL is set, so the service will not accept HS256 tokens minted here\n');
    if (o.orgs && o.role !== 'service') program.error('error: --orgs is for role service');
    const orgs = o.orgs?.split(',').map((x) => x.trim()).filter(Boolean);
    const token = await mintToken({ role: o.role, sub: o.sub, org: o.org ?? null, ...(orgs ? { orgs } : {}) }, config.auth.jwtSecret, o.ttl, config.auth);
    const { iat, exp } = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as { iat: number; exp: number };
    if (exp - iat > config.auth.maxTokenAgeSeconds) process.stderr.write(`note: the service refuses this token ${config.auth.maxTokenAgeSeconds / 3600}h after it was minted (AUTH_TOKEN_MAX_AGE_HOURS), before its --ttl\n`);
    out(token);
  });

/**
 * Whose positions: the aggregator keeps its own in Postgres (funnel_positions); the ingest
 * worker's, and any other group's, are the group's committed offsets in Kafka.
 */
function positionsOf(group: string): { group: string; stored: boolean; groupId: string; topics: string[] | null } {
  if (group === 'aggregator') return { group, stored: true, groupId: `${config.kafka.topicPrefix}recruitment.aggregator-worker`, topics: [names.referralEvents] };
  if (group === 'ingest') return { group, stored: false, groupId: `${config.kafka.topicPrefix}recruitment.ingest-worker`, topics: INPUT_TOPICS.map((t) => names[t]) };
  return { group, stored: false, groupId: group, topics: null };
}

/** Runs work with an admin client and, for the aggregator's positions, a Postgres pool. */
async function withPositions<T>(stored: boolean, work: (admin: Admin, pool: ReturnType<typeof createPool> | undefined) => Promise<T>): Promise<T> {
  const admin = kafka().admin();
  await admin.connect();
  const pool = stored ? createPool(config, log, 2) : undefined;
  try {
    return await work(admin, pool);
  } finally {
    await admin.disconnect();
    await pool?.end();
  }
}

const positions = program
  .command('positions')
  .description("where the workers read each partition: the aggregator's positions (in Postgres) and the ingest worker's (its consumer group's committed offsets)");
positions
  .command('show')
  .description('every position against its partition start and end; exits 1 when one is a position the topic no longer has (the worker stops such a partition)')
  .option('-g, --group <group...>', 'aggregator, ingest, or a consumer group id (default: aggregator and ingest)')
  .option('-t, --topic <topic...>', "topics (default: the group's)")
  .action(async (o: { group?: string[]; topic?: string[] }) => {
    let lost = 0;
    for (const owner of (o.group ?? ['aggregator', 'ingest']).map(positionsOf)) {
      const groupTopics = o.topic?.length ? [...new Set(o.topic.map((t) => names[topicKey(t)]))] : owner.topics;
      if (!groupTopics) return program.error(`error: name the topics of group ${owner.groupId} with --topic`);
      await withPositions(owner.stored, async (admin, pool) => {
        out(`${owner.group}${owner.stored ? ' (positions in Postgres)' : ` (group ${owner.groupId})`}:`);
        for (const topic of groupTopics) {
          const ranges = await topicRanges(admin, topic);
          const at = pool ? await storedPositions(pool, topic, [...ranges.keys()]) : await committedOffsets(admin, owner.groupId, topic);
          for (const r of readPositions(topic, ranges, at)) {
            if (r.problem) lost++;
            out(`  ${r.problem ? 'FAIL' : 'ok  '} ${r.topic}[${r.partition}] position ${r.position ?? '-'} start ${r.low} end ${r.high}${r.problem ? `: ${r.problem}` : ''}`);
          }
        }
      });
    }
    if (lost > 0) {
      out(`${lost} position(s) the topics no longer have: npx recruitment positions reset --help`);
      process.exitCode = 1;
    }
  });
positions
  .command('reset')
  .description(
    "move positions: the way out when a worker stops a partition whose position the topic no longer has (recreated, truncated, or deleted by retention before it was read). The aggregator's are rewritten in Postgres and a running aggregator picks up those of its stopped partitions within seconds (others at its next start); the ingest worker's are its group's offsets, which Kafka lets change only with the ingest workers stopped. After a reset of the aggregator, `npx recruitment rebuild` recomputes the funnel tables from the facts.",
  )
  .requiredOption('-g, --group <group>', 'aggregator, ingest, or a consumer group id')
  .requiredOption('-t, --topic <topic...>', 'topics (e.g. referral-events, invite-clicks)')
  .option('-p, --partition <n...>', 'partitions (default: every partition of the topics)')
  .addOption(
    new Option('--to <where>', 'earliest (the partition start), latest (its end: skip what is there) or an offset')
      .default('earliest')
      .argParser((value: string) => {
        const to = parseResetTo(value);
        if (to === null) throw new InvalidArgumentError('must be earliest, latest or an offset');
        return to;
      }),
  )
  .option('--dry-run', 'print what would change, change nothing')
  .action(async (o: { group: string; topic: string[]; partition?: string[]; to: ResetTo; dryRun?: boolean }) => {
    const owner = positionsOf(o.group);
    const chosen = [...new Set(o.topic.map((t) => names[topicKey(t)]))];
    const foreign = owner.topics ? chosen.filter((t) => !owner.topics?.includes(t)) : [];
    if (foreign.length > 0) program.error(`error: the ${owner.group} worker does not read ${foreign.join(', ')}`);
    const only = o.partition?.map((p) => integer('partition')(p));
    await withPositions(owner.stored, async (admin, pool) => {
      for (const topic of chosen) {
        const ranges = await topicRanges(admin, topic);
        const partitions = only ?? [...ranges.keys()].sort((a, b) => a - b);
        const unknown = partitions.filter((p) => !ranges.has(p));
        if (unknown.length > 0) program.error(`error: ${topic} has no partition ${unknown.join(', ')}`);
        const before = pool ? await storedPositions(pool, topic, partitions) : await committedOffsets(admin, owner.groupId, topic);
        const targets = new Map<number, bigint>();
        for (const partition of partitions) {
          const range = ranges.get(partition) as { low: bigint; high: bigint };
          let target: bigint;
          try {
            target = resetTarget(o.to, range);
          } catch (err) {
            return program.error(`error: ${topic}[${partition}]: ${(err as Error).message}`);
          }
          targets.set(partition, target);
          out(`${topic}[${partition}] position ${before.get(partition) ?? '-'} -> ${target} (start ${range.low}, end ${range.high})`);
        }
        if (o.dryRun) continue;
        try {
          if (pool) await setPositions(pool, topic, targets);
          else await setCommittedOffsets(admin, owner.groupId, topic, targets);
        } catch (err) {
          return program.error(`error: ${(err as Error).message}`);
        }
      }
      if (o.dryRun) out('dry run: nothing changed');
      else if (owner.stored) out('positions reset; a running aggregator resumes its stopped partitions from them. To recount from the facts: npx recruitment rebuild');
      else out(`positions reset for group ${owner.groupId}; start its workers again`);
    });
  });

program
  .command('lag')
  .description('consumer lag per group, topic and partition (default: the ingest and aggregator workers)')
  .option('-g, --group <id...>', 'consumer group ids')
  .action(async (o: { group?: string[] }) => {
    const groups = o.group?.length
      ? o.group.map((g) => ({ id: g, topics: null as string[] | null }))
      : [
          { id: `${config.kafka.topicPrefix}recruitment.ingest-worker`, topics: INPUT_TOPICS.map((t) => names[t]) },
          { id: `${config.kafka.topicPrefix}recruitment.aggregator-worker`, topics: [names.referralEvents] },
        ];
    const admin = kafka().admin();
    await admin.connect();
    try {
      for (const g of groups) {
        const groupTopics = g.topics ?? (await admin.fetchOffsets({ groupId: g.id })).map((t) => t.topic);
        const rows = await consumerLag(admin, g.id, groupTopics);
        out(`${g.id}: total lag ${rows.reduce((n, r) => n + r.lag, 0)}`);
        for (const r of rows) out(`  ${r.topic}[${r.partition}] committed ${r.committed ?? '-'} end ${r.end} lag ${r.lag}`);
      }
    } finally {
      await admin.disconnect();
    }
  });

await program.parseAsync(process.argv);
