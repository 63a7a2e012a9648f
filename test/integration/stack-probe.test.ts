import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:net';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadConfig } from '../../libs/config/config.js';
import { probe } from '../../infra/probe.js';

/**
 * `make up` reuses a Kafka broker or a Redis server already listening on its port, and refuses a
 * port taken by anything else (infra/probe.ts, called by infra/scripts/up.sh). Against the local
 * stack's real broker and Redis, and servers of other kinds on ports of their own.
 */
const config = loadConfig(process.env);
const [kafkaHost, kafkaPort] = (config.kafka.brokers[0] as string).split(':') as [string, string];
const redisUrl = new URL(config.redisUrl);
const servers: Server[] = [];
const sockets = new Set<import('node:net').Socket>();

/** A server on a free port of 127.0.0.1 that answers every connection as `answer` says. */
async function serverOnPort(answer: (socket: import('node:net').Socket) => void): Promise<number> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    answer(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

let http: number;
let silent: number;
let closing: number;
beforeAll(async () => {
  http = await serverOnPort((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n')));
  silent = await serverOnPort(() => undefined);
  closing = await serverOnPort((s) => s.destroy());
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  for (const s of servers) await new Promise((resolve) => s.close(resolve));
});

describe('what make up reuses on a port', () => {
  it('knows the local Kafka broker and Redis server by their protocols', async () => {
    expect(await probe('kafka', kafkaHost, Number(kafkaPort))).toBe(true);
    expect(await probe('redis', redisUrl.hostname, Number(redisUrl.port || 6379))).toBe(true);
  });

  it('refuses a port held by a server of another kind: each other, an HTTP server, one that never answers, one that hangs up', async () => {
    expect(await probe('kafka', redisUrl.hostname, Number(redisUrl.port || 6379))).toBe(false);
    expect(await probe('redis', kafkaHost, Number(kafkaPort), 1_000)).toBe(false);
    for (const server of ['kafka', 'redis'] as const) {
      expect(await probe(server, '127.0.0.1', http)).toBe(false);
      expect(await probe(server, '127.0.0.1', silent, 500)).toBe(false);
      expect(await probe(server, '127.0.0.1', closing)).toBe(false);
    }
  });

  it('answers the script with its exit code, as up.sh reads it', async () => {
    // The compiled file, as up.sh runs it (the script acts only under that name).
    const built = (...args: string[]) => promisify(execFile)(process.execPath, ['build/infra/probe.js', ...args]).then(() => 0, (err: { code: number }) => err.code);
    expect(await built('kafka', kafkaHost, kafkaPort)).toBe(0);
    expect(await built('kafka', '127.0.0.1', String(http))).toBe(1);
    expect(await built('redis', '127.0.0.1', String(http))).toBe(1);
    expect(await built('nats', '127.0.0.1', String(http))).toBe(2);
  });
});
