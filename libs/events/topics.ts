/**
 * The topic catalogue of SPEC §3: every topic, the record it carries, how it is keyed and how
 * the broker keeps it. Provisioning, the codec and the workers all read this one table.
 */
export const RECORD_NAMES = [
  'InviteLink',
  'CoordinatorScope',
  'InviteClicked',
  'AppInstalled',
  'UserRegistered',
  'UserLoggedIn',
  'UserErased',
  'ReferralEventRecorded',
] as const;
export type RecordName = (typeof RECORD_NAMES)[number];

export interface TopicSpec {
  /** Topic name without the environment prefix. */
  readonly name: string;
  /** Avro record carried as the value; null for the dead-letter topic (original bytes). */
  readonly record: RecordName | null;
  /** Field of the record used as the message key. */
  readonly keyField: string | null;
  readonly partitions: number;
  readonly config: Readonly<Record<string, string>>;
  /**
   * How long the broker keeps the records (SPEC §4 "Retention"): `input` for INPUT_RETENTION_DAYS,
   * `deadLetter` for DEAD_LETTER_RETENTION_DAYS; absent for compacted topics (latest state kept).
   */
  readonly retention?: 'input' | 'deadLetter';
}

const RETAINED = { 'retention.bytes': '-1' };
const COMPACTED = { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': '60000' };

/**
 * referral-events is kept as long as the inputs: it carries no raw personal data, but its
 * userId is a personal identifier that erasure cannot reach inside Kafka, and everything it says
 * is derived from the inputs and from the facts in Postgres (`rebuild` recomputes from those).
 */
export const TOPICS = {
  inviteLinks: { name: 'recruitment.invite-links.v1', record: 'InviteLink', keyField: 'linkId', partitions: 6, config: COMPACTED },
  coordinatorScopes: { name: 'recruitment.coordinator-scopes.v1', record: 'CoordinatorScope', keyField: 'coordinatorId', partitions: 6, config: COMPACTED },
  inviteClicks: { name: 'recruitment.invite-clicks.v1', record: 'InviteClicked', keyField: 'linkId', partitions: 6, config: RETAINED, retention: 'input' },
  appInstalls: { name: 'recruitment.app-installs.v1', record: 'AppInstalled', keyField: 'deviceId', partitions: 6, config: RETAINED, retention: 'input' },
  userRegistered: { name: 'recruitment.user-registered.v1', record: 'UserRegistered', keyField: 'userId', partitions: 6, config: RETAINED, retention: 'input' },
  userLogins: { name: 'recruitment.user-logins.v1', record: 'UserLoggedIn', keyField: 'userId', partitions: 6, config: RETAINED, retention: 'input' },
  userErasures: { name: 'recruitment.user-erasures.v1', record: 'UserErased', keyField: 'userId', partitions: 6, config: RETAINED, retention: 'input' },
  referralEvents: { name: 'recruitment.referral-events.v1', record: 'ReferralEventRecorded', keyField: 'mentorId', partitions: 12, config: RETAINED, retention: 'input' },
  deadLetters: { name: 'recruitment.dead-letters.v1', record: null, keyField: null, partitions: 6, config: RETAINED, retention: 'deadLetter' },
} as const satisfies Record<string, TopicSpec>;

/** Retention in days (SPEC §6 INPUT_RETENTION_DAYS, DEAD_LETTER_RETENTION_DAYS; defaults 90 and 14). */
export interface RetentionDays {
  input: number;
  deadLetter: number;
}
export const DEFAULT_RETENTION_DAYS: RetentionDays = { input: 90, deadLetter: 14 };

/** The broker configuration of a topic: its catalogue settings and, unless compacted, its retention.ms. */
export function topicConfig(key: TopicKey, retention: RetentionDays = DEFAULT_RETENTION_DAYS): Record<string, string> {
  const spec: TopicSpec = TOPICS[key];
  const config: Record<string, string> = { ...spec.config };
  if (spec.retention) config['retention.ms'] = String(retention[spec.retention] * 24 * 3600 * 1000);
  return config;
}

export type TopicKey = keyof typeof TOPICS;

/** The topics the ingest worker consumes. */
export const INPUT_TOPICS = [
  'inviteLinks',
  'coordinatorScopes',
  'inviteClicks',
  'appInstalls',
  'userRegistered',
  'userLogins',
  'userErasures',
] as const satisfies readonly TopicKey[];

/** Topic names with an environment prefix applied (tests give each file its own). */
export type TopicNames = { readonly [K in TopicKey]: string };

export function topicNames(prefix = ''): TopicNames {
  return Object.fromEntries(Object.entries(TOPICS).map(([key, spec]) => [key, prefix + spec.name])) as TopicNames;
}

/** Confluent subject naming: TopicNameStrategy. */
export const valueSubject = (topic: string): string => `${topic}-value`;
