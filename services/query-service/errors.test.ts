import { createServer, type Server } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSchemaRegistry } from '../../libs/events/codec.js';
import { createKafka } from '../../libs/kafka/client.js';
import { createLogger } from '../../libs/log/logger.js';
import { errorHandler } from './errors.js';

/**
 * What a request answers when a dependency fails: the errors are the real clients' own, got
 * from a port nothing listens on and from a registry that answers 503. A webhook whose broker
 * or registry was down answered 500 (an error of ours) instead of 503 (retry later).
 */
let registry503: Server;
let registry503Url: string;

beforeAll(async () => {
  registry503 = createServer((_req, res) => {
    res.writeHead(503, { 'content-type': 'text/html' });
    res.end('<html>down for maintenance</html>');
  });
  await new Promise<void>((r) => registry503.listen(0, '127.0.0.1', r));
  registry503Url = `http://127.0.0.1:${(registry503.address() as { port: number }).port}`;
});

afterAll(() => new Promise<void>((r) => registry503.close(() => r())));

/** A port on this machine that nothing listens on (connections are refused at once). */
const CLOSED = '127.0.0.1:9';

async function failure(f: () => Promise<unknown>): Promise<unknown> {
  try {
    await f();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

function answer(err: unknown): { status: number; body: unknown } {
  let status = 0;
  let body: unknown;
  const reply = {
    status(s: number) {
      status = s;
      return reply;
    },
    header: () => reply,
    send(b: unknown) {
      body = b;
      return reply;
    },
  };
  const request = { log: { warn: () => undefined, error: () => undefined } };
  errorHandler(err as never, request as unknown as FastifyRequest, reply as unknown as FastifyReply);
  return { status, body };
}

const unavailable = { status: 503, body: { error: { code: 'unavailable', message: 'a dependency of this service is unavailable; retry shortly' } } };

describe('a dependency that fails', () => {
  it('the Kafka client, its retries spent on a broker that refuses connections: 503', async () => {
    const kafka = createKafka({ brokers: [CLOSED], clientId: 'errors-test', log: createLogger({ level: 'silent', name: 'errors-test' }), security: { ssl: false, sasl: undefined } });
    const err = await failure(() => kafka.producer({ retry: { retries: 1, initialRetryTime: 20, maxRetryTime: 50 } }).connect());
    expect((err as Error).name).toMatch(/^KafkaJS/);
    expect(answer(err)).toEqual(unavailable);
  });

  it('the schema registry, refusing connections or answering 503: 503', async () => {
    const refused = await failure(() => createSchemaRegistry({ schemaRegistryUrl: `http://${CLOSED}`, schemaRegistryAuth: undefined }).getLatestSchemaId('x-value'));
    expect(answer(refused)).toEqual(unavailable);
    const down = await failure(() => createSchemaRegistry({ schemaRegistryUrl: registry503Url, schemaRegistryAuth: undefined }).getLatestSchemaId('x-value'));
    expect((down as { status?: number }).status).toBe(503);
    expect(answer(down)).toEqual(unavailable);
  });

  it('an error that only wraps one of them (its cause): 503', () => {
    expect(answer(new Error('could not publish', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }))).toEqual(unavailable);
    expect(answer(new Error('Query read timeout'))).toEqual(unavailable);
  });

  it('anything else stays an internal error, without its message: a bug, a schema the registry refuses, a record the broker refuses whatever the retries', async () => {
    const internal = { status: 500, body: { error: { code: 'internal', message: 'internal error; the request id identifies it in the logs' } } };
    expect(answer(new Error('a bug'))).toEqual(internal);
    expect(answer(Object.assign(new Error('Confluent_Schema_Registry - Schema being registered is incompatible'), { name: 'ResponseError', status: 409 }))).toEqual(internal);
    const tooLarge = Object.assign(new Error('The request included a message larger than the max message size the server will accept'), { name: 'KafkaJSProtocolError', retriable: false, type: 'MESSAGE_TOO_LARGE' });
    expect(answer(Object.assign(new Error(tooLarge.message, { cause: tooLarge }), { name: 'KafkaJSNonRetriableError', retriable: false }))).toEqual(internal);
    // An error whose causes lead back to itself ends the walk.
    const looped = new Error('looped');
    looped.cause = new Error('inner', { cause: looped });
    expect(answer(looped)).toEqual(internal);
  });
});
