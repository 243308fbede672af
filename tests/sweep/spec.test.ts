import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gridPoints, loadSweepFile, slug } from '../../src/sweep/spec.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-sweepspec-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const file = (name: string, text: string) => {
  writeFileSync(join(root, name), text);
  return join(root, name);
};
file('base.yaml', 'peers: 4\nrounds: 3\ndata: { dataset: mnist, train: 400, test: 100, partition: { kind: dirichlet, alpha: 1 } }\n');
file('fed.yaml', 'mode: federated\npeers: 4\nrounds: 2\n');

describe('sweep files', () => {
  it('gridPoints is the cartesian product in key order', () => {
    expect(gridPoints({})).toEqual([[]]);
    expect(gridPoints({ a: [1, 2], b: ['x', 'y', 'z'] }).map((p) => p.map(([k, v]) => `${k}=${v}`).join(' '))).toEqual([
      'a=1 b=x', 'a=1 b=y', 'a=1 b=z', 'a=2 b=x', 'a=2 b=y', 'a=2 b=z',
    ]);
  });

  it('expands settings × grid × seeds into validated cells, in order, each with its own folder', () => {
    const s = loadSweepFile(
      file('s.yaml', 'base: base.yaml\nseeds: [1, 2, 3]\nset: { eval.every: 1 }\nsettings:\n  - { name: FedAvg, set: { mode: federated } }\n  - { name: ring, set: { topology.name: ring } }\ngrid:\n  data.partition.alpha: [0.1, 10]\n'),
      ['rounds=2'],
    );
    expect(s.name).toBe('s');
    expect(s.settings.map((x) => [x.id, x.name])).toEqual([
      ['fedavg_alpha-0.1', 'FedAvg, alpha=0.1'],
      ['fedavg_alpha-10', 'FedAvg, alpha=10'],
      ['ring_alpha-0.1', 'ring, alpha=0.1'],
      ['ring_alpha-10', 'ring, alpha=10'],
    ]);
    expect(s.cells).toHaveLength(12);
    expect(s.cells.slice(0, 4).map((c) => c.id)).toEqual(['fedavg_alpha-0.1/seed-1', 'fedavg_alpha-0.1/seed-2', 'fedavg_alpha-0.1/seed-3', 'fedavg_alpha-10/seed-1']);
    const c = s.cells[7]; // ring, alpha 0.1, seed 2
    expect(c.config).toMatchObject({ seed: 2, rounds: 2, mode: 'gossip', name: 'ring, alpha=0.1 (seed 2)', eval: { every: 1 }, data: { partition: { kind: 'dirichlet', alpha: 0.1 } }, topology: { name: 'ring', peers: 4 } });
    expect(s.cells[0].config.mode).toBe('federated');
    expect(s.metrics).toEqual(['mergedAccuracy', 'localAccuracyMean', 'bytesSent']);
  });

  it('a setting may bring its own base file', () => {
    const s = loadSweepFile(file('own.yaml', 'seeds: [5]\nsettings:\n  - { name: a, base: base.yaml }\n  - { name: b, base: fed.yaml }\n'));
    expect(s.cells.map((c) => [c.id, c.config.mode, c.config.rounds, c.seed])).toEqual([
      ['a/seed-5', 'gossip', 3, 5],
      ['b/seed-5', 'federated', 2, 5],
    ]);
  });

  it('refuses a bad sweep or a bad cell with the setting and seed named', () => {
    expect(() => loadSweepFile(file('e.yaml', ''))).toThrow(/the sweep file is empty/);
    expect(() => loadSweepFile(file('n.yaml', 'base: base.yaml\n'))).toThrow(/invalid sweep — seeds: /);
    expect(() => loadSweepFile(file('u.yaml', 'base: base.yaml\nseeds: [1]\ngrdi: {}\n'))).toThrow(/Unrecognized key/);
    expect(() => loadSweepFile(file('nb.yaml', 'seeds: [1]\ngrid: { rounds: [1, 2] }\n'))).toThrow(/no base config/);
    expect(() => loadSweepFile(file('m.yaml', 'base: base.yaml\nseeds: [1]\nmetrics: [accuracy]\n'))).toThrow(/metrics: 'accuracy' is not a metric/);
    expect(() => loadSweepFile(file('d.yaml', 'base: base.yaml\nseeds: [1]\nsettings: [{ name: a b }, { name: a_b }]\n'))).toThrow(/two settings share the folder name 'a_b'/);
    expect(() => loadSweepFile(file('c.yaml', 'base: base.yaml\nseeds: [1, 2]\ngrid: { training.batchSize: [8, -1] }\n'))).toThrow(
      /setting 'batchSize=-1', seed 1: invalid configuration — training\.batchSize: /,
    );
    expect(() => loadSweepFile(file('t.yaml', 'base: base.yaml\nseeds: [1]\nsettings: [{ name: f, set: { mode: federated, topology.name: ring } }]\n'))).toThrow(/topology is set but mode is federated/);
    expect(() => loadSweepFile(join(root, 'absent.yaml'))).toThrow(/cannot read sweep file .*absent\.yaml: ENOENT/);
  });

  it('slug keeps folder names to letters, digits, dot, dash and underscore', () => {
    expect(slug('FedAvg, alpha=0.1')).toBe('fedavg_alpha-0.1');
    expect(slug('pull r=0.2 (even) + final merge')).toBe('pull_r-0.2_even_final_merge');
  });
});
