import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from '../log/logger.js';

/**
 * The operational endpoints of a worker: /healthz (the process is alive), /readyz (every
 * dependency it needs answers, it is a member of its consumer group and none of its
 * partitions is stalled or stopped: readiness.ts) and /metrics (Prometheus). They need no
 * token, so they listen on loopback unless `host` says otherwise (METRICS_HOST; a container
 * sets 0.0.0.0 for its scraper).
 */
export function createWorkerHttp(options: { port: number; host?: string; registry: Registry; ready: () => Promise<string | null>; log: Logger }) {
  const host = options.host ?? '127.0.0.1';
  let server: Server | undefined;
  const send = (res: import('node:http').ServerResponse, status: number, body: string, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  return {
    async start(): Promise<number> {
      server = createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0];
        if (path === '/healthz') return send(res, 200, '{"status":"ok"}');
        if (path === '/readyz') {
          void options.ready().then(
            (problem) => (problem ? send(res, 503, JSON.stringify({ status: 'unavailable', reason: problem })) : send(res, 200, '{"status":"ready"}')),
            (err: Error) => send(res, 503, JSON.stringify({ status: 'unavailable', reason: err.message })),
          );
          return;
        }
        if (path === '/metrics') {
          void options.registry.metrics().then((text) => send(res, 200, text, options.registry.contentType));
          return;
        }
        send(res, 404, '{"error":{"code":"NOT_FOUND","message":"no such route"}}');
      });
      await new Promise<void>((resolve) => server!.listen(options.port, host, resolve));
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : options.port;
      options.log.info({ host, port }, 'operational endpoints listening (/healthz, /readyz, /metrics)');
      return port;
    },
    /** Where it listens (null before start). */
    address(): AddressInfo | null {
      const address = server?.address();
      return typeof address === 'object' && address ? address : null;
    },
    async close(): Promise<void> {
      if (!server) return;
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    },
  };
}
