// A custom topology read from an edge-list file, and a custom aggregation rule plugged into
// the simulator. The rule is ClippedGossip (He, Karimireddy and Jaggi 2022): a peer moves
// toward each neighbour by at most τ, so one far-off (faulty or very skewed) neighbour cannot
// drag it away:   x_i ← x_i + Σ_j W_ij · clip(x_j − x_i, τ),  clip(z, τ) = z · min(1, τ / ‖z‖).
// With τ = ∞ it is plain gossip mixing.
//
//   npx tsx examples/custom-topology-aggregation.ts [--quick] [--tau 0.5]
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  buildAggregation,
  cloneParams,
  parseConfig,
  simulate,
  squaredNorm,
  sub,
  topology,
  axpy,
  type Aggregator,
} from '../src/index.js'; // in your project: 'gossipfl'

/** ClippedGossip with radius τ; `clipped` counts the neighbour models it had to shorten. */
function clippedGossip(tau: number): Aggregator & { clipped: number; seen: number } {
  const rule = {
    // Inherits gossip's spec and checks: the messages are whole models weighted by W_ij.
    ...buildAggregation({ name: 'gossip' }),
    clipped: 0,
    seen: 0,
    aggregate: (state, own, received) => {
      const next = cloneParams(own);
      const diff = new Float32Array(own.data.length);
      for (const { params, weight } of received) {
        sub(diff, params.data, own.data);
        const norm = Math.sqrt(squaredNorm(diff));
        const shrink = norm > tau ? tau / norm : 1;
        rule.seen++;
        if (shrink < 1) rule.clipped++;
        axpy(next.data, weight * shrink, diff);
      }
      return { params: next, state };
    },
  } satisfies Aggregator & { clipped: number; seen: number };
  return rule;
}

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' }, tau: { type: 'string', default: '0.5' } } });
const quick = args.quick ?? false; // a tiny setting, for CI
const edges = fileURLToPath(new URL('./two-clusters.edges', import.meta.url));
const twoClusters = topology.buildTopology({ name: 'edge-list', peers: 8, path: edges });
const { spectralGap } = topology.summarizeTopology(twoClusters);
const aggregation = clippedGossip(Number(args.tau));

const config = parseConfig({
  name: 'two clusters, ClippedGossip',
  peers: 8,
  rounds: quick ? 2 : 30,
  backend: quick ? 'cpu' : 'auto',
  data: { dataset: 'mnist', train: quick ? 400 : 8000, test: quick ? 200 : 2000, partition: { kind: 'dirichlet', alpha: 0.3 } },
  model: { kind: 'mlp', hidden: [64] },
  schedule: { localSteps: quick ? 2 : 10 },
  eval: { every: quick ? 1 : 5 },
});
const { summary } = await simulate(config, {}, { topology: twoClusters, aggregation });
console.log(`topology from ${edges}: 8 peers, spectral gap ${spectralGap.toFixed(4)}`);
console.log(`ClippedGossip τ = ${args.tau}: clipped ${aggregation.clipped} of ${aggregation.seen} neighbour models`);
console.log(`merged model ${((summary.mergedAccuracy ?? 0) * 100).toFixed(1)}%, local models ${((summary.localAccuracyMean ?? 0) * 100).toFixed(1)}% (mean)`);
