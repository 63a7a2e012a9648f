import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { addVary, takesGzip } from './encoding.js';

describe('takesGzip', () => {
  it.each([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['gzip, deflate, br, zstd', true],
    ['GZIP', true],
    ['x-gzip', true],
    ['br;q=1.0, gzip;q=0.8, *;q=0.1', true],
    ['gzip;q=0', false],
    ['gzip;q=0.000', false],
    ['*', true],
    ['*;q=0', false],
    ['br', false],
    ['identity', false],
    ['gzip;q=0, *', false],
    ['*;q=0, gzip;q=0.5', true],
    ['gzip;q=abc', false],
    [['br', 'gzip'], true],
  ] as const)('%j → %s', (header, expected) => {
    expect(takesGzip(header as string | string[] | undefined)).toBe(expected);
  });
});

describe('addVary', () => {
  it('keeps what the reply varies on already and adds a field once', async () => {
    const app = Fastify();
    app.get('/', async (_request, reply) => {
      void reply.header('vary', 'Origin');
      addVary(addVary(reply, 'accept-encoding'), 'Accept-Encoding');
      return 'ok';
    });
    app.get('/none', async (_request, reply) => {
      addVary(reply, 'accept');
      return 'ok';
    });
    app.get('/star', async (_request, reply) => {
      void reply.header('vary', '*');
      addVary(reply, 'accept');
      return 'ok';
    });
    expect((await app.inject('/')).headers.vary).toBe('Origin, accept-encoding');
    expect((await app.inject('/none')).headers.vary).toBe('accept');
    expect((await app.inject('/star')).headers.vary).toBe('*');
    await app.close();
  });
});
