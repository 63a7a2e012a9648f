#!/usr/bin/env node
// The recruitment CLI: `npx recruitment --help`. Runs services/cli/main.ts as compiled to
// JavaScript by `make install` (tsconfig.build.json, into build/).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../build/services/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error(`recruitment: ${fileURLToPath(main)} is missing: build the services first (make install, or npx tsc -p tsconfig.build.json)`);
  process.exit(1);
}
await import(main.href);
