// Gossip on compressed differences with public copies (CHOCO-Gossip, Koloskova et al. 2019).
// Every peer keeps x̂_i, the public copy of itself that its neighbours hold, and x̂_j for each
// neighbour. Each round peer i publishes q_i = C(x_i − x̂_i) (compression is the caller's job);
// receivers add it to their copy. Then
//   x̂_j ← x̂_j + q_j   (every j heard from, and j = i with ctx.ownUpdate)
//   x_i ← x_i + γ · Σ_j W_ij (x̂_j − x̂_i)
// with γ the consensus step size (1 and no compression is plain gossip mixing). Copies start
// at zero. A neighbour whose update is lost this round keeps a stale copy here while it has
// already advanced its own x̂_j, so the copies drift apart: run it over a reliable transport.
import { paramsFrom, type Params } from '../params/index.js';
import type { PeerId } from '../util/ids.js';
import { AggregationError } from '../util/errors.js';
import { checkRowWeights } from './gossip.js';
import { addWeightedDifferences } from './kernels.js';
import type { StatefulAggregationRule } from './types.js';
import { checkParams, validateInputs } from './validate.js';

/** CHOCO-Gossip's memory: this peer's public copy and its copies of its neighbours'. */
export interface ChocoState {
  readonly rule: 'choco-gossip';
  /** x̂_i, null before the first round. */
  readonly self: Float32Array | null;
  /** x̂_j of every neighbour heard from so far. */
  readonly copies: Readonly<Record<PeerId, Float32Array>>;
}

/** CHOCO-Gossip's memory before the first round. */
export function chocoInitialState(): ChocoState {
  return { rule: 'choco-gossip', self: null, copies: {} };
}

/** x̂ + q as a new array (the old copy stays valid for whoever still holds the old state). */
function advance(copy: Float32Array | null | undefined, q: Float32Array): Float32Array {
  const out = new Float32Array(q.length);
  if (copy) for (let k = 0; k < q.length; k++) out[k] = copy[k] + q[k];
  else out.set(q);
  return out;
}

/** CHOCO-Gossip: mixes public copies updated by compressed differences, with the given consensus step size. */
export function chocoGossip(options: { stepSize?: number } = {}): StatefulAggregationRule<ChocoState> {
  const stepSize = options.stepSize ?? 1;
  return (state, own, received, ctx) => {
    const total = validateInputs('choco-gossip', own, received, ctx);
    checkRowWeights('choco-gossip', total, ctx);
    const ownUpdate = ctx?.ownUpdate;
    if (!ownUpdate) {
      throw new AggregationError('choco-gossip: ctx.ownUpdate is missing; pass the decoded compressed difference this peer published this round');
    }
    checkParams(ownUpdate, own, 'ctx.ownUpdate', 'choco-gossip');
    const self = advance(state.self, ownUpdate.data);
    // A Map, not property assignment: peer ids are arbitrary strings (think '__proto__').
    const copies = new Map<PeerId, Float32Array>(Object.entries(state.copies));
    const neighbours = received.map((c) => {
      const next = advance(copies.get(c.from), c.params.data);
      copies.set(c.from, next);
      return next;
    });
    const out = new Float32Array(own.data.length);
    addWeightedDifferences(
      out,
      own.data,
      self,
      neighbours,
      received.map((c) => c.weight),
      stepSize,
    );
    return { params: paramsFrom(own.layout, out), state: { rule: 'choco-gossip', self, copies: Object.fromEntries(copies) } };
  };
}
