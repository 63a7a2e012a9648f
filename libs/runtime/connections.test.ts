import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { createLogger } from '../log/logger.js';
import { createRedis, REDIS_COMMAND_TIMEOUT_MS } from './connections.js';

describe('the Redis client of the services', () => {
  it('fails a command that a Redis keeping the connection never answers, instead of waiting for ever', async () => {
    // Accepts the connection and reads everything; answers nothing.
    const sockets: net.Socket[] = [];
    const server = net.createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const redis = createRedis(loadConfig({ REDIS_URL: `redis://127.0.0.1:${(server.address() as net.AddressInfo).port}` }), createLogger({ name: 'test', level: 'error' }));
    try {
      const started = Date.now();
      await expect(redis.mget('recruitment:seen:a', 'recruitment:seen:b')).rejects.toThrow(/timed out/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(REDIS_COMMAND_TIMEOUT_MS - 100);
    } finally {
      redis.disconnect();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }, REDIS_COMMAND_TIMEOUT_MS + 10_000);
});
