#!/usr/bin/env node
// The recruitment CLI: `npx recruitment --help`. Runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../services/cli/main.ts');
