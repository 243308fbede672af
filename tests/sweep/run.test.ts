// A sweep end to end: real `gossipfl simulate` processes, two at a time, into one folder per
// cell; the combined numbers against the cells' own files; skipping finished cells, rerunning
// a half-finished one, refusing a changed sweep, and a failed cell reported without stopping.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSweepFile } from '../../src/sweep/spec.js';
import { aggregateSweep, cellDir, firstDifference, isFinished, runSweep } from '../../src/sweep/run.js';
import { writeSweepReport } from '../../src/sweep/report.js';
import { partialDirOf } from '../../src/report/run-dir.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-sweeprun-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const CLI = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];

writeFileSync(
  join(root, 'base.yaml'),
  'peers: 3\nrounds: 2\nbackend: cpu\nmodel: { kind: logreg }\ndata: { dataset: synthetic, train: 240, test: 60, features: 8, classes: 3 }\nschedule: { localSteps: 2 }\ntraining: { batchSize: 8, optimizer: { kind: sgd, lr: 0.1 } }\neval: { every: 1 }\n',
);
const sweepFile = join(root, 'sweep.yaml');
writeFileSync(sweepFile, 'name: t\nbase: base.yaml\nseeds: [1, 2]\ngrid:\n  training.optimizer.lr: [0.05, 0.5]\nmetrics: [mergedAccuracy, trainLoss]\n');
const out = join(root, 'out');

describe('gossipfl sweep', () => {
  const sweep = loadSweepFile(sweepFile);

  it('runs every cell in its own folder and aggregates them over seeds', async () => {
    const events: string[] = [];
    const outcomes = await runSweep(sweep, { out, workers: 2, cli: CLI, onEvent: (e) => events.push(`${e.kind} ${e.cell.id}`) });
    expect(outcomes.map((o) => [o.cell.id, o.status, o.error])).toEqual([
      ['lr-0.05/seed-1', 'done', undefined],
      ['lr-0.05/seed-2', 'done', undefined],
      ['lr-0.5/seed-1', 'done', undefined],
      ['lr-0.5/seed-2', 'done', undefined],
    ]);
    expect(events.filter((e) => e.startsWith('round'))).toHaveLength(8); // 2 rounds × 4 cells
    for (const cell of sweep.cells) {
      const config = JSON.parse(readFileSync(join(cellDir(out, cell), 'config.json'), 'utf8'));
      expect(config).toMatchObject({ seed: cell.seed, training: { optimizer: { lr: cell.config.training.optimizer.lr } } });
    }
    const combined = aggregateSweep(sweep, out);
    expect(combined.missing).toEqual([]);
    const accuracy = (id: string) => JSON.parse(readFileSync(join(out, id, 'summary.json'), 'utf8')).mergedAccuracy as number;
    const [a, b] = [accuracy('lr-0.5/seed-1'), accuracy('lr-0.5/seed-2')];
    const s = combined.settings.find((x) => x.id === 'lr-0.5')!;
    expect(s.name).toBe('lr=0.5');
    expect(s.metrics.mergedAccuracy.values).toEqual([a, b]);
    expect(s.metrics.mergedAccuracy.mean).toBeCloseTo((a + b) / 2, 15);
    expect(s.metrics.mergedAccuracy.std).toBeCloseTo(Math.abs(a - b) / Math.SQRT2, 15);
    expect(combined.bands.mergedAccuracy['lr-0.5'].map((p) => [p.round, p.n])).toEqual([[1, 2], [2, 2]]);

    const files = await writeSweepReport(out, { name: sweep.name, ...combined }, sweep.metrics);
    expect(files.map((f) => f.slice(out.length + 1))).toEqual(['summary.md', 'summary.csv', 'summary.json', 'band-mergedAccuracy.png', 'band-localAccuracyMean.png', 'band-trainLoss.png', 'report.html']);
    const md = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(md).toContain(`| lr=0.5 | 2 | ${(s.metrics.mergedAccuracy.mean! * 100).toFixed(2)}% ± ${(s.metrics.mergedAccuracy.std! * 100).toFixed(2)} pts |`);
    const csv = readFileSync(join(out, 'summary.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('setting,id,seeds,mergedAccuracy_mean,mergedAccuracy_std,mergedAccuracy_ci95,mergedAccuracy_n,trainLoss_mean,trainLoss_std,trainLoss_ci95,trainLoss_n');
    expect(csv[2].split(',').slice(0, 7)).toEqual(['lr=0.5', 'lr-0.5', '1 2', String(s.metrics.mergedAccuracy.mean), String(s.metrics.mergedAccuracy.std), String(s.metrics.mergedAccuracy.ci95), '2']);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<svg');
  });

  it('skips finished cells, reruns a half-finished one, and refuses a changed sweep', async () => {
    const again = await runSweep(sweep, { out, workers: 2, cli: CLI });
    expect(again.map((o) => o.status)).toEqual(['skipped', 'skipped', 'skipped', 'skipped']);
    // A killed run: no summary.json, a stale partial folder.
    const victim = sweep.cells[1];
    rmSync(cellDir(out, victim), { recursive: true });
    mkdirSync(partialDirOf(cellDir(out, victim)));
    expect(aggregateSweep(sweep, out).missing).toEqual([`lr=0.05, seed 2 (${cellDir(out, victim)})`]);
    const resumed = await runSweep(sweep, { out, workers: 2, cli: CLI });
    expect(resumed.map((o) => o.status)).toEqual(['skipped', 'done', 'skipped', 'skipped']);
    expect(existsSync(join(cellDir(out, victim), 'summary.json'))).toBe(true);
    expect(existsSync(partialDirOf(cellDir(out, victim)))).toBe(false);
    const changed = loadSweepFile(sweepFile, ['rounds=3']);
    expect(() => isFinished(out, changed.cells[0])).toThrow(/holds a finished run of a different config \(rounds: 2 then, 3 now\)/);
    await expect(runSweep(changed, { out, workers: 1, cli: CLI })).rejects.toThrow(/different config/);
  });

  it('a cell that fails is reported with its error; the others still run', async () => {
    const file = join(root, 'fail.yaml');
    writeFileSync(file, 'base: base.yaml\nseeds: [1]\nsettings:\n  - { name: ok }\n  - { name: too-big, set: { training.batchSize: 1000 } }\n');
    const s = loadSweepFile(file);
    const outcomes = await runSweep(s, { out: join(root, 'fail-out'), workers: 2, cli: CLI });
    expect(outcomes.map((o) => o.status)).toEqual(['done', 'failed']);
    expect(outcomes[1].error).toMatch(/training.batchSize/);
    expect(readFileSync(`${cellDir(join(root, 'fail-out'), s.cells[1])}.log`, 'utf8')).toMatch(/gossipfl: .*training.batchSize/);
  });

  it('firstDifference names the first differing key path', () => {
    expect(firstDifference({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 2] } })).toBeNull();
    expect(firstDifference({ a: 1, b: { c: [1, 2] } }, { a: 1, b: { c: [1, 3] } })).toBe('b.c.1: 2 then, 3 now');
    expect(firstDifference({ a: 1 }, { a: 1, d: true })).toBe('d: undefined then, true now');
  });
});
