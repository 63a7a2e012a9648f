import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { GENERATED_PATH, renderTypes } from './generate-types.js';

describe('generated event types', () => {
  it('match schemas/*.avsc (run `make types` after changing a schema)', () => {
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(renderTypes());
  });
});
