// Deterministic static graphs: ring, 2-D torus and grid, complete, star, static exponential.
import { ConfigError } from '../util/errors.js';
import { checkPeerCount, graphFromNeighbours, type Graph } from './graph.js';

/** Cycle 0–1–…–(n−1)–0 (for n = 2, the single edge 0–1). */
export function ring(n: number): Graph {
  checkPeerCount(n, 'ring');
  return graphFromNeighbours(n, false, (i) => [(i + n - 1) % n, (i + 1) % n]);
}

/** Rows × cols lattice with wrap-around (4 neighbours each, fewer where a side has length 2). */
export function torus(n: number, rows?: number): Graph {
  const { r, c } = latticeShape('torus', n, rows);
  return graphFromNeighbours(n, false, (i) => {
    const y = Math.floor(i / c);
    const x = i % c;
    return [((y + r - 1) % r) * c + x, ((y + 1) % r) * c + x, y * c + ((x + c - 1) % c), y * c + ((x + 1) % c)];
  });
}

/** Rows × cols lattice without wrap-around (corners have 2 neighbours, edges 3, inside 4). */
export function grid(n: number, rows?: number): Graph {
  const { r, c } = latticeShape('grid', n, rows);
  return graphFromNeighbours(n, false, (i) => {
    const y = Math.floor(i / c);
    const x = i % c;
    const out: number[] = [];
    if (y > 0) out.push(i - c);
    if (y < r - 1) out.push(i + c);
    if (x > 0) out.push(i - 1);
    if (x < c - 1) out.push(i + 1);
    return out;
  });
}

/**
 * Rows and columns of a lattice of n peers: the given row count, or the most square
 * factorisation. Both sides must be ≥ 2, otherwise the lattice is a ring or a path.
 */
export function latticeShape(what: string, n: number, rows?: number): { r: number; c: number } {
  checkPeerCount(n, what);
  let r = rows ?? 0;
  if (rows === undefined) {
    for (let k = Math.floor(Math.sqrt(n)); k >= 1; k--) {
      if (n % k === 0) {
        r = k;
        break;
      }
    }
    if (r < 2) throw new ConfigError(`${what}: ${n} peers cannot be laid out as rows × cols with both ≥ 2 (it is prime); choose a composite peer count or use ring`);
  } else if (!Number.isInteger(rows) || rows < 2 || n % rows !== 0 || n / rows < 2) {
    throw new ConfigError(`${what}: rows=${rows} must be an integer ≥ 2 that divides peers=${n} with at least 2 columns`);
  }
  return { r, c: n / r };
}

/** Every peer linked to every other. */
export function complete(n: number): Graph {
  checkPeerCount(n, 'complete');
  return graphFromNeighbours(n, false, function* (i) {
    for (let j = 0; j < n; j++) if (j !== i) yield j;
  });
}

/** Peer 0 is the hub, linked to every other peer; the others only to the hub. */
export function star(n: number): Graph {
  checkPeerCount(n, 'star');
  return graphFromNeighbours(n, false, function* (i) {
    if (i !== 0) {
      yield 0;
      return;
    }
    for (let j = 1; j < n; j++) yield j;
  });
}

/** τ = ⌈log2 n⌉, the number of distinct hops 1, 2, 4, … below n. */
export function exponentialHops(n: number): number {
  let tau = 1;
  while (2 ** tau < n) tau++;
  return tau;
}

/**
 * Static exponential graph (Ying et al. 2021): peer i receives from (i + 2^j) mod n for
 * j = 0..τ−1. Directed: i hears from i+1 but i+1 does not hear from i (except where hops
 * coincide mod n). Every peer has in- and out-degree τ, so uniform weights 1/(τ+1) are
 * doubly stochastic.
 */
export function exponential(n: number): Graph {
  checkPeerCount(n, 'exponential');
  const tau = exponentialHops(n);
  return graphFromNeighbours(n, true, function* (i) {
    for (let j = 0; j < tau; j++) yield (i + 2 ** j) % n;
  });
}
