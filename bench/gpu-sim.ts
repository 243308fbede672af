// GPU host entry for the batched simulator (pack with scripts/pack-gpu.sh bench/gpu-sim.ts .gpu).
// One process measures, for MLP 784-128-10 peers (batch 32, ring gossip, eval every 5 rounds on
// 500 test samples, final exact merge, synthetic 784-feature data, 64 samples per peer):
//   - for each P of --peers: the batched engine's own peer-steps/s and `simulate`'s end-to-end
//     peer-steps/s with engine: batched on the same config, and their ratio;
//   - with --parity P (default 300): the stack split into 3 blocks against one buffer, op by op;
//   - for P = --big (32 samples per peer): the wall time of `simulate`, the peak device memory
//     (live GPU buffer bytes, counted at createBuffer/destroy on tfjs's device) and peak host RSS.
// It prints one JSON line per case and rewrites --out after each, so a cut-off run keeps what
// finished. Cases that would start after --deadline-s are skipped (recorded as skipped).
//   bash .gpu/run.sh --out results.json
//   bash .gpu/run.sh --backend wasm --peers 16 --rounds 2 --big 64 --out r.json   (CPU check)
import '../src/util/polyfills.js';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { tf } from '../src/compute/tf.js';
import { initBackend } from '../src/compute/backend.js';
import type { RunConfig } from '../src/peer/config.js';
import { engineRate, endToEnd, manyPeersConfig, peakRssMiB, phaseTimes } from './simulator.js';
import { blockedParity } from './blocked-parity.js';

const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 && args[at + 1] !== undefined ? args[at + 1] : fallback;
};
const backend = flag('backend', 'webgpu') as 'webgpu' | 'wasm' | 'cpu';
const peersList = flag('peers', '256,1024').split(',').filter(Boolean).map(Number);
const rounds = Number(flag('rounds', '20'));
const steps = Number(flag('steps', '10'));
const big = Number(flag('big', '10000'));
const engineSteps = Number(flag('engine-steps', '200'));
const deadlineS = Number(flag('deadline-s', '400'));
const parityPeers = Number(flag('parity', '300'));
const out = flag('out', '');
for (const [name, v] of Object.entries({ rounds, steps, big, engineSteps, deadlineS, parityPeers })) {
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${name}: need an integer ≥ 0, got ${v}`);
}
if (!peersList.every((p) => Number.isInteger(p) && p >= 2)) throw new Error(`--peers: need a comma-separated list of integers ≥ 2, got ${flag('peers', '')}`);


const started = performance.now();
const elapsed = () => (performance.now() - started) / 1000;
const info = await initBackend(backend, {}, (line) => process.stderr.write(`${line}\n`));
const memory = countDeviceMemory();
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  backend: info.name,
  device: info.device ?? null,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  node: process.version,
  limits: memory?.limits ?? null,
  cases: [] as unknown[],
};
const cases = results.cases as unknown[];

function record(c: Record<string, unknown>): void {
  cases.push(c);
  console.log(JSON.stringify(c));
  if (out) writeFileSync(out, JSON.stringify(results, null, 2));
}

/** The measured run: ring of MLP peers on synthetic data, evaluated every 5 rounds, one final merge. */
function config(peers: number, perPeer: number): RunConfig {
  return manyPeersConfig(backend, peers, rounds, steps, perPeer, { every: 5 }, `gpu-sim-${peers}`);
}

// The stack split into blocks (as past one storage binding) against one buffer, op by op.
if (parityPeers > 0 && backend === 'webgpu') {
  try {
    record({ case: `blocked-parity-${parityPeers}`, ...(await blockedParity(config(parityPeers, 16), Math.ceil(parityPeers / 3))) });
  } catch (err) {
    record({ case: `blocked-parity-${parityPeers}`, error: String(err instanceof Error ? err.stack : err) });
  }
}

for (const P of peersList) {
  if (elapsed() > deadlineS) {
    record({ case: `rate-${P}`, skipped: `past --deadline-s ${deadlineS}` });
    continue;
  }
  try {
    const c = config(P, 64);
    const engine = await engineRate(c, engineSteps, 3);
    memory?.resetPeak();
    const e2e = await endToEnd(c);
    // The same run again, part by part (the kernels are compiled by now, as in a sweep's later runs).
    const phases = await phaseTimes(c);
    record({
      case: `rate-${P}`,
      peers: P,
      rounds,
      localSteps: steps,
      kernels: engine.kernels,
      enginePeerStepsPerSecond: engine.wall,
      simulatePeerStepsPerSecond: e2e.wall,
      ratio: e2e.wall / engine.wall,
      simulateSeconds: e2e.seconds,
      mergedAccuracy: e2e.mergedAccuracy,
      peakDeviceMiB: memory ? memory.peakMiB() : null,
      peakRssMiB: e2e.peakRssMiB,
      phases,
      roundsRatio: phases.roundsPeerStepsPerSecond / engine.wall,
    });
  } catch (err) {
    record({ case: `rate-${P}`, error: String(err instanceof Error ? err.message : err) });
  }
}

/** The scale case at P peers: wall time, peak device memory and peak RSS. */
async function scaleCase(P: number): Promise<boolean> {
  if (elapsed() > deadlineS) {
    record({ case: `scale-${P}`, skipped: `past --deadline-s ${deadlineS}` });
    return true;
  }
  try {
    memory?.resetPeak();
    const e2e = await endToEnd(config(P, 32));
    record({
      case: `scale-${P}`,
      peers: P,
      rounds,
      localSteps: steps,
      simulateSeconds: e2e.seconds,
      simulatePeerStepsPerSecond: e2e.wall,
      mergedAccuracy: e2e.mergedAccuracy,
      peakDeviceMiB: memory ? memory.peakMiB() : null,
      peakRssMiB: peakRssMiB(),
    });
    return true;
  } catch (err) {
    record({ case: `scale-${P}`, error: String(err instanceof Error ? err.message : err), peakRssMiB: peakRssMiB() });
    return false;
  }
}

if (big > 0) await scaleCase(big);
console.log(JSON.stringify({ done: true, seconds: elapsed() }));

/**
 * Live and peak bytes of the GPU buffers on tfjs's WebGPU device (every buffer the run makes,
 * tfjs's own included), counted by wrapping createBuffer and each buffer's destroy; null off WebGPU.
 */
function countDeviceMemory(): { peakMiB(): number; resetPeak(): void; limits: Record<string, number> } | null {
  if (tf.getBackend() !== 'webgpu') return null;
  const device = (tf.backend() as unknown as { device: GPUDevice }).device;
  let live = 0;
  let peak = 0;
  const create = device.createBuffer.bind(device);
  device.createBuffer = (descriptor: GPUBufferDescriptor): GPUBuffer => {
    const buffer = create(descriptor);
    const size = descriptor.size;
    live += size;
    peak = Math.max(peak, live);
    const destroy = buffer.destroy.bind(buffer);
    let gone = false;
    buffer.destroy = () => {
      if (!gone) live -= size;
      gone = true;
      destroy();
    };
    return buffer;
  };
  const l = device.limits;
  return {
    peakMiB: () => peak / 2 ** 20,
    resetPeak: () => {
      peak = live;
    },
    limits: { maxBufferSize: l.maxBufferSize, maxStorageBufferBindingSize: l.maxStorageBufferBindingSize },
  };
}
