/**
 * `make run`: the three services in the foreground under one supervisor, with prefixed logs.
 * The stack must be up (make run brings it up first). Ctrl-C stops everything cleanly.
 */
import { loadConfig } from '../libs/config/config.js';
import { pipelineServices, superviseServices } from '../libs/runtime/supervisor.js';

const config = loadConfig();
const services = superviseServices(pipelineServices(), { color: process.stdout.isTTY });

const api = `http://127.0.0.1:${config.httpPort}`;
process.stdout.write(
  [
    '',
    `  API      ${api}/v1`,
    `  docs     ${api}/docs`,
    `  dashboard ${api}/dashboard/ (sign in with a token)`,
    `  metrics  ${api}/metrics, http://127.0.0.1:9101/metrics (ingest), http://127.0.0.1:9102/metrics (aggregator)`,
    config.auth.usingDevSecret ? `  tokens   HS256 with the development secret "${config.auth.jwtSecret}" (npx recruitment token --help)` : '  tokens   verified with AUTH_JWT_SECRET / AUTH_JWKS_URL',
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
