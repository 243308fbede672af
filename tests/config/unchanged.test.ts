// Every config the repository ships parses to the same RunConfig as it did before the config
// schema was built from the registries (snapshot: parsed-configs.json, written by every-config.ts).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseEveryConfig, SNAPSHOT_PATH } from './every-config.js';

describe('shipped configs', () => {
  const before = JSON.parse(readFileSync(SNAPSHOT_PATH, 'utf8')) as Record<string, unknown>;
  const now = parseEveryConfig();

  it('covers the YAML files under simulations/ and examples/ (sweeps cell by cell)', () => {
    expect(Object.keys(before).length).toBeGreaterThan(150);
    expect(Object.keys(before)).toContain('simulations/vca/vca.yaml');
    expect(Object.keys(before).some((k) => k.startsWith('simulations/byzantine/sweep.yaml#'))).toBe(true);
  });

  it.each(Object.keys(before))('%s parses to the same RunConfig', (label) => {
    expect(now.refused[label.split('#')[0]]).toBeUndefined();
    // Through JSON, as the snapshot was written: undefined keys drop out on both sides.
    expect(JSON.parse(JSON.stringify(now.parsed[label]))).toEqual(before[label]);
  });
});
