// docs/config.md lists every registry's built-in entries: adding an entry without running
// `npm run docs:config` fails here (and in tests/config-doc.test.ts, which compares the whole file).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_DOC_PATH } from '../../scripts/config-doc.js';
import { aggregationRegistry } from '../../src/aggregation/registry.js';
import { topologyRegistry } from '../../src/topology/registry.js';
import { datasetRegistry } from '../../src/data/registry.js';
import { modelRegistry } from '../../src/model/registry.js';
import { METHOD_NAMES } from '../../src/compression/methods.js';

const doc = readFileSync(CONFIG_DOC_PATH, 'utf8');

/** The first column of the table under a `### heading`, in order. */
function namesUnder(heading: string): string[] {
  const start = doc.indexOf(`### ${heading}`);
  expect(start).toBeGreaterThan(0);
  const rest = doc.slice(start);
  const end = rest.indexOf('\n#', 4);
  return [...rest.slice(0, end < 0 ? undefined : end).matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
}

describe('docs/config.md lists the registries', () => {
  it.each([
    ['Aggregation rules (`aggregation.name`)', () => aggregationRegistry.builtIns.map((e) => e.name)],
    ['Topologies (`topology.name`)', () => topologyRegistry.builtIns.map((e) => e.name)],
    ['Datasets (`data.dataset`)', () => datasetRegistry.builtIns.map((e) => e.name)],
    ['Models (`model.kind`)', () => modelRegistry.builtIns.map((e) => e.name)],
    ['Compression methods (`compression.method`)', () => [...METHOD_NAMES].sort()],
  ] as const)('%s: one row per built-in entry (run `npm run docs:config` after adding one)', (heading, names) => {
    const rows = namesUnder(heading);
    expect(heading.startsWith('Compression') ? [...rows].sort() : rows).toEqual(names());
  });

  it('shows a rule\'s capabilities as its entry states them', () => {
    expect(doc).toContain('| `fedprox` | federated |  | proximal |  | yes | FedAvg with a proximal term in local training |');
    expect(doc).toContain('| `scaffold` | federated |  | control-variates | yes |  |');
    expect(doc).toContain('| `krum` | gossip, federated | required |  |');
    expect(doc).toContain('| `random-regular` | static | yes | yes |');
  });
});
