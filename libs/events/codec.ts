import avro from 'avsc';
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import type { Config } from '../config/config.js';
import type { Records } from './types.generated.js';
import { schemaOf } from './schemas.js';
import { TOPICS, valueSubject, type TopicKey, type TopicNames } from './topics.js';
import { PoisonRecordError } from './poison-record-error.js';
import { createRecordReader, type RecordReader } from './read-record.js';

/** Topics that carry an Avro record (all but the dead-letter topic). */
export type RecordTopic = { [K in TopicKey]: (typeof TOPICS)[K]['record'] extends null ? never : K }[TopicKey];
/** The record type a topic carries. */
export type RecordOf<T extends RecordTopic> = Records[NonNullable<(typeof TOPICS)[T]['record']>];

export { PoisonRecordError };

const MAGIC_BYTE = 0;
const HEADER_LENGTH = 5;

/**
 * The largest record value (wire header included) a worker decodes: 1 MiB, about the
 * broker's default largest message (message.max.bytes). Our records are a few hundred bytes; anything bigger is refused
 * before it is looked at.
 */
export const MAX_RECORD_BYTES = 1024 * 1024;

/** Record readers kept per topic and schema id; past this many the oldest go, so random schema ids cannot grow memory. */
const MAX_READERS = 256;

export interface EventCodec {
  /** Registers every record schema under `<topic>-value` with BACKWARD compatibility. */
  registerAll(): Promise<Map<RecordTopic, number>>;
  /** For every record topic, the registry id of this service's schema under its subject, or why there is none. */
  checkAll(): Promise<{ subject: string; id: number | null; problem: string | null }[]>;
  encode<T extends RecordTopic>(topic: T, value: RecordOf<T>): Promise<Buffer>;
  /**
   * Decodes Confluent wire format written with any schema registered in the registry that
   * resolves to this service's reader schema. Throws PoisonRecordError for bytes that can never
   * decode; other errors (registry unreachable) are transient.
   */
  decode<T extends RecordTopic>(topic: T, bytes: Buffer | null): Promise<RecordOf<T>>;
  /**
   * decode without waiting, for a message whose writer schema this codec has read before (a
   * batch then decodes without an await per message); undefined when the schema must be asked
   * of the registry first (then decode). Throws as decode does.
   */
  decodeSync<T extends RecordTopic>(topic: T, bytes: Buffer | null): RecordOf<T> | undefined;
  /** encode for many values: the schema id asked once, every value encoded without waiting. */
  encodeAll<T extends RecordTopic>(topic: T, values: readonly RecordOf<T>[]): Promise<Buffer[]>;
}

const RECORD_TOPICS = (Object.keys(TOPICS) as TopicKey[]).filter((k): k is RecordTopic => TOPICS[k].record !== null);

/**
 * How long one registry request may take. The client library sets none: a registry that took the
 * connection and never answered held every record of that schema id, and the encodes of the
 * service's own events, until a restart (the pending request stays cached). Past it the request
 * fails like an outage: the batch is retried with backoff and nothing is dead-lettered.
 */
export const REGISTRY_TIMEOUT_MS = 10_000;

type RegistryMiddleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];
interface TimedRequest {
  enhance(extras: { timeout: number }): TimedRequest;
}
const timeoutAfter = (ms: number): RegistryMiddleware =>
  (() => ({ prepareRequest: (next: () => Promise<TimedRequest>) => next().then((request) => request.enhance({ timeout: ms })) })) as unknown as RegistryMiddleware;

/** The registry client of the configuration: its URL, basic auth when SCHEMA_REGISTRY_USERNAME / _PASSWORD are set, and REGISTRY_TIMEOUT_MS. */
export function createSchemaRegistry(config: Pick<Config, 'schemaRegistryUrl' | 'schemaRegistryAuth'>, options: { timeoutMs?: number } = {}): SchemaRegistry {
  const auth = config.schemaRegistryAuth && { username: config.schemaRegistryAuth.username, password: config.schemaRegistryAuth.password };
  return new SchemaRegistry({
    host: config.schemaRegistryUrl,
    ...(auth ? { auth } : {}),
    retry: { retries: 2, initialRetryTimeInSecs: 0.2, maxRetryTimeInSecs: 2 },
    middlewares: [timeoutAfter(options.timeoutMs ?? REGISTRY_TIMEOUT_MS)],
  });
}

/**
 * Whether the registry itself said a schema id is unknown: a 404 whose JSON body carries a
 * message (Confluent's and Apicurio's `{"error_code":40403,"message":…}`). The client library
 * words its error from that message; a 404 without one (an HTML page, an empty body: a proxy or a
 * wrong path during a deploy) says "Error, status 404" instead, and is an outage, not poison.
 */
const registrySaidNotFound = (err: unknown): boolean => (err as { status?: number }).status === 404 && !/ - Error, status 404/.test(String((err as Error).message));

/** The writer schema id of a Confluent wire-format value; PoisonRecordError for bytes that cannot be one. */
function wireSchemaId(bytes: Buffer | null): number {
  if (!bytes || bytes.length < HEADER_LENGTH) throw new PoisonRecordError('value is empty or shorter than the 5-byte wire header');
  if (bytes.length > MAX_RECORD_BYTES) throw new PoisonRecordError(`value of ${bytes.length} bytes is over the ${MAX_RECORD_BYTES}-byte limit`);
  if (bytes.readUInt8(0) !== MAGIC_BYTE) throw new PoisonRecordError(`unknown magic byte ${bytes.readUInt8(0)}`);
  return bytes.readInt32BE(1);
}

/**
 * How long the registry's "no such schema id" is believed. An id is never reused, so any other
 * answer about it is for good; but a registry of several nodes may answer 404 for an id another
 * node has just registered (a producer that registers a schema and writes at once). Believed
 * for good, every record of that new schema would be dead-lettered until the worker restarted;
 * now only those in this window are, and then the registry is asked again.
 */
export const NOT_FOUND_BELIEVED_MS = 30_000;

export function createEventCodec(deps: { registry: SchemaRegistry; topics: TopicNames; notFoundBelievedMs?: number }): EventCodec {
  const { registry, topics, notFoundBelievedMs = NOT_FOUND_BELIEVED_MS } = deps;
  /** The registry's "not found" answers, which readerFor forgets after notFoundBelievedMs. */
  const notFound = new WeakSet<Error>();
  const readerTypes = new Map<RecordTopic, avro.Type>(
    RECORD_TOPICS.map((t) => [t, avro.Type.forSchema(schemaOf(TOPICS[t].record as keyof Records) as avro.Schema)]),
  );
  /** This service's schema id per topic, asked once: concurrent encodes share the one request. */
  const writerIds = new Map<RecordTopic, number | Promise<number>>();
  /** Readers by topic and writer schema id: built once, reused for every message. */
  const readers = new Map<string, Promise<RecordReader>>();
  /** The same readers once built, for decodeSync. */
  const built = new Map<string, RecordReader>();

  const readerType = (topic: RecordTopic): avro.Type => readerTypes.get(topic) as avro.Type;

  async function writerIdFor(topic: RecordTopic): Promise<number> {
    const known = writerIds.get(topic);
    if (known !== undefined) return known;
    const asked = registry.getLatestSchemaId(valueSubject(topics[topic]));
    writerIds.set(topic, asked);
    try {
      const id = await asked;
      if (writerIds.get(topic) === asked) writerIds.set(topic, id);
      return id;
    } catch (err) {
      if (writerIds.get(topic) === asked) writerIds.delete(topic); // a failure is not kept: the next encode asks again
      throw err;
    }
  }

  /** Drops the client library's cached schema of an id (its cache is a plain object by id). */
  function forgetInLibrary(id: number): void {
    const cache = (registry as unknown as { cache?: { schemasByRegistryId?: Record<number, unknown> } }).cache;
    if (cache?.schemasByRegistryId) delete cache.schemasByRegistryId[id];
  }

  /** Whether the registry answers schema id `id` with a schema: a JSON object holding a `schema` string. */
  async function registryHoldsSchema(id: number): Promise<boolean> {
    const api = (registry as unknown as { api: { Schema: { find(args: { id: number }): Promise<{ data(): unknown }> } } }).api;
    const body = (await api.Schema.find({ id })).data();
    return typeof body === 'object' && body !== null && typeof (body as { schema?: unknown }).schema === 'string';
  }

  async function readerFor(topic: RecordTopic, schemaId: number): Promise<RecordReader> {
    const key = `${topic}:${schemaId}`;
    let pending = readers.get(key);
    if (!pending) {
      pending = (async () => {
        let writerSchema;
        try {
          writerSchema = await registry.getSchema(schemaId);
        } catch (err) {
          if (registrySaidNotFound(err)) {
            const poison = new PoisonRecordError(`schema id ${schemaId} is not in the registry`, { cause: err });
            notFound.add(poison);
            throw poison;
          }
          // The client library cannot build what the registry answered (ConfluentSchemaRegistry*Error;
          // an HTTP failure or a network error is not one, and stays transient). Poison only if the
          // registry did answer with a schema (a JSON schema its validator refuses, a Protobuf one,
          // references it does not follow): every later try would fail alike. A 200 that is no
          // schema at all (a maintenance page, a proxy's answer) is an outage.
          if (err instanceof Error && err.name.startsWith('ConfluentSchemaRegistry')) {
            if (await registryHoldsSchema(schemaId)) throw new PoisonRecordError(`schema id ${schemaId} cannot be read as an Avro schema: ${err.message}`, { cause: err });
            throw new Error(`the schema registry answered schema id ${schemaId} with something that is not a schema (${err.message}); retrying`, { cause: err });
          }
          throw err;
        }
        // The client library keeps every schema it built, by id, for good: ids a producer cycles
        // through would grow it without bound. This codec keeps its own readers (at most
        // MAX_READERS) and asks again for an id it dropped, so the library's copy goes now.
        forgetInLibrary(schemaId);
        const schemaJson = (writerSchema as { schema?: () => unknown }).schema;
        if (typeof schemaJson !== 'function') throw new PoisonRecordError(`schema id ${schemaId} is not an Avro schema`);
        try {
          // Rebuilt with this module's avsc so the resolver never mixes two avsc copies.
          const writer = avro.Type.forSchema(schemaJson.call(writerSchema) as avro.Schema);
          const reader = createRecordReader(readerType(topic), writer);
          if (readers.get(key) === pending) built.set(key, reader);
          return reader;
        } catch (err) {
          throw new PoisonRecordError(`schema id ${schemaId} cannot be read as ${TOPICS[topic].record}: ${(err as Error).message}`, { cause: err });
        }
      })();
      if (readers.size >= MAX_READERS) {
        const oldest = readers.keys().next().value as string;
        readers.delete(oldest);
        built.delete(oldest);
      }
      readers.set(key, pending);
      // A transient failure must not be cached; the registry's "not found" only for a while.
      pending.catch((err: unknown) => {
        const forget = () => {
          if (readers.get(key) === pending) readers.delete(key);
        };
        if (!(err instanceof PoisonRecordError)) forget();
        else if (notFound.has(err)) setTimeout(forget, notFoundBelievedMs).unref();
      });
    }
    return pending;
  }

  return {
    async checkAll() {
      const out: { subject: string; id: number | null; problem: string | null }[] = [];
      for (const topic of RECORD_TOPICS) {
        const subject = valueSubject(topics[topic]);
        const schema = JSON.stringify(schemaOf(TOPICS[topic].record as keyof Records));
        try {
          out.push({ subject, id: await registry.getRegistryIdBySchema(subject, { type: SchemaType.AVRO, schema }), problem: null });
        } catch (err) {
          out.push({ subject, id: null, problem: `not registered as this version (run: recruitment schemas register): ${(err as Error).message}` });
        }
      }
      return out;
    },
    async registerAll() {
      const ids = new Map<RecordTopic, number>();
      for (const topic of RECORD_TOPICS) {
        const schema = JSON.stringify(schemaOf(TOPICS[topic].record as keyof Records));
        const { id } = await registry.register(
          { type: SchemaType.AVRO, schema },
          { subject: valueSubject(topics[topic]), compatibility: COMPATIBILITY.BACKWARD },
        );
        ids.set(topic, id);
        writerIds.set(topic, id);
      }
      return ids;
    },

    async encode(topic, value) {
      return encodeWith(await writerIdFor(topic), topic, value);
    },

    async encodeAll(topic, values) {
      if (values.length === 0) return [];
      const id = await writerIdFor(topic);
      return values.map((value) => encodeWith(id, topic, value));
    },

    async decode(topic, bytes) {
      const schemaId = wireSchemaId(bytes);
      return readWith(await readerFor(topic, schemaId), topic, schemaId, bytes as Buffer);
    },

    decodeSync(topic, bytes) {
      const schemaId = wireSchemaId(bytes);
      const read = built.get(`${topic}:${schemaId}`);
      return read ? readWith(read, topic, schemaId, bytes as Buffer) : undefined;
    },
  };

  function encodeWith<T extends RecordTopic>(id: number, topic: T, value: RecordOf<T>): Buffer {
    const type = readerType(topic);
    const paths: string[] = [];
    if (!type.isValid(value, { errorHook: (path) => paths.push(path.join('.')) })) {
      throw new PoisonRecordError(`invalid ${TOPICS[topic].record}: bad field(s) ${paths.join(', ')}`);
    }
    const body = type.toBuffer(value);
    const out = Buffer.allocUnsafe(HEADER_LENGTH + body.length);
    out.writeUInt8(MAGIC_BYTE, 0);
    out.writeInt32BE(id, 1);
    body.copy(out, HEADER_LENGTH);
    return out;
  }

  function readWith<T extends RecordTopic>(read: RecordReader, topic: T, schemaId: number, bytes: Buffer): RecordOf<T> {
    try {
      return read(bytes.subarray(HEADER_LENGTH)) as RecordOf<T>;
    } catch (err) {
      throw new PoisonRecordError(`undecodable ${TOPICS[topic].record} (schema id ${schemaId}): ${(err as Error).message}`, { cause: err });
    }
  }
}
