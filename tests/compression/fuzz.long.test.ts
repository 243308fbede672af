// Excluded from the default run (vitest.config.ts); run with
//   npx vitest run --config tests/compression/vitest.long.config.ts
import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz-cases.js';

describe('wire fuzzing (long)', () => {
  it('100,000 mutated or random payloads never crash and never yield an invalid update', () => {
    const stats = runFuzz(100_000, 20240601);
    expect(stats.cases).toBe(100_000);
  }, 600_000);
});
