// Progress off a terminal: `simulate` with stderr piped (as in CI or `2> log`) writes a plain
// line now and then (round, accuracy, eta) where a terminal gets a bar; --quiet writes none.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { formatSeconds, startProgress } from '../../src/cli/progress.js';

const CLI = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];
const root = mkdtempSync(join(tmpdir(), 'gossipfl-progress-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const config = join(root, 'tiny.yaml');
writeFileSync(
  config,
  `name: tiny
seed: 1
peers: 3
rounds: 20
backend: cpu
data: { dataset: synthetic, train: 120, test: 30, features: 4, classes: 2, partition: { kind: iid } }
model: { kind: logreg }
training: { batchSize: 8, optimizer: { kind: sgd, lr: 0.2 } }
topology: { name: ring }
schedule: { localSteps: 1 }
eval: { every: 1 }
`,
);

async function simulatePiped(extra: string[]): Promise<{ out: string; err: string }> {
  const [cmd, ...prefix] = CLI;
  const { stdout, stderr } = await promisify(execFile)(cmd, [...prefix, 'simulate', config, '--out', join(root, `run-${extra.length}`), '--no-report', ...extra]);
  return { out: stdout, err: stderr };
}

const LINE = /^simulate: round (\d+)\/20 \((\d+)%\), merged (?:\d+\.\d%|-) local (?:\d+\.\d%|-)(?:, eta \d+ s)?$/;

describe('progress without a terminal', () => {
  it('simulate with stderr piped logs a line per 10% of the rounds: round, accuracy and eta', async () => {
    const { out, err } = await simulatePiped([]);
    expect(out).toContain('tiny: 3 peers, 20 rounds');
    const lines = err.split('\n').filter((l) => l.startsWith('simulate: round'));
    expect(lines.length, err).toBeGreaterThan(0);
    for (const l of lines) expect(l, err).toMatch(LINE);
    // 20 rounds: a line each 2 rounds (10%), the last one without an eta.
    expect(lines.map((l) => Number(LINE.exec(l)![1]))).toEqual([2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
    expect(lines.slice(0, -1).every((l) => /, eta \d+ s$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^simulate: round 20\/20 \(100%\), merged \d+\.\d% local \d+\.\d%$/);
  }, 60_000);

  it('--quiet logs no progress line', async () => {
    const { out, err } = await simulatePiped(['--quiet']);
    expect(out).toContain('tiny: 3 peers, 20 rounds');
    expect(err).not.toMatch(/simulate: round/);
  }, 60_000);

  it('logs after 30 s even when less than 10% more is done, and never twice for one step', () => {
    const lines: string[] = [];
    let now = 0;
    const p = startProgress(1000, 'train', { unit: 'epoch', write: (l) => lines.push(l), now: () => now });
    now = 1_000;
    p.update(1, { loss: '0.5' });
    expect(lines).toEqual([]);
    now = 31_000;
    p.update(2, { loss: '0.4' });
    expect(lines).toEqual(['train: epoch 2/1000 (0%), loss 0.4, eta 4 h 17 min']);
    now = 62_000;
    p.update(2);
    expect(lines).toHaveLength(1);
    p.update(102);
    expect(lines.at(-1)).toBe('train: epoch 102/1000 (10%), eta 9 min 06 s');
    p.update(1000);
    expect(lines.at(-1)).toBe('train: epoch 1000/1000 (100%)');
  });

  it('formats seconds, minutes and hours', () => {
    expect([formatSeconds(7.4), formatSeconds(125), formatSeconds(3780)]).toEqual(['7 s', '2 min 05 s', '1 h 03 min']);
  });
});
