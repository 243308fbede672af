// D² (Tang, Lian, Yan, Zhang and Liu 2018, "D²: Decentralized Training over Decentralized Data",
// ICML), the gossip counterpart of SCAFFOLD's drift correction: each peer corrects what it sends
// by how far its last round's local progress and the last mixing disagreed, which removes the
// bias that non-IID data puts into plain gossip SGD. One round t of peer i:
//   ψ_t = the model after the local steps from x_t          (one SGD step in the paper: x_t − η∇F_i(x_t))
//   φ_t = ψ_t + x_t − ψ_{t−1}                               (φ_0 = ψ_0: plain gossip the first round)
//   x_{t+1} = Σ_j W̃_ij φ_j                                 (gossip of the corrected models)
// With one local step this is the paper's x_{t+1} = W(2x_t − x_{t−1} − η∇F(x_t) + η∇F(x_{t−1})).
// With K local steps ψ_t − x_t plays the part of −η∇F. D² needs λ_min(W) > −1/3; a ring of three
// equal weights has −1/3 exactly, so by default the mixing is the lazy W̃ = (I + W)/2 (all
// eigenvalues in [0, 1]), which is Exact Diffusion (Yuan, Ying, Zhao and Sayed 2019, "Exact
// Diffusion for Distributed Optimization and Learning — Part I", IEEE TSP). `lazy: false` mixes
// with W itself, as in D².
//
// The correction happens before sending (the round driver's local-training hook, see
// src/peer/local-training.ts); this file is the mixing.
import { scaledMix } from './gossip.js';
import type { AggregationRule } from './types.js';

/** D²'s options: `lazy` (default true) mixes with (I + W)/2 instead of W. */
export interface D2Options {
  readonly lazy?: boolean;
}

/** The mixing step of D²: x_i + s·Σ_j W_ij (φ_j − x_i), s = 1/2 when lazy, else 1; own is φ_i. */
export function d2Mix(options: D2Options = {}): AggregationRule {
  return scaledMix('d2', options.lazy === false ? 1 : 0.5);
}

/** φ = ψ + x − ψ_prev: the model a D² peer sends after its local steps (a new array). */
export function d2Correction(trained: Float32Array, start: Float32Array, lastTrained: Float32Array): Float32Array {
  const out = new Float32Array(trained.length);
  for (let k = 0; k < out.length; k++) out[k] = trained[k] + start[k] - lastTrained[k];
  return out;
}
