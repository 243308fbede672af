// RESULTS.md from a sweep brought back as an archive: the seed statistics (exact), and the VCA
// study's sweep run for real (tiny overrides, in process), archived like the sweep driver does,
// read back and written out, with the table's numbers checked against the runs' own files.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSweepFile } from '../../src/sweep/spec.js';
import { cellDir } from '../../src/sweep/run.js';
import { runAndReport } from '../../src/cli/commands/simulate.js';
import { readRun } from '../../src/report/index.js';
import { alignSeeds, paired, pairedText, pctStat, ptsStat, numStat } from '../../simulations/lib/seed-stats.js';
import { resultsFromSweeps } from '../../simulations/lib/results-from-sweep.js';
import { RUN_INFO_FILE, type RunInfo } from '../../simulations/lib/sweep-runs.js';
import { lastEvaluated } from '../../simulations/lib/results.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-from-sweep-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('seed statistics', () => {
  it('formats mean ± sample std in points', () => {
    expect(pctStat([0.8, 0.9, 0.85])).toBe('85.0% ± 5.0 pts');
    expect(pctStat([0.9])).toBe('90.0%');
    expect(ptsStat([0.29, 0.31])).toBe('+30.0 ± 1.4 pts');
    expect(ptsStat([-0.02])).toBe('−2.0 pts');
    expect(numStat([11, 13, 15])).toBe('13.0 ± 2.0');
  });

  it('compares two settings paired by seed, with a t interval', () => {
    const p = paired([0.8, 0.9, 0.85], [0.7, 0.8, 0.9]);
    // differences 0.1, 0.1, −0.05: mean 0.05, std √0.0075, half-width 4.303·std/√3
    expect(p.diff).toBeCloseTo(0.05, 12);
    expect(p.std).toBeCloseTo(Math.sqrt(0.0075), 12);
    expect(p.low).toBeCloseTo(0.05 - (4.303 * Math.sqrt(0.0075)) / Math.sqrt(3), 12);
    expect(p.wins).toBe(2);
    expect(p.clear).toBe(false);
    expect(paired([0.9, 0.91, 0.92], [0.8, 0.8, 0.8]).clear).toBe(true);
    expect(() => paired([0.1], [])).toThrow(RangeError);
  });

  it('pairs only the seeds both settings finished', () => {
    expect(alignSeeds({ seeds: [1, 2, 3], values: [0.1, 0.2, 0.3] }, { seeds: [3, 1], values: [0.6, 0.4] })).toEqual([
      [0.1, 0.3],
      [0.4, 0.6],
    ]);
    expect(pairedText('a', { seeds: [1], values: [0.5] }, 'b', { seeds: [1], values: [0.4] })).toBe('a − b = +10.0 ± 0.0 pts over seeds; a ahead on 1 of 1 seed: one seed, so no noise estimate');
  });
});

describe('results-from-sweep on a real sweep', () => {
  const overrides = ['backend=wasm', 'rounds=2', 'peers=4', 'data.train=400', 'data.test=100', 'schedule.localSteps=1', 'eval.every=1'];
  const sweepDir = join(root, 'host', 'vca');

  it('writes the VCA study from the archive, with the runs’ own numbers', async () => {
    const sweep = loadSweepFile('simulations/vca/sweep.yaml', overrides);
    for (const cell of sweep.cells) await runAndReport(cell.config, { out: cellDir(sweepDir, cell), overwrite: true, quiet: true, report: false });
    const info: RunInfo = {
      sweep: 'vca', sweepFile: 'simulations/vca/sweep.yaml', workers: 16, overrides, exitCode: 0, stoppedAtDeadline: false,
      startedAt: '2026-12-03T10:00:00Z', wallSeconds: 95, cores: 16, cpuModel: 'Test CPU', memoryGiB: 128, node: 'v20.20.2', platform: 'linux x64',
    };
    writeFileSync(join(sweepDir, RUN_INFO_FILE), JSON.stringify(info));
    const back = join(root, 'back');
    execFileSync('mkdir', ['-p', back]);
    execFileSync('tar', ['-czf', join(back, 'vca.tar.gz'), '-C', join(root, 'host'), 'vca']);

    // A smoke check must not overwrite the committed RESULTS.md.
    await expect(resultsFromSweeps({ from: back, runs: join(root, 'runs'), log: () => {} })).rejects.toThrow(/smoke check; write its RESULTS.md elsewhere with --to/);

    const [file] = await resultsFromSweeps({ from: back, to: join(root, 'results'), runs: join(root, 'runs'), log: () => {} });
    const md = readFileSync(file, 'utf8');
    expect(md).toContain('> **Smoke check with --set rounds=2, peers=4, data.train=400, data.test=100, schedule.localSteps=1, eval.every=1');
    expect(md).toContain('- Machine: 16-core CPU (Test CPU), 128 GiB, 16 runs at a time; Node v20.20.2; tfjs wasm backend');
    expect(md).toContain('- Wall time of the whole study: 1 min 35 s');
    const merged = (setting: string) =>
      sweep.cells.filter((c) => c.settingId === setting).map((c) => lastEvaluated(readRun(cellDir(sweepDir, c)).metrics).mergedAccuracy as number);
    expect(md).toContain(`| gossip | 3 | not within 2, not within 2, not within 2 | not within 2, not within 2, not within 2 | ${pctStat(merged('gossip'))} |`);
    expect(md).toContain(`| vca | 3 |`);
    expect(md).toContain(pctStat(merged('vca')));
    expect(md).toContain('**Gossip with VCA reaches 80% merged accuracy in fewer rounds than plain averaging from independent initialisations** — does not hold here.');
    // The combined sweep report is rewritten beside the unpacked runs.
    expect(readFileSync(join(root, 'runs', 'vca', 'summary.md'), 'utf8')).toContain('| gossip | 3 |');
  }, 120_000);

  it('refuses an archive of a sweep whose file changed since', async () => {
    const other = join(root, 'changed');
    execFileSync('cp', ['-r', join(root, 'host'), other]);
    const info = JSON.parse(readFileSync(join(other, 'vca', RUN_INFO_FILE), 'utf8')) as RunInfo;
    writeFileSync(join(other, 'vca', RUN_INFO_FILE), JSON.stringify({ ...info, overrides: [...info.overrides.filter((o) => o !== 'rounds=2'), 'rounds=3'] }));
    await expect(resultsFromSweeps({ from: other, to: join(root, 'results2'), runs: join(root, 'runs2'), log: () => {} })).rejects.toThrow(/different config \(rounds: 2 in the run, 3 in the sweep\)/);
  });
});
