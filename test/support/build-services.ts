import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { REPO_ROOT, repoPath } from '../../libs/runtime/repo-paths.js';

/**
 * Vitest global setup of the projects whose tests start services, provisioning or the CLI as
 * processes of their own (integration, stack): compiles them as `make install` does
 * (tsconfig.build.json, incremental: seconds when little changed), so a child process never
 * runs a build older than the sources under test, whether make or a person started vitest.
 * Once per vitest run, however many of those projects it runs.
 */
export function setup(): void {
  if (process.env.RECRUITMENT_SERVICES_BUILT === '1') return;
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', repoPath('tsconfig.build.json')], { cwd: REPO_ROOT, stdio: 'inherit' });
  process.env.RECRUITMENT_SERVICES_BUILT = '1';
}
