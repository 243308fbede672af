// Mixing weights on a graph: Metropolis–Hastings, uniform 1/(deg+1), and user-given.
import { ConfigError, InputError } from '../util/errors.js';
import { binarySearch, type Graph } from './graph.js';
import { mixingFromRows, type SparseMixing } from './mixing.js';

/** How mixing weights are derived from a graph. */
export type WeightScheme = 'metropolis-hastings' | 'uniform';

/** The mixing matrix of a graph under a weight scheme. */
export function weightsFor(g: Graph, scheme: WeightScheme): SparseMixing {
  return scheme === 'metropolis-hastings' ? metropolisHastings(g) : uniformWeights(g);
}

/**
 * W_ij = 1/(1 + max(d_i, d_j)) on each edge, W_ii = 1 − Σ_j W_ij. Symmetric and doubly
 * stochastic on any undirected graph, whatever the degrees.
 */
export function metropolisHastings(g: Graph): SparseMixing {
  if (g.directed) {
    throw new ConfigError('metropolis-hastings weights need an undirected graph (they rely on W_ij = W_ji); use uniform weights for a directed one');
  }
  return mixingFromRows(g.n, (i) => {
    const peers = g.adj[i];
    const di = peers.length;
    const weights = new Float64Array(di);
    let sum = 0;
    for (let k = 0; k < di; k++) {
      weights[k] = 1 / (1 + Math.max(di, g.adj[peers[k]].length));
      sum += weights[k];
    }
    return { self: 1 - sum, peers, weights };
  });
}

/**
 * W_ij = 1/(d_i + 1) on i and each of its d_i in-neighbours. Row-stochastic; doubly stochastic
 * (and, when undirected, symmetric) only on regular graphs.
 */
export function uniformWeights(g: Graph): SparseMixing {
  return mixingFromRows(g.n, (i) => {
    const peers = g.adj[i];
    const share = 1 / (peers.length + 1);
    return { self: share, peers, weights: new Float64Array(peers.length).fill(share) };
  });
}

/**
 * User-given symmetric weights on an undirected graph: `weightOf(i, j)` for each edge (asked
 * with i < j and used for both directions), W_ii = 1 − Σ_j W_ij. A weight outside (0, 1] or a
 * row whose weights exceed 1 (negative self weight) is an InputError naming the peer.
 */
export function userWeights(g: Graph, weightOf: (i: number, j: number) => number): SparseMixing {
  if (g.directed) throw new ConfigError('user edge weights are read as undirected (W_ij = W_ji); the graph given is directed');
  const lookup = (i: number, j: number) => weightOf(Math.min(i, j), Math.max(i, j));
  return mixingFromRows(g.n, (i) => {
    const peers = g.adj[i];
    const weights = new Float64Array(peers.length);
    let sum = 0;
    for (let k = 0; k < peers.length; k++) {
      const x = lookup(i, peers[k]);
      if (!(x > 0 && x <= 1)) throw new InputError(`edge ${Math.min(i, peers[k])}–${Math.max(i, peers[k])}: weight ${x} must be in (0, 1]`);
      weights[k] = x;
      sum += x;
    }
    if (sum > 1 + 1e-12) {
      throw new InputError(`peer ${i}: its edge weights sum to ${sum}, more than 1, which leaves a negative self weight; scale the weights down`);
    }
    return { self: Math.max(0, 1 - sum), peers, weights };
  });
}

/** W_ij for an edge of a weighted mixing, or 0 when absent (for checks and tests). */
export function weightBetween(m: SparseMixing, i: number, j: number): number {
  if (i === j) return m.selfWeights[i];
  const a = m.rowStart[i];
  const k = binarySearch(m.cols.subarray(a, m.rowStart[i + 1]), j);
  return k < 0 ? 0 : m.vals[a + k];
}
