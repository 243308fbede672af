// Churn on real processes: 8 `gossipfl peer` processes on loopback; 4 of them (never the
// bootstrap peer) are SIGKILLed at seeded random rounds, 2 of those restart from their
// checkpoints. The run must complete, and every surviving and restarted peer must end with a
// valid model (its checkpoint loads, is finite and evaluates). Run by `npm run test:reliability`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { loadOrCreatePrivateKey } from '../../src/node/keys.js';
import { loadCheckpoint } from '../../src/node/checkpoint.js';
import { loadConfigFile } from '../../src/peer/config.js';
import { buildModel } from '../../src/model/zoo.js';
import { Trainer } from '../../src/model/trainer.js';
import { initBackend } from '../../src/compute/backend.js';
import { loadDataSource } from '../../src/data/index.js';
import { simulate } from '../../src/sim/simulator.js';
import { Rng } from '../../src/util/rng.js';
import { freePorts } from '../../src/cli/commands/cluster.js';
import { recordRow } from './record.js';

const N = 8;
const ROUNDS = 30;
const CLI = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];
const dir = mkdtempSync(join(tmpdir(), 'gossipfl-churn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
eval: { every: 10 }
`;

describe('churn on 8 real peer processes (long)', () => {
  it('kill 4 of 8 at random rounds, restart 2: the run completes and every surviving and restarted peer ends with a valid model', async () => {
    const t0 = performance.now();
    const configFile = join(dir, 'run.yaml');
    writeFileSync(configFile, CONFIG);
    const ports = await freePorts(N);
    const dirs = Array.from({ length: N }, (_, i) => join(dir, `peer-${i}`));
    const ids: string[] = [];
    for (const d of dirs) {
      mkdirSync(d, { recursive: true });
      ids.push(peerIdFromPrivateKey(await loadOrCreatePrivateKey(join(d, 'peer.key'))).toString());
    }
    const bootstrap = `/ip4/127.0.0.1/tcp/${ports[0]}/p2p/${ids[0]}`;
    const logs: string[][] = ids.map(() => []);
    const start = (i: number): ChildProcess => {
      const [cmd, ...args] = CLI;
      const child = spawn(
        cmd,
        [...args, 'peer', '--config', configFile, '--listen', `/ip4/127.0.0.1/tcp/${ports[i]}`, ...(i > 0 ? ['--bootstrap', bootstrap] : []), '--key', join(dirs[i], 'peer.key'), '--data-shard', `${i}/${N}`, '--out', dirs[i]],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const take = (b: Buffer) => logs[i].push(...b.toString().split('\n').filter(Boolean));
      child.stdout!.on('data', take);
      child.stderr!.on('data', take);
      return child;
    };
    const exitOf = (c: ChildProcess) => new Promise<number>((res) => (c.exitCode !== null ? res(c.exitCode) : c.on('exit', (code, signal) => res(code ?? (signal ? 128 : 1)))));
    const lastRound = (i: number) => Math.max(0, ...logs[i].flatMap((l) => /^round (\d+)\//.exec(l)?.[1] ?? []).map(Number));

    // The fault plan, from the seed: who dies at which round, who comes back after how long.
    const rng = Rng.derive(2024, 'churn');
    const victims = Array.from(rng.sample(N - 1, N / 2), (j) => j + 1);
    const killAt = new Map(victims.map((v) => [v, 3 + rng.int(15)]));
    const restarts = new Map(victims.slice(0, 2).map((v) => [v, 500 + rng.int(3000)]));

    const procs: ChildProcess[] = [start(0)];
    await until(() => logs[0].some((l) => l.includes(' listening on ')), 60_000);
    for (let i = 1; i < N; i++) procs.push(start(i));
    const killedAfter = new Map<number, number>();
    const restarted = new Map<number, ChildProcess>();
    const chaos = (async () => {
      const pending = new Set(victims);
      while (pending.size) {
        for (const v of [...pending]) {
          if (lastRound(v) < killAt.get(v)!) continue;
          procs[v].kill('SIGKILL');
          await exitOf(procs[v]);
          killedAfter.set(v, lastRound(v));
          pending.delete(v);
          const delay = restarts.get(v);
          if (delay !== undefined) setTimeout(() => restarted.set(v, start(v)), delay);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      await until(() => restarted.size === restarts.size, 10_000);
    })();
    await chaos;
    const finishers = [...Array.from({ length: N }, (_, i) => i).filter((i) => !killAt.has(i)).map((i) => [i, procs[i]] as const), ...restarted];
    const codes = await Promise.all(finishers.map(([, c]) => exitOf(c)));
    const tail = finishers.map(([i]) => `[${i}] ${logs[i].slice(-4).join('\n    ')}`).join('\n');

    // Every finisher: exit 0, all rounds, a checkpoint that loads, finite, and a model that evaluates.
    const config = loadConfigFile(configFile);
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
      notes: `${finishers.length} finishers all at round ${ROUNDS} with finite models; accuracy ${accuracies.map((a) => (a * 100).toFixed(1)).join('/')}% vs ${(cleanAcc * 100).toFixed(1)}% for the clean simulated run`,
    });
    expect(codes, tail).toEqual(finishers.map(() => 0));
    expect(invalid).toBe(0);
    expect(lostRounds).toBe(0);
    for (const a of accuracies) expect(a).toBeGreaterThan(0.7);
  }, 900_000);
});

async function until(cond: () => boolean, ms: number): Promise<void> {
  for (const t0 = Date.now(); !cond(); ) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
