import { Writable } from 'node:stream';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import helmet from 'helmet';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { lazyChildLogger } from './request-logger.js';
import { securityHeaders } from './app.js';

/** A pino logger writing its lines into an array, and how many children it made. */
function recording(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>); done(); } });
  const logger = pino({ level, base: null, timestamp: false }, stream);
  let children = 0;
  const child = logger.child;
  // pino's children inherit from their parent: counted for every logger of the tree, on its own `this`.
  logger.child = function (this: typeof logger, ...args: Parameters<typeof child>) {
    children += 1;
    return child.apply(this, args);
  } as typeof logger.child;
  return { logger, lines, children: () => children };
}

describe('lazyChildLogger', () => {
  it('makes no child until the request logs, then logs exactly what the child would', async () => {
    const { logger, lines, children } = recording();
    const lazy = lazyChildLogger(logger, { reqId: 'r-1' }, {});
    expect(children()).toBe(0);
    expect(lazy.level).toBe('info');
    lazy.debug('below the level');
    lazy.warn({ code: 'x' }, 'something happened');
    lazy.error(new Error('boom'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(children()).toBe(1);
    expect(lines.map(({ level, reqId, code, msg }) => ({ level, reqId, code, msg }))).toEqual([
      { level: 40, reqId: 'r-1', code: 'x', msg: 'something happened' },
      { level: 50, reqId: 'r-1', code: undefined, msg: 'boom' },
    ]);
  });

  it('honours a route log level given in the options, and its own children carry both bindings', async () => {
    const { logger, lines } = recording('info');
    const lazy = lazyChildLogger(logger, { reqId: 'r-2' }, { level: 'warn' });
    expect(lazy.level).toBe('warn');
    lazy.info('dropped by the route level');
    lazy.child({ part: 'inner' }).warn('kept');
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines.map(({ reqId, part, msg }) => ({ reqId, part, msg }))).toEqual([{ reqId: 'r-2', part: 'inner', msg: 'kept' }]);
  });
});

describe('securityHeaders', () => {
  it('are the headers helmet sets on a real response with the same options', () => {
    const options = { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } };
    const request = new IncomingMessage(new Socket());
    const response = new ServerResponse(request);
    response.setHeader('x-powered-by', 'something');
    helmet(options)(request, response, () => undefined);
    const set = Object.fromEntries(Object.entries(response.getHeaders()).map(([k, v]) => [k, String(v)]));
    expect(securityHeaders(options)).toEqual(set);
    expect(set['x-powered-by']).toBeUndefined();
    expect(set['x-frame-options']).toBe('SAMEORIGIN');
    expect(set['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
  });
});
