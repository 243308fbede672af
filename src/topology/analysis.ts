// Checks and statistics of mixing matrices and topologies: stochasticity, symmetry,
// connectivity, degrees, spectral gap (static) or consensus rate over a period (time-varying).
import { exponentialHops } from './generators.js';
import { reachesAll } from './graph.js';
import type { SparseMixing } from './mixing.js';
import type { Topology } from './schedules.js';
import { isSymmetricMatrix, productContraction, spectralGap, type SpectralMethod, type SpectralOptions } from './spectral.js';

export { isSymmetricMatrix as isSymmetric } from './spectral.js';

/** Default tolerance of the stochasticity checks: sums of a few hundred doubles near 1. */
const TOLERANCE = 1e-12;

/** Every entry ≥ 0 and every row sums to 1 (peers average, they do not amplify). */
export function isRowStochastic(w: SparseMixing, tolerance = TOLERANCE): boolean {
  for (let i = 0; i < w.n; i++) {
    let sum = w.selfWeights[i];
    if (sum < -tolerance) return false;
    for (let k = w.rowStart[i]; k < w.rowStart[i + 1]; k++) {
      if (w.vals[k] < -tolerance) return false;
      sum += w.vals[k];
    }
    if (Math.abs(sum - 1) > tolerance * Math.max(1, w.rowStart[i + 1] - w.rowStart[i])) return false;
  }
  return true;
}

/** Every column sums to 1: the average of all models is preserved by a round. */
export function isColumnStochastic(w: SparseMixing, tolerance = TOLERANCE): boolean {
  const sums = Float64Array.from(w.selfWeights);
  const counts = new Uint32Array(w.n);
  for (let k = 0; k < w.cols.length; k++) {
    sums[w.cols[k]] += w.vals[k];
    counts[w.cols[k]]++;
  }
  for (let j = 0; j < w.n; j++) if (Math.abs(sums[j] - 1) > tolerance * Math.max(1, counts[j])) return false;
  return true;
}

/** True when every row and every column of W sums to 1 (within tolerance). */
export function isDoublyStochastic(w: SparseMixing, tolerance = TOLERANCE): boolean {
  return isRowStochastic(w, tolerance) && isColumnStochastic(w, tolerance);
}

/**
 * Whether information from every peer reaches every other peer through the union of the
 * given rounds' links (strong connectivity of the union graph; for one static matrix, of W).
 */
export function isConnectedOver(rounds: readonly SparseMixing[]): boolean {
  const n = rounds[0].n;
  const union = (lists: (w: SparseMixing, i: number) => Uint32Array) => (i: number) => {
    if (rounds.length === 1) return lists(rounds[0], i);
    const all: number[] = [];
    for (const w of rounds) for (const j of lists(w, i)) all.push(j);
    return all;
  };
  return reachesAll(n, union((w, i) => w.row(i).peers)) && reachesAll(n, union((w, i) => w.outNeighbours(i)));
}

/** Minimum, mean and maximum peer degree. */
export interface DegreeStats {
  readonly min: number;
  readonly mean: number;
  readonly max: number;
}

/** Statistics of the number of peers each peer averages (row nonzeros besides itself) over all given rounds. */
export function degreeStats(rounds: readonly SparseMixing[]): DegreeStats {
  let min = Infinity;
  let max = 0;
  let total = 0;
  let count = 0;
  for (const w of rounds) {
    for (let i = 0; i < w.n; i++) {
      const d = w.rowStart[i + 1] - w.rowStart[i];
      min = Math.min(min, d);
      max = Math.max(max, d);
      total += d;
      count++;
    }
  }
  return { min, mean: total / count, max };
}

/** Links of one round: undirected edges when every link goes both ways, otherwise directed arcs. */
export function edgeCountOf(w: SparseMixing): number {
  for (let i = 0; i < w.n; i++) {
    const ins = w.row(i).peers;
    const outs = w.outNeighbours(i);
    if (ins.length !== outs.length || ins.some((j, k) => outs[k] !== j)) return w.links;
  }
  return w.links / 2;
}

/** What summarizeTopology reports about a topology: size, degrees, spectral gap and structural checks. */
export interface TopologySummary {
  readonly name: string;
  readonly peers: number;
  /** Links per round (mean over the analysed rounds for a time-varying topology). */
  readonly edges: number;
  readonly degree: DegreeStats;
  /**
   * Static: 1 − SLEM(W). Time-varying: 1 − ρ, with ρ = ‖(I − J)·P·(I − J)‖₂^(1/T) the
   * per-round consensus rate of the product P of T rounds.
   */
  readonly spectralGap: number;
  /** The SLEM (static) or ρ (time-varying) that `spectralGap` is 1 minus. */
  readonly slem: number;
  readonly spectralMethod: SpectralMethod | 'product-norm-exact' | 'product-norm-lanczos';
  /** false when the iterative method hit its step cap (slem is then a slight underestimate). */
  readonly spectralConverged: boolean;
  readonly rowStochastic: boolean;
  readonly doublyStochastic: boolean;
  readonly symmetric: boolean;
  readonly connected: boolean;
  readonly timeVarying: boolean;
  /** The schedule's period (1 when static), or null for random schedules. */
  readonly period: number | null;
  /** Rounds the statistics cover. */
  readonly rounds: number;
}

/** Options for summarizeTopology: the rounds to analyse and the spectral tuning. */
export interface SummaryOptions extends SpectralOptions {
  /** Rounds to analyse for a time-varying topology (default: its period, or ⌈log2 n⌉ for random ones). */
  readonly rounds?: number;
  /** First round analysed (default 0). */
  readonly start?: number;
}

/** Everything the `topology` command prints, for any topology. */
export function summarizeTopology(top: Topology, options: SummaryOptions = {}): TopologySummary {
  const timeVarying = top.period !== 1;
  const count = timeVarying ? (options.rounds ?? top.period ?? exponentialHops(top.n)) : 1;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`rounds must be a positive integer, got ${count}`);
  const start = options.start ?? 0;
  const rounds = Array.from({ length: count }, (_, t) => top.at(start + t));
  let gap: number;
  let slem: number;
  let method: TopologySummary['spectralMethod'];
  let converged: boolean;
  if (!timeVarying) {
    const s = spectralGap(rounds[0], options);
    gap = s.spectralGap;
    slem = s.slem;
    method = s.method;
    converged = s.converged;
  } else {
    const p = productContraction(rounds, options);
    slem = Math.pow(p.contraction, 1 / count);
    gap = 1 - slem;
    method = p.method === 'norm-exact' ? 'product-norm-exact' : 'product-norm-lanczos';
    converged = p.converged;
  }
  const rowStochastic = rounds.every((w) => isRowStochastic(w));
  return {
    name: top.name,
    peers: top.n,
    edges: rounds.reduce((s, w) => s + edgeCountOf(w), 0) / count,
    degree: degreeStats(rounds),
    spectralGap: gap,
    slem,
    spectralMethod: method,
    spectralConverged: converged,
    rowStochastic,
    doublyStochastic: rowStochastic && rounds.every((w) => isColumnStochastic(w)),
    symmetric: rounds.every((w) => isSymmetricMatrix(w)),
    connected: isConnectedOver(rounds),
    timeVarying,
    period: top.period ?? null,
    rounds: count,
  };
}
