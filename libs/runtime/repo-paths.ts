import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `make install` compiles services/, libs/ and infra/ to (tsconfig.build.json's outDir). */
export const BUILD_DIR = 'build';

/**
 * The repository's root: the nearest folder above this module that holds a package.json. The
 * same whether this runs from the TypeScript sources (libs/runtime/) or from their compiled
 * copy (build/libs/runtime/; build/ has no package.json of its own), so files read at run
 * time (schemas/*.avsc, dashboard/dist/) are found from either.
 */
export const REPO_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)));

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json in any folder above ${from}`);
  }
}

/** A path inside the repository: repoPath('schemas', 'InviteClick.avsc'). */
export function repoPath(...segments: string[]): string {
  return join(REPO_ROOT, ...segments);
}

/**
 * The compiled JavaScript of one of the repository's TypeScript entry points, as a process
 * runs it: compiledEntry('services/ingest-worker/main.ts') is <root>/build/services/ingest-worker/main.js.
 * Throws, saying how to build it, when it has not been built.
 */
export function compiledEntry(source: string): string {
  const compiled = repoPath(BUILD_DIR, source.replace(/\.ts$/, '.js'));
  if (!existsSync(compiled)) throw new Error(`${compiled} is missing: build the services first (make install, or npx tsc -p tsconfig.build.json)`);
  return compiled;
}
