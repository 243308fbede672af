// Topology analysis cost: the spectral gap of a 1,000-peer random 8-regular graph (target:
// under 2 s), the dense eigen kernel on its own, power iteration at 10,000 peers and the
// per-round cost of a random schedule, against one dense 1000×1000 matrix–vector pass measured
// in the same run (the cheapest thing that touches every entry of a dense W once).
import { buildTopology } from '../src/topology/spec.js';
import { spectralGap } from '../src/topology/spectral.js';
import { symmetricEigenvalues } from '../src/topology/eigen.js';
import { Rng } from '../src/util/rng.js';
import { timeMs, type BenchRow, type BenchSuite } from './lib.js';

const N = 1000;

function denseMatVec(a: Float64Array, x: Float64Array, y: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) {
    let s = 0;
    const row = i * n;
    for (let j = 0; j < n; j++) s += a[row + j] * x[j];
    y[i] = s;
  }
}

export const topologySuite: BenchSuite = {
  name: 'topology',
  async run({ quick }) {
    const repeats = quick ? 1 : 5;
    const rng = new Rng(7);
    const a = Float64Array.from({ length: N * N }, () => rng.normal());
    const x = Float64Array.from({ length: N }, () => rng.normal());
    const y = new Float64Array(N);
    const matvecMs = await timeMs(() => denseMatVec(a, x, y, N), quick ? 5 : 21, 3);
    const gflops = (flops: number, ms: number) => (flops / (ms / 1000) / 1e9).toFixed(2);
    const row = (name: string, value: number, note: string): BenchRow => ({
      suite: 'topology',
      name,
      value,
      unit: 'ms',
      baseline: 'dense matvec 1000',
      ratio: value / matvecMs,
      note,
    });
    const rows: BenchRow[] = [
      { suite: 'topology', name: 'dense matvec 1000', value: matvecMs, unit: 'ms', note: `y = A·x, 1000×1000 float64 (${gflops(2 * N * N, matvecMs)} GFLOP/s)` },
    ];

    const spec = { name: 'random-regular', peers: N, degree: 8, seed: 1 } as const;
    const buildMs = await timeMs(() => buildTopology(spec), repeats, 1);
    rows.push(row('build random 8-regular 1000', buildMs, 'Steger–Wormald pairing, connectivity check, MH weights'));

    const w = buildTopology(spec).at(0);
    let gap = 0;
    const gapMs = await timeMs(() => (gap = spectralGap(w).spectralGap), repeats, 1);
    rows.push(row('spectral gap random 8-regular 1000', gapMs, `exact (Householder + QL), gap ${gap.toFixed(6)}; target < 2000 ms`));

    const dense = w.dense();
    const eigMs = await timeMs(() => symmetricEigenvalues(dense, N, { copy: true }), repeats, 1);
    rows.push(row('symmetric eigenvalues 1000', eigMs, `kernel alone, 4/3·n³ flops: ${gflops((4 / 3) * N ** 3, eigMs)} GFLOP/s vs matvec ${gflops(2 * N * N, matvecMs)}`));

    if (!quick) {
      const big = buildTopology({ ...spec, peers: 10_000 }).at(0);
      let iterations = 0;
      const powerMs = await timeMs(() => (iterations = spectralGap(big).iterations), 3, 0);
      rows.push(row('spectral gap random 8-regular 10000', powerMs, `Lanczos on sparse W, ${iterations} steps`));
    }

    const pull = buildTopology({ name: 'pull', peers: N, r: 1.5, seed: 1 });
    let round = 0;
    const pullMs = await timeMs(() => pull.at(round++), quick ? 5 : 21, 2);
    rows.push(row('pull r=1.5 round 1000', pullMs, 'one round of random-r pull: draws + sparse rows'));
    return rows;
  },
};
