/**
 * `make run`: the three services in the foreground under one supervisor, with prefixed logs.
 * The stack must be up (make run brings it up first). Ctrl-C stops everything cleanly.
 * Names (`ingest`, `aggregator`, `query`) run only those services: `make query-service` and
 * the other single-service targets, so every way of starting a service gives it the same Node
 * flags and memory allocator (libs/runtime/supervisor.ts, libs/runtime/allocator.ts).
 */
import { loadConfig } from '../libs/config/config.js';
import { pipelineServices, superviseServices } from '../libs/runtime/supervisor.js';

const config = loadConfig();
const wanted = process.argv.slice(2);
const known = pipelineServices();
const unknown = wanted.filter((name) => !known.some((s) => s.name === name));
if (unknown.length > 0) {
  process.stderr.write(`unknown service ${unknown.join(', ')}: the services are ${known.map((s) => s.name).join(', ')}\n`);
  process.exit(2);
}
const running = wanted.length === 0 ? known : known.filter((s) => wanted.includes(s.name));
const services = superviseServices(running, { color: process.stdout.isTTY });

const api = `http://127.0.0.1:${config.httpPort}`;
const query = running.some((s) => s.name === 'query');
process.stdout.write(
  [
    '',
    ...(query
      ? [
          `  API      ${api}/v1`,
          `  docs     ${api}/docs`,
          `  dashboard ${api}/dashboard/ (sign in with a token)`,
          `  metrics  ${api}/metrics, http://127.0.0.1:9101/metrics (ingest), http://127.0.0.1:9102/metrics (aggregator)`,
          config.auth.usingDevSecret ? `  tokens   HS256 with the development secret "${config.auth.jwtSecret}" (npx recruitment token --help)` : '  tokens   verified with AUTH_JWT_SECRET / AUTH_JWKS_URL',
        ]
      : ['  metrics  http://127.0.0.1:9101/metrics (ingest), http://127.0.0.1:9102/metrics (aggregator)']),
    '  Ctrl-C stops the services; `make down` stops the stack.',
    '',
  ].join('\n') + '\n',
);

let signals = 0;
const stop = () => {
  if (++signals > 1) process.exit(1);
  process.stdout.write('stopping the services…\n');
  void services.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
