// GPU host entry (pack with gpu/pack.sh bench/gpu-sim.ts .gpu): the product's own
// paths on WebGPU — one centralized `train` run and `simulate` runs of the given configs —
// printing one JSON line per run (backend, adapter, accuracy, time). Usage:
//   bash .gpu/run.sh CONFIG.yaml... [--out results.json]
import '../src/util/polyfills.js';
import { writeFileSync } from 'node:fs';
import { loadConfigFile } from '../src/peer/config.js';
import { simulate } from '../src/sim/simulator.js';
import { trainCentralized } from '../src/cli/commands/train.js';

const args = process.argv.slice(2);
const outAt = args.indexOf('--out');
const out = outAt >= 0 ? args[outAt + 1] : undefined;
const configs = args.filter((a, i) => !a.startsWith("--") && (outAt < 0 || i !== outAt + 1));
const results: unknown[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

const t = await trainCentralized(
  { model: 'mlp', epochs: 3, batchSize: 32, lr: 0.02, optimizer: 'momentum', backend: 'webgpu', seed: 1, trainSize: 8000, testSize: 2000, quiet: true },
  log,
);
results.push({ run: 'train mlp', backend: t.backend, device: t.device, testAccuracy: t.testAccuracy, seconds: t.seconds, samplesPerSecond: t.samplesPerSecond });
console.log(JSON.stringify(results.at(-1)));

for (const file of configs) {
  const config = loadConfigFile(file);
  const t0 = performance.now();
  const r = await simulate(config, { log });
  const seconds = (performance.now() - t0) / 1000;
  const s = r.summary;
  results.push({
    run: config.name,
    engine: config.engine,
    peers: s.peers,
    rounds: s.rounds,
    backend: s.backend,
    device: s.device,
    mergedAccuracy: s.mergedAccuracy,
    preMergeLocalAccuracyMean: s.preMergeLocalAccuracyMean,
    seconds,
    peerRoundsPerSecond: (s.peers * s.rounds) / seconds,
    localStepsPerRound: config.schedule.localSteps,
  });
  console.log(JSON.stringify(results.at(-1)));
}
if (out) writeFileSync(out, JSON.stringify(results, null, 2));
