// Mixing weights as plain data: a sparse row-stochastic matrix W where row i says whose models
// peer i averages (its in-neighbours j, with W_ij) and how much of its own it keeps (W_ii).
// Stored as compressed rows; the transpose (whom i must send to) is built on first use.
import { ConfigError } from '../util/errors.js';

/** Row i of a mixing matrix: the own weight and the weights of the peers i averages. */
export interface MixingRow {
  /** W_ii: the weight of the peer's own model. */
  readonly self: number;
  /** In-neighbours j ≠ i with W_ij ≠ 0, ascending. */
  readonly peers: Uint32Array;
  /** W_ij for each entry of `peers`. */
  readonly weights: Float64Array;
}

/** One round's mixing matrix, answering per peer. */
export interface Mixing {
  readonly n: number;
  /** Whose models peer i averages, and with what weights. */
  row(i: number): MixingRow;
  /** Peers that average i's model (W_ji ≠ 0, j ≠ i): whom i sends to. Ascending. */
  outNeighbours(i: number): Uint32Array;
  /** W as a dense row-major n×n matrix (for analysis at small n). */
  dense(): Float64Array;
}

/** Compressed-row mixing matrix; the one implementation of `Mixing`. */
export class SparseMixing implements Mixing {
  readonly n: number;
  /** Row i's entries are at rowStart[i] .. rowStart[i+1]−1 of `cols` and `vals`. */
  readonly rowStart: Uint32Array;
  readonly cols: Uint32Array;
  readonly vals: Float64Array;
  readonly selfWeights: Float64Array;
  private transposed: { start: Uint32Array; rows: Uint32Array; vals: Float64Array } | undefined;

  constructor(n: number, rowStart: Uint32Array, cols: Uint32Array, vals: Float64Array, selfWeights: Float64Array) {
    this.n = n;
    this.rowStart = rowStart;
    this.cols = cols;
    this.vals = vals;
    this.selfWeights = selfWeights;
  }

  row(i: number): MixingRow {
    this.checkPeer(i);
    const a = this.rowStart[i];
    const b = this.rowStart[i + 1];
    return { self: this.selfWeights[i], peers: this.cols.subarray(a, b), weights: this.vals.subarray(a, b) };
  }

  outNeighbours(i: number): Uint32Array {
    this.checkPeer(i);
    const t = this.transpose();
    return t.rows.subarray(t.start[i], t.start[i + 1]);
  }

  /** Number of off-diagonal nonzeros (directed links used this round). */
  get links(): number {
    return this.cols.length;
  }

  dense(): Float64Array {
    const n = this.n;
    const w = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      w[i * n + i] = this.selfWeights[i];
      for (let k = this.rowStart[i]; k < this.rowStart[i + 1]; k++) w[i * n + this.cols[k]] += this.vals[k];
    }
    return w;
  }

  /** out = W·x. */
  multiply(x: Float64Array, out: Float64Array): Float64Array {
    for (let i = 0; i < this.n; i++) {
      let acc = this.selfWeights[i] * x[i];
      for (let k = this.rowStart[i]; k < this.rowStart[i + 1]; k++) acc += this.vals[k] * x[this.cols[k]];
      out[i] = acc;
    }
    return out;
  }

  /** out = Wᵀ·x. */
  multiplyTranspose(x: Float64Array, out: Float64Array): Float64Array {
    for (let i = 0; i < this.n; i++) out[i] = this.selfWeights[i] * x[i];
    for (let i = 0; i < this.n; i++) {
      const xi = x[i];
      for (let k = this.rowStart[i]; k < this.rowStart[i + 1]; k++) out[this.cols[k]] += this.vals[k] * xi;
    }
    return out;
  }

  private transpose(): { start: Uint32Array; rows: Uint32Array; vals: Float64Array } {
    if (this.transposed) return this.transposed;
    const n = this.n;
    const start = new Uint32Array(n + 1);
    for (let k = 0; k < this.cols.length; k++) start[this.cols[k] + 1]++;
    for (let i = 0; i < n; i++) start[i + 1] += start[i];
    const fill = start.slice(0, n);
    const rows = new Uint32Array(this.cols.length);
    const vals = new Float64Array(this.cols.length);
    for (let i = 0; i < n; i++) {
      for (let k = this.rowStart[i]; k < this.rowStart[i + 1]; k++) {
        const slot = fill[this.cols[k]]++;
        rows[slot] = i; // rows visited in ascending order, so each list comes out sorted
        vals[slot] = this.vals[k];
      }
    }
    this.transposed = { start, rows, vals };
    return this.transposed;
  }

  private checkPeer(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.n) throw new RangeError(`peer index ${i} is out of range 0..${this.n - 1}`);
  }
}

/** What a row builder returns for peer i: neighbours (any order, no repeats, not i) and weights. */
export interface RowSpec {
  readonly self: number;
  readonly peers: ArrayLike<number>;
  readonly weights: ArrayLike<number>;
}

/**
 * Builds a mixing matrix row by row. Entries are sorted by peer; a repeated peer, a peer out
 * of range, i itself in `peers`, or a non-finite weight is a ConfigError (weights of zero are
 * dropped so that `peers` lists only real links).
 */
export function mixingFromRows(n: number, rowOf: (i: number) => RowSpec): SparseMixing {
  const rows: RowSpec[] = [];
  let nnz = 0;
  for (let i = 0; i < n; i++) {
    const r = rowOf(i);
    if (r.peers.length !== r.weights.length) throw new ConfigError(`mixing row ${i}: ${r.peers.length} peers but ${r.weights.length} weights`);
    rows.push(r);
    nnz += r.peers.length;
  }
  const rowStart = new Uint32Array(n + 1);
  const cols = new Uint32Array(nnz);
  const vals = new Float64Array(nnz);
  const selfWeights = new Float64Array(n);
  let w = 0;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (!Number.isFinite(r.self)) throw new ConfigError(`mixing row ${i}: self weight ${r.self} is not finite`);
    selfWeights[i] = r.self;
    const order = Array.from({ length: r.peers.length }, (_, k) => k).sort((a, b) => r.peers[a] - r.peers[b]);
    let prev = -1;
    for (const k of order) {
      const j = r.peers[k];
      const x = r.weights[k];
      if (!Number.isInteger(j) || j < 0 || j >= n) throw new ConfigError(`mixing row ${i}: peer ${j} is out of range 0..${n - 1}`);
      if (j === i) throw new ConfigError(`mixing row ${i}: lists itself as a neighbour; put its own weight in self`);
      if (j === prev) throw new ConfigError(`mixing row ${i}: peer ${j} appears twice`);
      if (!Number.isFinite(x)) throw new ConfigError(`mixing row ${i}: weight for peer ${j} is ${x}, not finite`);
      prev = j;
      if (x === 0) continue;
      cols[w] = j;
      vals[w] = x;
      w++;
    }
    rowStart[i + 1] = w;
  }
  return new SparseMixing(n, rowStart, w === nnz ? cols : cols.slice(0, w), w === nnz ? vals : vals.slice(0, w), selfWeights);
}

/** A mixing matrix from a dense row-major n×n matrix (user-given weights). */
export function mixingFromDense(n: number, w: ArrayLike<number>): SparseMixing {
  if (w.length !== n * n) throw new ConfigError(`mixing matrix has ${w.length} entries, expected ${n}×${n} = ${n * n}`);
  return mixingFromRows(n, (i) => {
    const peers: number[] = [];
    const weights: number[] = [];
    for (let j = 0; j < n; j++) {
      if (j !== i && w[i * n + j] !== 0) {
        peers.push(j);
        weights.push(w[i * n + j]);
      }
    }
    return { self: w[i * n + i], peers, weights };
  });
}
