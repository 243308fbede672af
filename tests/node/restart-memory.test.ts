// Real peers stopped after a round and restarted from their checkpoints continue the run as if
// never stopped: with D² (whose step needs the previous model) and with PowerSGD all-reduce (error
// memory and warm start) every round after the restart is bit-identical to an uninterrupted run.
// The same restart from the same checkpoints written without their rule-state section (version
// 1, as before it was kept) gives other numbers.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type RunConfig, type RunConfigInput } from '../../src/peer/config.js';
import { runPeer } from '../../src/node/run-peer.js';
import type { RoundMetrics } from '../../src/report/metrics.js';
import { buildRun } from '../../src/peer/run.js';

const input: RunConfigInput = {
  name: 'restart-memory',
  seed: 21,
  peers: 2,
  rounds: 4,
  backend: 'cpu',
  mode: 'gossip',
  topology: { name: 'ring' },
  aggregation: { name: 'd2' },
  data: { dataset: 'synthetic', train: 400, test: 100, features: 12, classes: 3, partition: { kind: 'dirichlet', alpha: 0.3 } },
  model: { kind: 'mlp', hidden: [6] },
  training: { batchSize: 16, optimizer: { kind: 'sgd', lr: 0.1 } },
  schedule: { localSteps: 3 },
  eval: { every: 1 },
};
const d2 = parseConfig(input);

/** Two peers in this process over the memory transport, in folders `dirs`; `stopAfter`: both stop after that (1-based) round. */
async function pair(config: RunConfig, dirs: readonly string[], stopAfter?: number, logs: string[][] = [[], []]): Promise<RoundMetrics[][]> {
  let bootstrap: string | undefined;
  let ready!: () => void;
  const listening = new Promise<void>((resolve) => (ready = resolve));
  return await Promise.all(
    dirs.map(async (outDir, k) => {
      if (k > 0) await listening;
      const stop = new AbortController();
      const rounds: RoundMetrics[] = [];
      await runPeer({
        config,
        outDir,
        node: { memoryTransport: true, ...(bootstrap ? { bootstrap: [bootstrap] } : {}) },
        startGraceMs: 500,
        startTimeoutMs: 30_000,
        signal: stop.signal,
        log: (line) => logs[k].push(line),
        onListening: (_id, addrs) => {
          if (k === 0) {
            bootstrap = addrs[0];
            ready();
          }
        },
        onRound: (m) => {
          rounds.push(m);
          if (m.round === stopAfter) stop.abort();
        },
      });
      return rounds;
    }),
  );
}

/** The checkpoint file rewritten as version 1: the same header and floats, no rule-state section. */
function asVersion1(file: string, size: number): void {
  const bytes = readFileSync(file);
  const h = bytes.readUInt32LE(8);
  const header = JSON.parse(bytes.subarray(12, 12 + h).toString('utf8')) as { slots: number; state?: unknown };
  const floats = bytes.subarray(((12 + h + 3) & ~3), ((12 + h + 3) & ~3) + size * (1 + header.slots) * 4);
  delete header.state;
  const json = Buffer.from(JSON.stringify(header));
  const start = (12 + json.length + 3) & ~3;
  const out = Buffer.alloc(start + floats.length);
  out.write('GFCK', 0, 'latin1');
  out.writeUInt32LE(1, 4);
  out.writeUInt32LE(json.length, 8);
  json.copy(out, 12);
  floats.copy(out, start);
  writeFileSync(file, out);
}

const losses = (rounds: readonly RoundMetrics[]) => rounds.map((m) => [m.round, m.trainLoss, m.localAccuracyMean]);
/** Per-peer rows as a set: a peer's member index comes from its key, not from its folder. */
const sorted = (rs: RoundMetrics[][]) => rs.map(losses).map((r) => JSON.stringify(r)).sort();

/**
 * Stops both peers after round 2 in fresh folders and restarts them from their checkpoints
 * (`edit` may rewrite the files in between); returns the restarted rounds and logs. Both must
 * come back before either starts round 3: a peer that sees its partner already running joins
 * later as a newcomer (the membership's join margin), and then the runs cannot be compared, so
 * that case is tried again (at most 3 times); any other outcome is returned as it is.
 */
async function restartBoth(config: RunConfig, whole: RoundMetrics[][], dirs: string[], edit: (dir: string) => void = () => {}): Promise<{ rounds: RoundMetrics[][]; logs: string[][] }> {
  for (let attempt = 0; ; attempt++) {
    const here = [0, 1].map((k) => mkdtempSync(join(tmpdir(), `gossipfl-restart-${attempt}-${k}-`)));
    dirs.push(...here);
    const first = await pair(config, here, 2);
    expect(sorted(first)).toEqual(sorted(whole.map((r) => r.slice(0, 2))));
    here.forEach(edit);
    const logs: string[][] = [[], []];
    const rounds = await pair(config, here, undefined, logs);
    const together = rounds.every((r) => r.length > 0 && r[0].round === 3);
    if (together || attempt === 2) return { rounds, logs };
  }
}

/** Uninterrupted vs stopped after round 2 and restarted, with and without the rule state. */
async function stopAndRestart(config: RunConfig): Promise<void> {
  const dirs = [0, 1].map((k) => mkdtempSync(join(tmpdir(), `gossipfl-whole-${k}-`)));
  try {
    const whole = await pair(config, dirs.slice(0, 2));
    expect(whole.map((r) => r.length)).toEqual([4, 4]);
    const second = await restartBoth(config, whole, dirs);
    expect(second.rounds.map((r) => r.map((m) => m.round))).toEqual([[3, 4], [3, 4]]);
    expect(sorted(second.rounds)).toEqual(sorted(whole.map((r) => r.slice(2))));
    expect(second.logs.flat().filter((l) => l.includes('without rule state'))).toEqual([]);

    // The same stop, then the checkpoints without their rule state (D²: ψ_prev = x; PowerSGD: no error, no warm start).
    const size = (await buildRun(config)).model.layout.size;
    const old = await restartBoth(config, whole, dirs, (d) => asVersion1(join(d, 'checkpoint.bin'), size));
    expect(old.rounds.map((r) => r.map((m) => m.round))).toEqual([[3, 4], [3, 4]]);
    expect(sorted(old.rounds)).not.toEqual(sorted(whole.map((r) => r.slice(2))));
    // One line per peer says the old file had no rule state.
    expect(old.logs.map((l) => l.filter((x) => x.includes('without rule state (checkpoint version 1)')).length)).toEqual([1, 1]);
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

describe('a real peer restarted from its checkpoint keeps its rule state', () => {
  it('D² between 2 real peers: stopped after round 2 and restarted, rounds 3 and 4 equal the uninterrupted run bit for bit; without the rule state they differ', async () => {
    await stopAndRestart(d2);
  }, 180_000);

  it('PowerSGD all-reduce between 2 real peers: the same, through its error memory and warm start', async () => {
    await stopAndRestart(
      parseConfig({
        ...input,
        mode: 'all-reduce',
        topology: undefined,
        aggregation: undefined,
        compression: { method: 'powersgd', rank: 1 },
        data: { dataset: 'synthetic', train: 400, test: 100, features: 24, classes: 3, partition: { kind: 'dirichlet', alpha: 0.3 } },
        model: { kind: 'mlp', hidden: [16] },
      }),
    );
  }, 180_000);
});
