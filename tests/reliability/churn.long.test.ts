// Churn on real processes: 8 `gossipfl peer` processes on loopback; 4 of them (never the
// bootstrap peer) are SIGKILLed at seeded random rounds, 2 of those restart from their
// checkpoints. The run must complete, and every surviving and restarted peer must end with a
// valid model (its checkpoint loads, is finite) that beats what a peer reaches alone and stays
// close to the clean run of the same config. Run by `npm run test:reliability`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { loadCheckpoint } from '../../src/node/checkpoint.js';
import { loadConfigFile } from '../../src/peer/config.js';
import { buildModel } from '../../src/model/zoo.js';
import { Trainer } from '../../src/model/trainer.js';
import { initBackend } from '../../src/compute/backend.js';
import { loadDataSource } from '../../src/data/index.js';
import { simulate } from '../../src/sim/simulator.js';
import { Rng } from '../../src/util/rng.js';
import { preparePeers, until, type PeerProcesses } from './peer-processes.js';
import { recordRow } from './record.js';

const N = 8;
const ROUNDS = 120;
let run: PeerProcesses | undefined;
afterAll(() => run?.cleanup());

const CONFIG = `name: churn
seed: 7
peers: ${N}
rounds: ${ROUNDS}
backend: wasm
data: { dataset: mnist, train: 4000, test: 500, partition: { kind: iid } }
model: { kind: mlp, hidden: [32] }
training: { batchSize: 32, optimizer: { kind: sgd, lr: 0.1 } }
topology: { name: ring }
schedule: { localSteps: 5 }
heterogeneity: { deadlineMs: 1500 }
eval: { every: 20 }
`;

describe('churn on 8 real peer processes (long)', () => {
  it('kill 4 of 8 at random rounds, restart 2: the run completes and every surviving and restarted peer ends with a valid model above a lone peer', async () => {
    const t0 = performance.now();
    const p = (run = await preparePeers(N, CONFIG, 'churn'));
    const { logs, dirs } = p;
    const exitOf = (c: ChildProcess) => new Promise<number>((res) => (c.exitCode !== null ? res(c.exitCode) : c.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1)))));

    // The fault plan, from the seed: who dies at which round, who comes back after how long.
    const rng = Rng.derive(2024, 'churn');
    const victims = Array.from(rng.sample(N - 1, N / 2), (j) => j + 1);
    // A restarted process needs 10-30 s on 2 busy cores before it listens (rounds take 0.2-0.4 s),
    // so the two that come back die early enough to find the run still going.
    const killAt = new Map(victims.map((v, k) => [v, k < 2 ? 3 + rng.int(5) : 3 + rng.int(15)]));
    const restarts = new Map(victims.slice(0, 2).map((v) => [v, 500 + rng.int(3000)]));

    await p.startAll();
    const procs = [...p.procs] as ChildProcess[];
    const killedAfter = new Map<number, number>();
    const restarted = new Map<number, ChildProcess>();
    const chaos = (async () => {
      const pending = new Set(victims);
      while (pending.size) {
        for (const v of [...pending]) {
          if (p.lastRound(v) < killAt.get(v)!) continue;
          procs[v].kill('SIGKILL');
          await exitOf(procs[v]);
          killedAfter.set(v, p.lastRound(v));
          pending.delete(v);
          const delay = restarts.get(v);
          if (delay !== undefined) setTimeout(() => restarted.set(v, p.start(v)), delay);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await until(() => restarted.size === restarts.size, 10_000, 'the restarts');
    })();
    await chaos;
    const finishers = [...Array.from({ length: N }, (_, i) => i).filter((i) => !killAt.has(i)).map((i) => [i, procs[i]] as const), ...restarted];
    const codes = await Promise.all(finishers.map(([, c]) => exitOf(c)));
    const tail = finishers.map(([i]) => `[${i}] ${logs[i].slice(-4).join('\n    ')}`).join('\n');
    // Every finisher: exit 0, all rounds, a checkpoint that loads, finite, and a model that evaluates.
    const config = loadConfigFile(p.configFile);
    const { train, test } = loadDataSource(config.data, config.seed);
    const model = buildModel(config.model, train.featureShape, train.numClasses);
    await initBackend('wasm');
    const trainer = new Trainer(model, config.training.optimizer);
    let invalid = 0;
    let lostRounds = 0;
    const accuracies: number[] = [];
    try {
      for (const [i] of finishers) {
        const metrics = readFileSync(join(dirs[i], 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { round: number });
        const ck = loadCheckpoint(join(dirs[i], 'checkpoint.bin'), model.layout);
        const ok = metrics.at(-1)?.round === ROUNDS && ck?.round === ROUNDS - 1 && ck.params.data.every(Number.isFinite);
        if (!ok) invalid++;
        if (ck) accuracies.push((await trainer.evaluate(ck.params, test)).accuracy);
      }
      // A restarted peer resumes after the last round it had reported finished (checkpoint written before the report).
      for (const v of restarted.keys()) {
        const resumed = logs[v].map((l) => /resuming after round (\d+)/.exec(l)?.[1]).find((x) => x !== undefined);
        if (resumed === undefined || Number(resumed) < killedAfter.get(v)!) lostRounds++;
      }
    } finally {
      trainer.dispose();
    }
    // What the faults cost: the same config, clean, in the simulator.
    const clean = await simulate(config);
    const cleanAcc = clean.summary.localAccuracyMean ?? 0;
    // What a peer reaches alone on its shard (the same config with almost every message lost): gossip must beat it.
    const lone = await simulate({ ...config, network: { latencyMs: 0, jitterMs: 0, loss: 0.9999 } });
    const loneAcc = lone.summary.localAccuracyMean ?? 0;
    const meanAcc = accuracies.reduce((a, b) => a + b, 0) / Math.max(1, accuracies.length);
    const crashes = codes.filter((c) => c !== 0).length;
    recordRow({
      check: `churn: ${N} peer processes, ${victims.length} SIGKILLed at random rounds (${victims.map((v) => `#${v}@${killAt.get(v)}`).join(', ')}), ${restarts.size} restarted from checkpoints`,
      faults: victims.length + restarts.size,
      inputs: finishers.length * ROUNDS,
      crashes,
      dataLost: invalid + lostRounds,
      accuracyCostPts: (cleanAcc - meanAcc) * 100,
      seconds: (performance.now() - t0) / 1000,
      notes: `${finishers.length} finishers all at round ${ROUNDS} with finite models; accuracy ${accuracies.map((a) => (a * 100).toFixed(1)).join('/')}% vs ${(cleanAcc * 100).toFixed(1)}% for the clean simulated run, ${(loneAcc * 100).toFixed(1)}% for a peer alone`,
    });
    expect(codes, tail).toEqual(finishers.map(() => 0));
    expect(invalid).toBe(0);
    expect(lostRounds).toBe(0);
    expect(cleanAcc).toBeGreaterThan(loneAcc + 0.02);
    for (const a of accuracies) expect(a).toBeGreaterThan(Math.max(loneAcc + 0.01, cleanAcc - 0.03));
  }, 900_000);
});
