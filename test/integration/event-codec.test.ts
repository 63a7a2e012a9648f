import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import avro from 'avsc';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { readTopic } from '../support/kafka.js';
import { FIXTURES } from '../../libs/events/fixtures.js';
import { createEventProducer, type EventProducer } from '../../libs/kafka/event-producer.js';
import { MAX_RECORD_BYTES, PoisonRecordError, createEventCodec, createSchemaRegistry, type RecordTopic } from '../../libs/events/codec.js';
import { schemaOf } from '../../libs/events/schemas.js';
import { TOPICS, valueSubject } from '../../libs/events/topics.js';

let env: TestEnv;
let producer: EventProducer;

beforeAll(async () => {
  env = await createTestEnv('codec');
  producer = createEventProducer(env);
  await producer.connect();
});

afterAll(async () => {
  await producer?.disconnect();
  await env?.close();
});

const recordTopics = Object.keys(FIXTURES) as RecordTopic[];

describe('event contracts through the real registry and broker', () => {
  it.each(recordTopics)('the %s fixture round-trips: produce, consume, decode equals the fixture', async (topic) => {
    const fixture = FIXTURES[topic];
    await producer.send(topic, [fixture]);
    const [message] = await readTopic(env.kafka, env.topics[topic], 1);
    expect(message?.key?.toString()).toBe(String((fixture as unknown as Record<string, unknown>)[TOPICS[topic].keyField as string]));
    expect(message?.value?.readUInt8(0)).toBe(0); // Confluent magic byte
    const decoded = await env.codec.decode(topic, message?.value ?? null);
    expect({ ...decoded }).toEqual(fixture);
  });

  it('a record in the Confluent wire format written by another client decodes', async () => {
    // Another producer: registers its own (older, narrower) writer schema over plain HTTP and
    // encodes with its own Avro library; our reader schema resolves it.
    const subject = valueSubject(env.topics.userLogins);
    const writerSchema = {
      type: 'record',
      name: 'UserLoggedIn',
      namespace: 'recruitment.events',
      fields: [
        { name: 'eventId', type: 'string' },
        { name: 'userId', type: 'string' },
        { name: 'occurredAt', type: { type: 'long', logicalType: 'timestamp-millis' } },
        { name: 'client', type: ['null', 'string'], default: null },
      ],
    };
    const response = await fetch(`${env.config.schemaRegistryUrl}/subjects/${subject}/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: JSON.stringify(writerSchema) }),
    });
    expect(response.status).toBe(200);
    const { id } = (await response.json()) as { id: number };
    const body = avro.Type.forSchema(writerSchema as avro.Schema).toBuffer({ eventId: 'e-foreign', userId: 'u-1', occurredAt: 1_700_000_000_000, client: 'ios' });
    const header = Buffer.alloc(5);
    header.writeInt32BE(id, 1);
    await producer.sendRaw('userLogins', [{ key: 'u-1', value: Buffer.concat([header, body]) }]);

    const [message] = await readTopic(env.kafka, env.topics.userLogins, 2).then((all) => all.filter((m) => m.key?.toString() === 'u-1'));
    expect({ ...(await env.codec.decode('userLogins', message?.value ?? null)) }).toEqual({ eventId: 'e-foreign', userId: 'u-1', occurredAt: 1_700_000_000_000 });
  });

  it('ReferralEventRecorded with retractsEventId is a BACKWARD-compatible new version, and events of the first version still decode', async () => {
    const subject = `${env.namespace}.compat.referral-events-value`;
    const registry = env.config.schemaRegistryUrl;
    const post = (path: string, body: unknown, method = 'POST') =>
      fetch(`${registry}${path}`, { method, headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify(body) });
    const current = schemaOf('ReferralEventRecorded') as { fields: { name: string }[] };
    const first = { ...current, fields: current.fields.filter((f) => f.name !== 'retractsEventId') };
    expect((await post(`/config/${subject}`, { compatibility: 'BACKWARD' }, 'PUT')).status).toBe(200);
    const v1 = (await (await post(`/subjects/${subject}/versions`, { schema: JSON.stringify(first) })).json()) as { id: number };
    const v2 = await post(`/subjects/${subject}/versions`, { schema: JSON.stringify(current) });
    expect(v2.status).toBe(200);
    const versions = (await (await fetch(`${registry}/subjects/${subject}/versions`)).json()) as number[];
    expect(versions).toHaveLength(2);

    const { retractsEventId: _, ...old } = FIXTURES.referralEvents;
    const header = Buffer.alloc(5);
    header.writeInt32BE(v1.id, 1);
    const bytes = Buffer.concat([header, avro.Type.forSchema(first as avro.Schema).toBuffer(old)]);
    expect({ ...(await env.codec.decode('referralEvents', bytes)) }).toEqual({ ...old, retractsEventId: null });
  });

  it('bytes that can never decode are poison, not transient', async () => {
    await expect(env.codec.decode('inviteClicks', Buffer.from('not avro'))).rejects.toBeInstanceOf(PoisonRecordError);
    await expect(env.codec.decode('inviteClicks', null)).rejects.toBeInstanceOf(PoisonRecordError);
    const unknownId = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 1, 2]);
    await expect(env.codec.decode('inviteClicks', unknownId)).rejects.toBeInstanceOf(PoisonRecordError);
    const good = await env.codec.encode('userLogins', FIXTURES.userLogins);
    await expect(env.codec.decode('userLogins', good.subarray(0, good.length - 3))).rejects.toBeInstanceOf(PoisonRecordError);
  });

  it('a schema id the registry holds as a JSON or Protobuf schema is poison, not a batch retried for ever', async () => {
    const post = (subject: string, body: unknown) =>
      fetch(`${env.config.schemaRegistryUrl}/subjects/${subject}/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify(body) });
    // A draft-04 JSON schema: the client library's validator refuses to compile it.
    const json = await post(`${env.namespace}.json-value`, { schemaType: 'JSON', schema: JSON.stringify({ $schema: 'http://json-schema.org/draft-04/schema#', type: 'object', properties: { a: { type: 'string' } } }) });
    const proto = await post(`${env.namespace}.proto-value`, { schemaType: 'PROTOBUF', schema: 'syntax = "proto3";\nmessage Click { string id = 1; }\n' });
    for (const res of [json, proto]) {
      expect(res.status).toBe(200);
      const { id } = (await res.json()) as { id: number };
      const bytes = Buffer.alloc(16);
      bytes.writeInt32BE(id, 1);
      await expect(env.codec.decode('inviteClicks', bytes)).rejects.toBeInstanceOf(PoisonRecordError);
    }
  });

  it('a CoordinatorScope declaring 4,294,967,295 mentors in 13 bytes is poison, refused before anything is allocated', async () => {
    const header = (await env.codec.encode('coordinatorScopes', FIXTURES.coordinatorScopes)).subarray(0, 5);
    // orgId "org", coordinatorId "c", an array block of 4,294,967,295 items, one item "m".
    const bomb = Buffer.concat([header, Buffer.from([0x06, 0x6f, 0x72, 0x67, 0x02, 0x63, 0xfe, 0xff, 0xff, 0xff, 0x1f, 0x02, 0x6d])]);
    await expect(env.codec.decode('coordinatorScopes', bomb)).rejects.toThrow(
      new PoisonRecordError(`undecodable CoordinatorScope (schema id ${header.readInt32BE(1)}): mentorIds: block declares 4294967295 items, more than the 2 bytes left can hold (at byte 6)`),
    );
    const huge = await env.codec.encode('userRegistered', { ...FIXTURES.userRegistered, displayName: 'x'.repeat(MAX_RECORD_BYTES) });
    await expect(env.codec.decode('userRegistered', huge)).rejects.toThrow(new PoisonRecordError(`value of ${huge.length} bytes is over the ${MAX_RECORD_BYTES}-byte limit`));
  });

  it('a new codec asks the registry for its schema id once, however many records it encodes at once', async () => {
    // A worker's first fetch publishes thousands of events together: one request each was a
    // burst of thousands of registry calls (seconds of the first batch, and the registry's CPU).
    const registry = createSchemaRegistry(env.config);
    const ask = registry.getLatestSchemaId.bind(registry);
    let asked = 0;
    registry.getLatestSchemaId = (subject: string) => {
      asked++;
      return ask(subject);
    };
    const codec = createEventCodec({ registry, topics: env.topics });
    const encoded = await Promise.all(Array.from({ length: 200 }, () => codec.encode('appInstalls', FIXTURES.appInstalls)));
    expect(asked).toBe(1);
    expect(await codec.decode('appInstalls', encoded[199] as Buffer)).toEqual(FIXTURES.appInstalls);
  });

  it('decodes without waiting once it has read a writer schema, and refuses poison the same way', async () => {
    const codec = createEventCodec({ registry: createSchemaRegistry(env.config), topics: env.topics });
    const [first, second] = await codec.encodeAll('appInstalls', [FIXTURES.appInstalls, { ...FIXTURES.appInstalls, eventId: 'install-2' }]);
    // The schema must be read from the registry first: no answer without waiting.
    expect(codec.decodeSync('appInstalls', first as Buffer)).toBeUndefined();
    expect(await codec.decode('appInstalls', first as Buffer)).toEqual(FIXTURES.appInstalls);
    expect(codec.decodeSync('appInstalls', second as Buffer)).toEqual({ ...FIXTURES.appInstalls, eventId: 'install-2' });
    expect(() => codec.decodeSync('appInstalls', Buffer.from('not avro'))).toThrow(PoisonRecordError);
    expect(() => codec.decodeSync('appInstalls', (second as Buffer).subarray(0, (second as Buffer).length - 3))).toThrow(PoisonRecordError);
    await expect(codec.encodeAll('appInstalls', [{ ...FIXTURES.appInstalls, occurredAt: 'soon' as unknown as number }])).rejects.toBeInstanceOf(PoisonRecordError);
  });

  it('the registered schema of every subject is the one in schemas/', async () => {
    for (const topic of recordTopics.filter((t) => t !== 'userLogins')) {
      const res = await fetch(`${env.config.schemaRegistryUrl}/subjects/${valueSubject(env.topics[topic])}/versions/latest`);
      expect(res.status).toBe(200);
      const { schema } = (await res.json()) as { schema: string };
      expect(JSON.parse(schema)).toEqual(schemaOf(TOPICS[topic].record));
    }
  });
});
