// The studies under simulations/: their helpers (exact), and each study's --quick variant run
// end to end into a temporary folder, so CI notices when a config or a script stops working.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfig } from '../src/peer/config.js';
import { loadSweepFile } from '../src/sweep/spec.js';
import type { RoundMetrics } from '../src/report/index.js';
import { totalBudget } from '../src/schedule/budget.js';
import { InputError } from '../src/util/errors.js';
import { QUICK, parseStudyArgs, quickVariant } from '../simulations/lib/study.js';
import { bytesBeforeLastRound, markdownTable, pct, points, roundsToReach } from '../simulations/lib/results.js';
import { runHeterogeneity } from '../simulations/heterogeneity/run.js';
import { runMerging } from '../simulations/merging/run.js';
import { runVca } from '../simulations/vca/run.js';
import { measuredMessageBytes, runCompression } from '../simulations/compression/run.js';
import { isGroupMethod } from '../src/compression/index.js';

const roots: string[] = [];
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'gossipfl-study-'));
  roots.push(dir);
  return dir;
}
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

const quiet = () => {};

function round(r: number, merged: number | null, local: number | null = merged, bytesSentTotal = 0): RoundMetrics {
  return {
    round: r,
    activePeers: 4,
    localAccuracyMean: local,
    localAccuracyStd: null,
    localAccuracyMin: null,
    localAccuracyMax: null,
    mergedAccuracy: merged,
    mergedLoss: null,
    trainLoss: 1,
    consensusDistance: 0,
    bytesSent: 0,
    bytesReceived: 0,
    bytesSentTotal,
    globalMerge: false,
    simSeconds: 0,
    wallSeconds: 0,
  };
}

describe('study helpers', () => {
  it('roundsToReach returns the first evaluated round at or above the threshold, skipping unevaluated rounds', () => {
    const m = [round(1, 0.5, 0.4), round(2, null, null), round(3, 0.8, 0.79), round(4, 0.85, 0.81)];
    expect(roundsToReach(m, 'mergedAccuracy', 0.8)).toBe(3);
    expect(roundsToReach(m, 'localAccuracyMean', 0.8)).toBe(4);
    expect(roundsToReach(m, 'mergedAccuracy', 0.9)).toBeNull();
  });

  it('bytesBeforeLastRound is the running total one round before the end', () => {
    expect(bytesBeforeLastRound([round(1, 0, 0, 10), round(2, 0, 0, 25), round(3, 0, 0, 70)])).toBe(25);
    expect(bytesBeforeLastRound([round(1, 0, 0, 10)])).toBe(0);
  });

  it('formats accuracies, point differences and tables exactly', () => {
    expect(pct(0.91234, 2)).toBe('91.23%');
    expect(pct(null)).toBe('n/a');
    expect(points(0.281)).toBe('+28.1 pts');
    expect(points(-0.05)).toBe('−5.0 pts');
    expect(markdownTable(['a', 'b|c'], [[1, 'x|y']])).toBe('| a | b\\|c |\n|---|---|\n| 1 | x\\|y |');
    expect(() => markdownTable(['a', 'b'], [[1]])).toThrow(RangeError);
  });

  it('parseStudyArgs knows --quick and refuses anything else', () => {
    expect(parseStudyArgs([])).toEqual({ quick: false });
    expect(parseStudyArgs(['--quick'])).toEqual({ quick: true });
    expect(() => parseStudyArgs(['--rounds', '3'])).toThrow(InputError);
  });

  it('quickVariant shrinks size and length only; mode, partition, topology, rules, budget and merges stay', () => {
    const full = loadConfigFile('simulations/merging/pull-late.yaml');
    const q = quickVariant(full);
    expect(q.peers).toBe(QUICK.peers);
    expect(q.topology.peers).toBe(QUICK.peers);
    expect(q.rounds).toBe(QUICK.rounds);
    expect(q.schedule).toEqual({ ...full.schedule, localSteps: QUICK.localSteps });
    expect(q.data).toEqual({ ...full.data, train: QUICK.train, test: QUICK.test });
    expect(q.eval).toEqual({ every: 1, testSamples: QUICK.test });
    expect({ ...q, peers: 0, rounds: 0, name: '', data: 0, schedule: 0, eval: 0, topology: { ...q.topology, peers: 0 } }).toEqual({
      ...full,
      peers: 0,
      rounds: 0,
      name: '',
      data: 0,
      schedule: 0,
      eval: 0,
      topology: { ...full.topology, peers: 0 },
    });
    // Local steps are never raised above the config's.
    expect(quickVariant(parseConfig({ schedule: { localSteps: 1 } })).schedule.localSteps).toBe(1);
  });

  it('every committed study config is valid', () => {
    for (const study of ['heterogeneity', 'merging', 'vca', 'compression']) {
      const files = readdirSync(join('simulations', study)).filter((f) => f.endsWith('.yaml'));
      // Run configs, and the study's sweep (a base config, settings and seeds), each valid as what it is.
      const sweeps = files.filter((f) => f.startsWith('sweep'));
      expect(files.length).toBeGreaterThan(sweeps.length);
      for (const f of files.filter((f) => !sweeps.includes(f))) expect(() => loadConfigFile(join('simulations', study, f))).not.toThrow();
      for (const f of sweeps) expect(() => loadSweepFile(join('simulations', study, f))).not.toThrow();
    }
  });
});

function expectRunDirs(root: string, ids: Iterable<string>): void {
  for (const id of ids) {
    const lines = readFileSync(join(root, id, 'metrics.jsonl'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(QUICK.rounds);
    expect(existsSync(join(root, id, 'summary.json'))).toBe(true);
  }
  expect(existsSync(join(root, 'report.html'))).toBe(true);
}

describe('studies, --quick', () => {
  it('heterogeneity: 8 runs, the two FedAvg targets and the two skew observations judged from the runs', async () => {
    const root = scratch();
    const out = await runHeterogeneity({ quick: true, outRoot: root, log: quiet });
    expectRunDirs(root, out.runs.keys());
    expect(out.runs.size).toBe(8);
    expect(out.verdicts.map((v) => v.holds === null)).toEqual([false, false, false, false]);
    const iid = out.runs.get('fedavg-iid')!;
    const acc = iid.metrics[iid.metrics.length - 1].mergedAccuracy!;
    expect(out.verdicts[0].holds).toBe(acc >= 0.9);
    expect(out.verdicts[0].evidence).toContain(pct(acc, 2));
    const results = readFileSync(out.resultsFile, 'utf8');
    expect(out.resultsFile).toBe(join(root, 'RESULTS.md'));
    expect(results).toContain('Smoke run');
    expect(results).toContain('| fedavg-alpha-0.05 | FedAvg | 0.05 |');
  });

  it('merging: late and early spend exactly the even budget; the merge lift is read from the run', async () => {
    const root = scratch();
    const out = await runMerging({ quick: true, outRoot: root, log: quiet });
    expectRunDirs(root, out.runs.keys());
    const total = (id: string) => totalBudget(out.configs.get(id)!.schedule.budget!, QUICK.rounds);
    expect(total('pull-even')).toBeCloseTo(QUICK.rounds * 0.2, 12);
    expect(total('pull-late')).toBeCloseTo(total('pull-even'), 12);
    expect(total('pull-early')).toBeCloseTo(total('pull-even'), 12);
    const even = out.runs.get('pull-even-seed1')!;
    const pre = even.summary.preMergeLocalAccuracyMean!;
    const merged = even.metrics[even.metrics.length - 1].mergedAccuracy!;
    expect(even.metrics[even.metrics.length - 1].globalMerge).toBe(true);
    expect(out.verdicts[0].holds).toBe(merged - pre >= 0.2);
    expect(out.verdicts[0].evidence).toContain(points(merged - pre));
  });

  it('vca: rounds to the threshold in RESULTS.md come from the metrics', async () => {
    const root = scratch();
    const out = await runVca({ quick: true, outRoot: root, log: quiet });
    expectRunDirs(root, out.runs.keys());
    expect([...out.runs.keys()]).toEqual(['gossip-seed1', 'vca-seed1']);
    for (const run of out.runs.values()) expect(run.metrics.every((m) => m.mergedAccuracy !== null)).toBe(true);
    expect(out.verdicts).toHaveLength(1);
    expect(readFileSync(out.resultsFile, 'utf8')).toContain('| gossip | 1 |');
  });

  it('compression: every compressed message is sized to sign\'s, and the run\'s byte counter agrees with the calibration', async () => {
    const root = scratch();
    const out = await runCompression({ quick: true, outRoot: root, log: quiet });
    expectRunDirs(root, out.runs.keys());
    const target = out.messageBytes.get('sign')!;
    for (const [id, bytes] of out.messageBytes) {
      if (id === 'identity') continue;
      expect(Math.abs(bytes - target) / target).toBeLessThan(0.1);
      const c = out.configs.get(id)!;
      const measured = measuredMessageBytes(out.runs.get(id)!, QUICK.peers, out.messageBytes.get('identity')!, isGroupMethod(c.compression.method));
      // Sparse indices are varint deltas, so real updates code a little differently from the calibration's.
      expect(Math.abs(measured - bytes) / bytes).toBeLessThan(0.05);
    }
    expect(readFileSync(out.resultsFile, 'utf8')).toContain('| sign | sign + ef14 |');
  });
});
