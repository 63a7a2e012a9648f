/**
 * Recomputes the funnel tables from the ingest facts and swaps them in (libs/funnel/rebuild.ts).
 * Safe while the workers run. `make rebuild`; the recruitment CLI offers the same.
 */
import { loadConfig } from '../../libs/config/config.js';
import { createLogger } from '../../libs/log/logger.js';
import { createPool } from '../../libs/runtime/connections.js';
import { rebuildFunnels } from '../../libs/funnel/rebuild.js';

const config = loadConfig();
const log = createLogger({ name: 'rebuild', level: config.logLevel });
const pool = createPool(config, log, 2);
try {
  const result = await rebuildFunnels(pool, { defaultTimezone: config.defaultTimezone, log });
  process.stdout.write(`${JSON.stringify(result)}\n`);
} catch (err) {
  log.error({ err }, 'rebuild failed; the funnel tables are unchanged');
  process.exitCode = 1;
} finally {
  await pool.end();
}
