import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoPath } from './repo-paths.js';
import { AGGREGATOR_NODE_FLAGS, QUERY_SERVICE_NODE_FLAGS, SERVICE_NODE_FLAGS } from './supervisor.js';

/** The Node flags a Makefile target starts a service's compiled entry with. */
function makefileFlags(service: string): string[] {
  const line = readFileSync(repoPath('Makefile'), 'utf8').split('\n').find((l) => l.includes(`build/services/${service}/main.js`));
  if (!line) throw new Error(`no Makefile line starts ${service}`);
  const words = line.trim().split(/\s+/);
  return words.slice(words.indexOf('node') + 1, -1);
}

describe('service Node flags', () => {
  it('are the same whether a service is started by make, by the supervisor (make run, make demo) or by the bench', () => {
    expect(makefileFlags('ingest-worker')).toEqual(SERVICE_NODE_FLAGS);
    expect(makefileFlags('aggregator-worker')).toEqual(AGGREGATOR_NODE_FLAGS);
    expect(makefileFlags('query-service')).toEqual(QUERY_SERVICE_NODE_FLAGS);
  });
});
