// The bad-input battery: configs a new user gets wrong. Each must give one error line that
// names the key, exit code 2, and leave nothing in --out (checked before the run directory
// is created, or the staged run directory is dropped). Runs the CLI's own entry in-process;
// one case also runs as a real process, for the exit status the shell sees.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { cli } from './run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'gossipfl-bad-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

const BASE = 'peers: 4\nrounds: 2\nbackend: cpu\nschedule: { localSteps: 1 }\n';
const SMALL = 'data: { dataset: mnist, train: 400, test: 100 }\n';

function file(name: string, text: string): string {
  const path = join(root, name);
  writeFileSync(path, text);
  return path;
}

/** Nothing that looks like a run: no --out folder, no partial folder beside it. */
function expectNoRun(out: string): void {
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dirname(out)).filter((f) => f.includes('.partial'))).toEqual([]);
}

file('triangle.edges', '0 1\n1 2\n2 0\n');

const CASES: Array<[string, string, RegExp]> = [
  ['empty file', '', /the file is empty/],
  ['comments only', '# a config to be written\n', /the file is empty/],
  ['a list at the top level', '- peers: 4\n', /top level must be a mapping/],
  ['batch larger than every peer', BASE + SMALL + 'training: { batchSize: 100000 }\n', /training\.batchSize is 100000, larger than every peer's data \(the largest share is 100 samples/],
  ['missing edge-list file', BASE + SMALL + `topology: { name: edge-list, path: ${join(root, 'absent.edges')} }\n`, /topology: cannot read edge list .*absent\.edges/],
  ['train + test above the digits', BASE + 'data: { dataset: mnist, train: 9000, test: 2000 }\n', /data\.train \+ data\.test = 9000 \+ 2000 = 11000, more than the 10000/],
  ['fashion-mnist train above 60,000', BASE + 'data: { dataset: fashion-mnist, train: 70000 }\n', /data\.train: Too big/],
  ['lossy compressor with plain gossip', BASE + SMALL + 'compression: { method: top-k, ratio: 0.1 }\n', /compression: top-k .* set aggregation: \{ name: choco-gossip \}/],
  ['group compressor in gossip mode', BASE + SMALL + 'compression: { method: powersgd, rank: 2 }\n', /compression: powersgd needs the whole group .* mode: federated/],
  ['random-regular degree that cannot fit', BASE.replace('peers: 4', 'peers: 5') + SMALL + 'topology: { name: random-regular, degree: 3 }\n', /topology: random-regular: no 3-regular graph on 5 peers/],
  ['torus shape that does not divide', BASE.replace('peers: 4', 'peers: 6') + SMALL + 'topology: { name: torus, rows: 4 }\n', /topology: torus: rows=4 must .* divides peers=6/],
  ['too many shards', BASE + 'data: { dataset: mnist, train: 400, test: 100, partition: { kind: shards, shardsPerPeer: 200 } }\n', /data\.partition: shards: 4 peers × 200 shards = 800 shards, more than the 400 samples/],
  ['disconnected edge list', BASE + SMALL + `topology: { name: edge-list, path: ${join(root, 'triangle.edges')}, peers: 4 }\n`, /topology: the edge-list graph falls apart into 2 components \(\{0-2\}, \{3\}\).*allowDisconnected: true/],
  ['federated with a topology', BASE + SMALL + 'mode: federated\ntopology: { name: ring }\n', /topology is set but mode is federated/],
  ['modest.trainers above peers', BASE + SMALL + 'mode: modest\nmodest: { trainers: 10 }\n', /modest\.trainers is 10 but the run has peers: 4/],
  ['missing IDX folder', BASE + `data: { dataset: idx, folder: ${join(root, 'no-such-folder')} }\n`, /data: data folder .*no-such-folder does not exist/],
  ['missing CSV file', BASE + `data: { dataset: csv, train: ${join(root, 'a.csv')}, test: ${join(root, 'b.csv')} }\n`, /data: cannot read data file .*a\.csv/],
  ['unknown key', BASE + SMALL + 'trainig: { batchSize: 8 }\n', /\(top level\): Unrecognized key.*trainig/],
  ['CNN on vector data', BASE + 'data: { dataset: synthetic, train: 200, test: 50 }\nmodel: { kind: cnn }\n', /^gossipfl: model: /],
];

describe('simulate refuses bad input before the run starts', () => {
  it.each(CASES)('%s', async (name, text, message) => {
    const out = join(root, `out-${name.replace(/\W+/g, '-')}`);
    const { code, out: stdout, err } = await cli(['simulate', file(`${name.replace(/\W+/g, '-')}.yaml`, text), '--out', out, '--quiet', '--no-report']);
    expect(err).toMatch(message);
    expect(err.trim().split('\n')).toHaveLength(1);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expectNoRun(out);
  });

  it('a disconnected topology runs when the config says it is intended', async () => {
    const out = join(root, 'out-allowed');
    const text = BASE.replace('rounds: 2', 'rounds: 1') + SMALL + `allowDisconnected: true\ntopology: { name: edge-list, path: ${join(root, 'triangle.edges')}, peers: 4 }\n`;
    const { code, err } = await cli(['simulate', file('allowed.yaml', text), '--out', out, '--quiet', '--no-report']);
    expect(err).not.toMatch(/gossipfl:/);
    expect(code).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'metrics.jsonl', 'partition.json', 'summary.json']);
  });

  it('a run that fails after it started leaves neither --out nor its partial folder', async () => {
    // A learning rate that diverges is found only once training runs, after pre-flight.
    const out = join(root, 'out-failed-late');
    const { code, err } = await cli(['simulate', file('late.yaml', BASE + SMALL + 'training: { optimizer: { kind: sgd, lr: 1e30 } }\n'), '--out', out, '--quiet', '--no-report']);
    expect(err).toMatch(/round \d+: training diverged/);
    expect(code).toBe(2);
    expectNoRun(out);
  });

  it('a bad --set names the override and the key', async () => {
    const ok = file('ok.yaml', BASE + SMALL);
    const out = join(root, 'out-set');
    for (const [set, message] of [
      ['training.batchSize=many', /with --set training\.batchSize=many: invalid configuration — training\.batchSize: Invalid input: expected number/],
      ['rounds', /--set rounds: expected key\.path=value/],
      ['peers.count=3', /--set peers\.count: peers is 4, not a section/],
      ['data.partition.alpha=0.1', /data\.partition\.alpha|data\.partition: /],
    ] as const) {
      const { code, err } = await cli(['simulate', ok, '--out', out, '--set', set, '--quiet', '--no-report']);
      expect(err).toMatch(message);
      expect(code).toBe(2);
      expectNoRun(out);
    }
  });

  it('exits with status 2 as a real process, printing one line', () => {
    const out = join(root, 'out-process');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', file('process.yaml', ''), '--out', out], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^gossipfl: .*process\.yaml: the file is empty/)]);
    expectNoRun(out);
  });
});

describe('cluster refuses bad input before any peer starts', () => {
  it('--peers other than the config\'s peers: one line naming both, exit 2, no peer folder', async () => {
    const cfg = file('cluster.yaml', BASE + SMALL);
    const out = join(root, 'out-cluster');
    const { code, out: stdout, err } = await cli(['cluster', '--config', cfg, '--peers', '3', '--out', out]);
    expect(err.trim().split('\n')).toEqual([expect.stringMatching(/--peers 3 but .*cluster\.yaml has peers: 4; make them equal or leave --peers out/)]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  });
});
