// Simulator throughput: peer-rounds per second for 16, 64 and 256 peers (MLP 784-128-10 on the
// MNIST digits, ring gossip, one local step of batch 32 per round) and the process's memory;
// plus 1,000 peers with logistic regression for 10 rounds in one process.
import type { BenchRow, BenchSuite } from './lib.js';
import { parseConfig } from '../src/peer/config.js';
import { simulate } from '../src/sim/simulator.js';

async function run(peers: number, rounds: number, model: 'mlp' | 'logreg'): Promise<{ seconds: number; rssMiB: number; accuracy: number | null }> {
  const config = parseConfig({
    name: `bench-${peers}`,
    seed: 1,
    peers,
    rounds,
    backend: 'wasm',
    data: { dataset: 'mnist', train: 8000, test: 500, partition: { kind: 'iid' } },
    model: model === 'mlp' ? { kind: 'mlp', hidden: [128] } : { kind: 'logreg' },
    training: { batchSize: 32, optimizer: { kind: 'sgd', lr: 0.05 } },
    topology: { name: 'ring' },
    schedule: { localSteps: 1 },
    eval: { every: rounds, localPeers: 4 },
  });
  let peak = process.memoryUsage().rss;
  const t0 = performance.now();
  const r = await simulate(config, { onRound: () => (peak = Math.max(peak, process.memoryUsage().rss)) });
  return { seconds: (performance.now() - t0) / 1000, rssMiB: peak / 2 ** 20, accuracy: r.summary.mergedAccuracy };
}

export const simulatorSuite: BenchSuite = {
  name: 'simulator',
  async run({ quick }) {
    const rows: BenchRow[] = [];
    const rounds = quick ? 2 : 5;
    let base: number | undefined;
    for (const peers of [16, 64, 256]) {
      const r = await run(peers, rounds, 'mlp');
      const rate = (peers * rounds) / r.seconds;
      base ??= rate;
      rows.push({ suite: 'simulator', name: `${peers} peers, MLP, ring`, value: rate, unit: 'peer-rounds/s', baseline: '16 peers, MLP, ring', ratio: rate / base });
      rows.push({ suite: 'simulator', name: `${peers} peers, MLP: peak RSS`, value: r.rssMiB, unit: 'MiB' });
    }
    const big = await run(1000, quick ? 2 : 10, 'logreg');
    rows.push({ suite: 'simulator', name: `1000 peers, logistic regression, ${quick ? 2 : 10} rounds`, value: big.seconds, unit: 's', note: `merged accuracy ${big.accuracy === null ? 'n/a' : (big.accuracy * 100).toFixed(1) + '%'}` });
    rows.push({ suite: 'simulator', name: '1000 peers, logistic regression: peak RSS', value: big.rssMiB, unit: 'MiB', note: 'limit 24 GiB' });
    return rows;
  },
};
