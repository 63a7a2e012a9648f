import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { createEventCodec, createSchemaRegistry, PoisonRecordError } from './codec.js';
import { topicNames } from './topics.js';
import { schemaOf } from './schemas.js';
import avro from 'avsc';

/**
 * A registry that misbehaves rather than being down, on loopback: one that takes the request
 * and never answers, one that answers 200 with a page that is no schema, a 404 from something
 * that is not the registry. Each is an outage, retried (the batch waits); only the registry's
 * own "not found" and a schema the client cannot read are poison (dead-lettered).
 */
type Mode = 'hang' | 'html' | 'html404' | 'notFound' | 'protobuf' | 'avro' | 'deep';
let mode: Mode = 'hang';
const hung: ServerResponse[] = [];
let server: Server;
let url: string;

beforeAll(async () => {
  server = createServer((_req, res) => {
    if (mode === 'hang') return void hung.push(res);
    if (mode === 'html') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<html>down for maintenance</html>');
    if (mode === 'html404') return void res.writeHead(404, { 'content-type': 'text/html' }).end('<html>no such route</html>');
    if (mode === 'notFound') return void res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"No content with ID 7 was found.","error_code":40403}');
    if (mode === 'deep') return void res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ schema: DEEP_SCHEMA }));
    if (mode === 'avro') return void res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ schema: JSON.stringify(schemaOf('UserLoggedIn')) }));
    res.writeHead(200, { 'content-type': 'application/vnd.schemaregistry.v1+json' }).end(JSON.stringify({ schemaType: 'PROTOBUF', schema: 'syntax = "proto3"; message M { string a = 1; }' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of hung) res.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * An Avro schema of arrays nested 20,000 deep (240 kB): valid Avro, but building it recurses
 * once per level, past the stack (a RangeError in the client library, not one of its own errors).
 */
const DEEP_SCHEMA = (() => {
  let s = '"null"';
  for (let i = 0; i < 20_000; i++) s = `{"type":"array","items":${s}}`;
  return s;
})();

/** A value in the wire format naming schema id 7, whatever its body. */
const value = Buffer.from([0, 0, 0, 0, 7, 2, 0x61]);
const codec = () => createEventCodec({ registry: createSchemaRegistry(loadConfig({ SCHEMA_REGISTRY_URL: url }), { timeoutMs: 300 }), topics: topicNames('') });
const outcome = async (decode: Promise<unknown>) => {
  try {
    await decode;
    return 'decoded';
  } catch (err) {
    return err instanceof PoisonRecordError ? 'poison' : 'outage';
  }
};

describe('a schema registry that misbehaves', () => {
  it('that never answers: the request times out as an outage, and the next one is asked again', async () => {
    const c = codec();
    mode = 'hang';
    expect(await outcome(c.decode('userLogins', value))).toBe('outage');
    // Not held on the hung request: once the registry answers, the same id is settled.
    mode = 'notFound';
    expect(await outcome(c.decode('userLogins', value))).toBe('poison');
  }, 20_000);

  it('that answers 200 with no schema, or 404 without its own message: an outage, never poison', async () => {
    mode = 'html';
    expect(await outcome(codec().decode('userLogins', value))).toBe('outage');
    mode = 'html404';
    expect(await outcome(codec().decode('userLogins', value))).toBe('outage');
  }, 20_000);

  it('holding many schemas: the client keeps none of them beyond the readers the codec keeps', async () => {
    mode = 'avro';
    const registry = createSchemaRegistry(loadConfig({ SCHEMA_REGISTRY_URL: url }), { timeoutMs: 2_000 });
    const c = createEventCodec({ registry, topics: topicNames('') });
    for (let id = 1; id <= 300; id++) {
      // A producer naming a new schema id in every record: each is read (and refused: the body is not a login).
      await c.decode('userLogins', Buffer.from([0, 0, 0, id >> 8, id & 255, 2, 0x61])).catch(() => undefined);
    }
    const cached = (registry as unknown as { cache: { schemasByRegistryId: Record<number, unknown> } }).cache.schemasByRegistryId;
    expect(Object.keys(cached)).toHaveLength(0);
  }, 20_000);

  it("that says the id is unknown, or holds a schema that is not Avro: poison", async () => {
    mode = 'notFound';
    expect(await outcome(codec().decode('userLogins', value))).toBe('poison');
    mode = 'protobuf';
    expect(await outcome(codec().decode('userLogins', value))).toBe('poison');
  }, 20_000);

  it("that said an id is unknown: believed for a while, then asked again (a registry node that had not seen a schema just registered)", async () => {
    const c = createEventCodec({ registry: createSchemaRegistry(loadConfig({ SCHEMA_REGISTRY_URL: url }), { timeoutMs: 2_000 }), topics: topicNames(''), notFoundBelievedMs: 300 });
    const login = Buffer.concat([Buffer.from([0, 0, 0, 0, 7]), avro.Type.forSchema(schemaOf('UserLoggedIn') as avro.Schema).toBuffer({ eventId: 'e-1', userId: 'u-1', occurredAt: 1_700_000_000_000 })]);
    mode = 'notFound';
    expect(await outcome(c.decode('userLogins', login))).toBe('poison');
    // The schema is there now, but the answer is believed for its while.
    mode = 'avro';
    expect(await outcome(c.decode('userLogins', login))).toBe('poison');
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await outcome(c.decode('userLogins', login))).toBe('decoded');
  }, 20_000);

  it('that holds a schema the client cannot build (nested past the stack): poison, not an outage retried for ever', async () => {
    mode = 'deep';
    expect(await outcome(codec().decode('userLogins', value))).toBe('poison');
  }, 20_000);
});
