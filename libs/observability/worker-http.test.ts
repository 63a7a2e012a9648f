import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createWorkerHttp } from './worker-http.js';
import { createLogger } from '../log/logger.js';
import { loadConfig } from '../config/config.js';

/** Issue 20 finding 4: the workers' operational endpoints need no token, so they stay on loopback unless told. */
describe('worker operational endpoints', () => {
  const log = createLogger({ name: 'test', level: 'silent' });
  const start = async (host?: string) => {
    const http = createWorkerHttp({ port: 0, ...(host ? { host } : {}), registry: new Registry(), ready: async () => null, log });
    const port = await http.start();
    const address = http.address();
    const health = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.status);
    await http.close();
    return { address: address?.address, health };
  };

  it('listen on 127.0.0.1 by default, and METRICS_HOST defaults to it', async () => {
    expect(await start()).toEqual({ address: '127.0.0.1', health: 200 });
    expect(loadConfig({}).metricsHost).toBe('127.0.0.1');
  });

  it('listen where METRICS_HOST says', async () => {
    const host = loadConfig({ METRICS_HOST: '0.0.0.0', AUTH_JWT_SECRET: 's'.repeat(32), VISITOR_HASH_KEY: 'k'.repeat(32) }).metricsHost;
    expect(await start(host)).toEqual({ address: '0.0.0.0', health: 200 });
  });
});
