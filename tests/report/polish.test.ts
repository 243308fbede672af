import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { configDifferences, flattenConfig } from '../../src/report/differences.js';
import { buildPlots } from '../../src/report/plots.js';
import { readRun } from '../../src/report/read-run.js';
import { distinctPartitions, epsilonRows, perPeerAccuracyRows, type NamedRun } from '../../src/report/series.js';
import { writeReport } from '../../src/report/write-report.js';
import { syntheticMetrics, syntheticPartition, writeSyntheticRun } from './fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-report-polish-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('how overlaid runs differ', () => {
  it('lists only the keys whose values differ, the telling ones first', () => {
    const diff = configDifferences([
      { name: 'a', config: { seed: 1, mode: 'gossip', data: { partition: { kind: 'dirichlet', alpha: 0.1 } }, compression: { method: 'top-k', ratio: 0.1 }, eval: { every: 5 } } },
      { name: 'b', config: { seed: 1, mode: 'federated', data: { partition: { kind: 'dirichlet', alpha: 0.5 } }, compression: { method: 'identity' }, eval: { every: 5 } } },
      { name: 'no-config' },
    ]);
    expect(diff.keys).toEqual(['mode', 'data.partition.alpha', 'compression.method', 'compression.ratio']);
    expect(diff.rows).toEqual([
      { run: 'a', values: ['gossip', '0.1', 'top-k', '0.1'] },
      { run: 'b', values: ['federated', '0.5', 'identity', '—'] },
    ]);
    expect(configDifferences([{ name: 'only', config: { mode: 'gossip' } }]).keys).toEqual([]);
    expect([...flattenConfig({ topology: { name: 'ring' }, hidden: [128, 64] })]).toEqual([['topology.name', 'ring'], ['hidden', '[128,64]']]);
  });
});

describe('series for per-peer curves, privacy and partitions', () => {
  it('turns perPeer records into one row per evaluated (peer, round), capped per run', () => {
    const metrics = syntheticMetrics({ rounds: 4, peers: 3, seed: 1, perPeer: true, evalEvery: 2 });
    const run: NamedRun = { name: 'r', metrics, partition: null };
    const rows = perPeerAccuracyRows([run]);
    expect(rows.map((r) => [r.round, r.peer])).toEqual([[2, 0], [2, 1], [2, 2], [4, 0], [4, 1], [4, 2]]);
    expect(rows[0].accuracy).toBe(metrics[1].perPeer!.accuracy[0]);
    expect(new Set(perPeerAccuracyRows([run], 2).map((r) => r.peer))).toEqual(new Set([0, 1]));
  });

  it('takes each run\'s last ε with its final accuracies', () => {
    const metrics = syntheticMetrics({ rounds: 9, peers: 2, seed: 1, epsilon: 3 });
    const rows = epsilonRows([{ name: 'dp', metrics, partition: null }, { name: 'plain', metrics: syntheticMetrics({ rounds: 3, peers: 2, seed: 2 }), partition: null }]);
    expect(rows.map((r) => [r.run, r.series, r.epsilon])).toEqual([['dp', 'local mean', 3], ['dp', 'merged', 3]]);
    expect(rows[1].accuracy).toBe(metrics[8].mergedAccuracy);
  });

  it('groups runs with the same partition', () => {
    const p = syntheticPartition(4, 10, 7);
    const runs: NamedRun[] = [
      { name: 'a', metrics: [], partition: p },
      { name: 'b', metrics: [], partition: syntheticPartition(4, 10, 8) },
      { name: 'c', metrics: [], partition: structuredClone(p) },
      { name: 'd', metrics: [], partition: null },
    ];
    expect(distinctPartitions(runs).map((g) => g.names)).toEqual([['a', 'c'], ['b']]);
  });
});

describe('report polish end to end', () => {
  it('draws per-peer lines, an ε plot, one histogram per partition, and a table of differences', async () => {
    const dp = join(root, 'dp-sigma-1');
    const plain = join(root, 'no-dp-with-a-long-run-name-that-must-not-be-cut');
    const third = join(root, 'other-split');
    writeSyntheticRun(dp, { rounds: 10, peers: 5, seed: 1, perPeer: true, epsilon: 4, partitionSeed: 9, config: { privacy: { mode: 'central', noiseMultiplier: 1 } } });
    writeSyntheticRun(plain, { rounds: 10, peers: 5, seed: 2, perPeer: true, epsilon: 40, partitionSeed: 9 });
    writeSyntheticRun(third, { rounds: 10, peers: 5, seed: 3, partitionSeed: 10 });
    const out = join(root, 'out', 'cmp.html');
    const result = await writeReport([dp, plain, third], out);
    expect(result.pngs.map((p) => p.slice(join(root, 'out').length + 1))).toEqual([
      'cmp-accuracy.png', 'cmp-accuracy-vs-bytes.png', 'cmp-accuracy-vs-epsilon.png', 'cmp-consensus.png', 'cmp-loss.png', 'cmp-label-histograms.png',
    ]);
    const html = readFileSync(out, 'utf8');
    const figure = (id: string) => html.slice(html.indexOf(`<figure id="${id}"`), html.indexOf('</figure>', html.indexOf(`<figure id="${id}"`)));
    // Per-peer lines: the accuracy plot carries the note, and the per-peer data made it through the reader.
    expect(figure('accuracy')).toContain('faint lines: each peer');
    expect(readRun(dp).metrics[0].perPeer?.accuracy).toHaveLength(5);
    // The whole run name is in the legend, not an ellipsis.
    expect(figure('accuracy')).toContain('no-dp-with-a-long-run-name-that-must-not-be-cut');
    expect(figure('accuracy')).not.toContain('…');
    expect(figure('accuracy-vs-epsilon')).toContain('δ = 0.00001');
    // Two distinct partitions: two bar charts, the shared one titled with both runs.
    const histograms = figure('label-histograms');
    expect(histograms).toContain('dp-sigma-1, no-dp-with-a-long-run-name-that-must-not-be-cut');
    expect(histograms).toContain('other-split');
    // Consensus ticks as plain decimals where short (no "1e-2").
    expect(figure('consensus')).not.toMatch(/>1e-[12]</);
    const table = html.slice(html.indexOf('<h2>How the runs differ</h2>'), html.indexOf('</table>', html.indexOf('<h2>How the runs differ</h2>')));
    expect(table).toContain('<th>seed</th>');
    expect(table).toContain('<th>privacy.mode</th>');
    expect(table).toContain('<td class="text">central</td>');
  });

  it('gives specs that compile for runs with per-peer records and ε', () => {
    const runs: NamedRun[] = [{ name: 'x', metrics: syntheticMetrics({ rounds: 6, peers: 3, seed: 1, perPeer: true, epsilon: 2 }), partition: null }];
    const plots = buildPlots(runs);
    expect(plots.map((p) => p.id)).toEqual(['accuracy', 'accuracy-vs-bytes', 'accuracy-vs-epsilon', 'consensus', 'loss']);
    for (const p of plots) expect(() => compile(p.spec)).not.toThrow();
  });
});
