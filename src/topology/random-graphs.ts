// Seeded random static graphs: random d-regular, Erdős–Rényi G(n, p), Watts–Strogatz. Each is
// redrawn until connected (a disconnected gossip graph never reaches consensus); draw number a
// uses its own stream Rng.derive(seed, 'topology', name, a), so the result depends only on
// the seed and the parameters.
import { ConfigError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { complete } from './generators.js';
import { checkPeerCount, complementGraph, graphFromNeighbours, graphFromPairs, isGraphConnected, type Graph } from './graph.js';

/** How many draws a generator may make before it gives up on finding a connected graph. */
export const MAX_CONNECTED_DRAWS = 1000;

function drawConnected(name: string, seed: number, draw: (rng: Rng) => Graph | null, hint: string): Graph {
  for (let attempt = 0; attempt < MAX_CONNECTED_DRAWS; attempt++) {
    const g = draw(Rng.derive(seed, 'topology', name, attempt));
    if (g && isGraphConnected(g)) return g;
  }
  throw new ConfigError(`${name}: no connected graph in ${MAX_CONNECTED_DRAWS} draws (seed ${seed}); ${hint}`);
}

/**
 * A connected random d-regular graph. Pairs the n·d half-edges at random while refusing
 * self-loops and repeated edges (Steger–Wormald), restarting when it gets stuck; this is close
 * to uniform over d-regular graphs for small d. For d > (n−1)/2 it draws the (n−1−d)-regular
 * complement instead, where pairing gets stuck far less often; d = 2 draws a uniform random
 * Hamiltonian cycle, the only connected 2-regular graphs.
 */
export function randomRegular(n: number, d: number, seed: number): Graph {
  checkPeerCount(n, 'random-regular');
  if (!Number.isInteger(d) || d < 1 || d > n - 1) {
    throw new ConfigError(`random-regular: degree must be an integer in [1, ${n - 1}] for ${n} peers, got ${d}`);
  }
  if ((n * d) % 2 !== 0) {
    throw new ConfigError(`random-regular: no ${d}-regular graph on ${n} peers exists (peers × degree = ${n * d} is odd); change the degree or the peer count by one`);
  }
  if (d === 1 && n > 2) {
    throw new ConfigError(`random-regular: a 1-regular graph on ${n} peers is a set of disjoint pairs, never connected; use degree ≥ 2`);
  }
  if (d === n - 1) return complete(n);
  if (d === 2) {
    return drawConnected('random-regular', seed, (rng) => cycleThrough(rng.permutation(n)), 'a Hamiltonian cycle is always connected');
  }
  const complementDegree = n - 1 - d;
  const useComplement = complementDegree < d && complementDegree >= 1;
  return drawConnected(
    'random-regular',
    seed,
    (rng) => {
      const g = pairHalfEdges(n, useComplement ? complementDegree : d, rng);
      return g && useComplement ? complementGraph(g) : g;
    },
    'try another seed or a larger degree',
  );
}

function cycleThrough(order: Uint32Array): Graph {
  const n = order.length;
  const from = new Uint32Array(n);
  const to = new Uint32Array(n);
  for (let k = 0; k < n; k++) {
    from[k] = order[k];
    to[k] = order[(k + 1) % n];
  }
  return graphFromPairs(n, from, to, false);
}

/** One Steger–Wormald pairing; null when it gets stuck (no valid pair left). */
function pairHalfEdges(n: number, d: number, rng: Rng): Graph | null {
  const points = new Uint32Array(n * d);
  for (let k = 0; k < points.length; k++) points[k] = Math.floor(k / d);
  let remaining = points.length;
  const taken = new Set<number>();
  const key = (u: number, v: number) => (u < v ? u * n + v : v * n + u);
  const from = new Uint32Array(points.length / 2);
  const to = new Uint32Array(points.length / 2);
  let edges = 0;
  let misses = 0;
  const usable = (u: number, v: number) => u !== v && !taken.has(key(u, v));
  while (remaining > 0) {
    let a = rng.int(remaining);
    let b = rng.int(remaining);
    if (a === b || !usable(points[a], points[b])) {
      // Random retries are cheap while many pairs are usable; when they keep failing, look
      // for any usable pair exhaustively, and give up on this draw if there is none.
      if (++misses < 64) continue;
      const pair = findUsablePair(points, remaining, usable);
      if (!pair) return null;
      [a, b] = pair;
    }
    misses = 0;
    const u = points[a];
    const v = points[b];
    taken.add(key(u, v));
    from[edges] = u;
    to[edges] = v;
    edges++;
    // Remove both points by moving the last live ones into their slots (higher index first).
    const hi = Math.max(a, b);
    const lo = Math.min(a, b);
    points[hi] = points[--remaining];
    points[lo] = points[--remaining];
  }
  return graphFromPairs(n, from, to, false);
}

function findUsablePair(points: Uint32Array, remaining: number, usable: (u: number, v: number) => boolean): [number, number] | null {
  for (let a = 0; a < remaining; a++) for (let b = a + 1; b < remaining; b++) if (usable(points[a], points[b])) return [a, b];
  return null;
}

/**
 * Erdős–Rényi G(n, p), redrawn until connected. Pairs are visited with geometric skips
 * (Batagelj–Brandes), so a draw costs O(n + edges). When p is so small that a connected draw
 * is hopeless — the expected number of isolated peers μ = n(1−p)^(n−1) makes
 * P(connected) ≈ e^(−μ) < 1% — it fails at once and names a p that works.
 */
export function erdosRenyi(n: number, p: number, seed: number): Graph {
  checkPeerCount(n, 'erdos-renyi');
  if (!(p > 0 && p <= 1)) throw new ConfigError(`erdos-renyi: edge probability p must be in (0, 1], got ${p}`);
  const isolated = n * Math.pow(1 - p, n - 1);
  const suggestion = () => {
    const pHalf = 1 - Math.pow(Math.LN2 / n, 1 / (n - 1)); // μ = ln 2, P(connected) ≈ ½
    return `use p ≥ ${pHalf.toPrecision(3)} for ${n} peers`;
  };
  if (Math.exp(-isolated) < 0.01) {
    throw new ConfigError(
      `erdos-renyi: p=${p} leaves about ${isolated.toPrecision(3)} of ${n} peers isolated on average, so a connected graph is hopeless; ${suggestion()}`,
    );
  }
  return drawConnected('erdos-renyi', seed, (rng) => gnp(n, p, rng), suggestion());
}

function gnp(n: number, p: number, rng: Rng): Graph {
  const from: number[] = [];
  const to: number[] = [];
  if (p === 1) {
    for (let v = 1; v < n; v++) for (let w = 0; w < v; w++) (from.push(v), to.push(w));
    return graphFromPairs(n, from, to, false);
  }
  const logQ = Math.log(1 - p);
  let v = 1;
  let w = -1;
  while (v < n) {
    w += 1 + Math.floor(Math.log(1 - rng.next()) / logQ);
    while (w >= v && v < n) {
      w -= v;
      v++;
    }
    if (v < n) {
      from.push(v);
      to.push(w);
    }
  }
  return graphFromPairs(n, from, to, false);
}

/**
 * Watts–Strogatz small world: a ring lattice where each peer links to its k/2 nearest on each
 * side, then each lattice edge (i, i+j) is rewired with probability beta to (i, w) for a
 * uniform w that is neither i nor already linked to i. Redrawn until connected.
 */
export function wattsStrogatz(n: number, k: number, beta: number, seed: number): Graph {
  checkPeerCount(n, 'watts-strogatz');
  if (!Number.isInteger(k) || k < 2 || k % 2 !== 0 || k > n - 1) {
    throw new ConfigError(`watts-strogatz: degree k must be an even integer in [2, ${n - 1}] for ${n} peers, got ${k}`);
  }
  if (!(beta >= 0 && beta <= 1)) throw new ConfigError(`watts-strogatz: rewiring probability must be in [0, 1], got ${beta}`);
  return drawConnected(
    'watts-strogatz',
    seed,
    (rng) => {
      const nbrs = Array.from({ length: n }, () => new Set<number>());
      const link = (a: number, b: number) => (nbrs[a].add(b), nbrs[b].add(a));
      for (let i = 0; i < n; i++) for (let j = 1; j <= k / 2; j++) link(i, (i + j) % n);
      for (let j = 1; j <= k / 2; j++) {
        for (let i = 0; i < n; i++) {
          const old = (i + j) % n;
          if (!nbrs[i].has(old) || rng.next() >= beta || nbrs[i].size >= n - 1) continue;
          let w = rng.int(n);
          while (w === i || nbrs[i].has(w)) w = rng.int(n);
          nbrs[i].delete(old);
          nbrs[old].delete(i);
          link(i, w);
        }
      }
      return graphFromNeighbours(n, false, (i) => nbrs[i]);
    },
    `raise k or lower the rewiring probability (k=${k}, beta=${beta})`,
  );
}
