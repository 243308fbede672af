import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz-cases.js';

describe('wire fuzzing (fast)', () => {
  it('2,000 mutated or random payloads: each is rejected with a WireError or decodes to a valid update', () => {
    const stats = runFuzz(2_000, 1);
    expect(stats.rejected + stats.accepted).toBe(2_000);
    expect(stats.rejected).toBeGreaterThan(1_500); // most mutations must be caught
  });
});
