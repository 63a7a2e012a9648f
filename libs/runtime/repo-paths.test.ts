import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SCHEMAS_DIR } from '../events/schemas.js';
import { compiledEntry, REPO_ROOT, repoPath } from './repo-paths.js';

describe('repository paths', () => {
  it('find the root holding package.json, so run-time files resolve from the sources and build/ alike', () => {
    expect(existsSync(join(REPO_ROOT, 'package.json'))).toBe(true);
    expect(existsSync(join(SCHEMAS_DIR, 'InviteClicked.avsc'))).toBe(true);
    expect(repoPath('dashboard', 'dist')).toBe(join(REPO_ROOT, 'dashboard', 'dist'));
  });

  it('a compiled entry point is the .js under build/, and a missing one names the command that builds it', () => {
    expect(() => compiledEntry('services/no-such-service/main.ts')).toThrow(
      `${join(REPO_ROOT, 'build', 'services', 'no-such-service', 'main.js')} is missing: build the services first (make install`,
    );
  });
});
