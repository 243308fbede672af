// Real peers stopped after a round and restarted from their checkpoints continue the run as if
// never stopped: with D² (whose step needs the previous model) every round after the restart is
// bit-identical to an uninterrupted run. The same restart from the same checkpoints written
// without their rule-state section (version 1, as before it was kept) gives other numbers.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
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
const config = parseConfig(input);

/** Two peers in this process over the memory transport, in folders `dirs`; `stopAfter`: both stop after that (1-based) round. */
async function pair(dirs: readonly string[], stopAfter?: number, logs: string[][] = [[], []]): Promise<RoundMetrics[][]> {
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

describe('a real peer restarted from its checkpoint keeps its rule state', () => {
  it('D² between 2 real peers: stopped after round 2 and restarted, rounds 3 and 4 equal the uninterrupted run bit for bit; without the rule state they differ', async () => {
    const dirs = [0, 1, 2, 3, 4, 5].map((k) => mkdtempSync(join(tmpdir(), `gossipfl-restart-${k}-`)));
    try {
      const whole = await pair(dirs.slice(0, 2));
      expect(whole.map((r) => r.length)).toEqual([4, 4]);
      // Stop both after round 2, then start them again from the same folders (same keys).
      const first = await pair(dirs.slice(2, 4), 2);
      expect(first.map((r) => r.length)).toEqual([2, 2]);
      const logs: string[][] = [[], []];
      const second = await pair(dirs.slice(2, 4), undefined, logs);
      expect(second.map((r) => r.map((m) => m.round))).toEqual([[3, 4], [3, 4]]);
      // Peers are matched by folder: the first folder's peer is the bootstrap in both runs, but its
      // member index comes from its key, so compare as sets of per-peer rows.
      const sorted = (rs: RoundMetrics[][]) => rs.map(losses).map((r) => JSON.stringify(r)).sort();
      expect(sorted(second)).toEqual(sorted(whole.map((r) => r.slice(2))));
      expect(logs.flat().filter((l) => l.includes('without rule state'))).toEqual([]);

      // The same stop, then the checkpoints without their rule state: D² restarts from ψ_prev = x.
      const third = await pair(dirs.slice(4, 6), 2);
      expect(sorted(third)).toEqual(sorted(whole.map((r) => r.slice(0, 2))));
      const size = (await buildRun(config)).model.layout.size;
      for (const d of dirs.slice(4, 6)) asVersion1(join(d, 'checkpoint.bin'), size);
      const oldLogs: string[][] = [[], []];
      const fourth = await pair(dirs.slice(4, 6), undefined, oldLogs);
      expect(fourth.map((r) => r.map((m) => m.round))).toEqual([[3, 4], [3, 4]]);
      expect(sorted(fourth)).not.toEqual(sorted(whole.map((r) => r.slice(2))));
      // One line per peer says the old file had no rule state.
      expect(oldLogs.map((l) => l.filter((x) => x.includes('without rule state (checkpoint version 1)')).length)).toEqual([1, 1]);
    } finally {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  }, 180_000);
});
