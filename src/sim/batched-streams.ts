// Every simulated peer's minibatch stream as row indices, for the batched engine: the same
// samples, in the same order, as each peer's own batchIterator (src/data/batches.ts) with the
// same seed, but written as rows of the run's training set into one [P × B] index array per
// step. No sample is copied on the host: the engine gathers the rows on its device.
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';

/** What a peer's stream is: its samples (rows of the shared training set) and its batch seed. */
export interface StreamSpec {
  /** Training-set rows the peer holds, in its dataset's order (row r of its subset = rows[r]). */
  readonly rows: ArrayLike<number>;
  readonly seed: number;
}

/** P seeded minibatch streams of B samples each, drawn step by step into one index array. */
export class BatchStreams {
  readonly peers: number;
  private readonly rngs: Rng[];
  private readonly orders: Uint32Array[];
  private readonly rows: Uint32Array[];
  private readonly positions: Int32Array;
  private readonly out: Int32Array;

  constructor(
    specs: readonly StreamSpec[],
    readonly batchSize: number,
  ) {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new ConfigError(`training.batchSize must be an integer ≥ 1, got ${batchSize}`);
    this.peers = specs.length;
    this.rngs = [];
    this.orders = [];
    this.rows = [];
    specs.forEach((s, p) => {
      if (s.rows.length < 1) throw new ConfigError(`peer ${p} holds no samples; use fewer peers or more data.train`);
      const rng = new Rng(s.seed);
      // batchIterator draws its first permutation at construction: the same call here.
      this.orders.push(rng.permutation(s.rows.length));
      this.rngs.push(rng);
      this.rows.push(Uint32Array.from(s.rows));
    });
    this.positions = new Int32Array(this.peers);
    this.out = new Int32Array(this.peers * batchSize);
  }

  /** The next step's rows of every peer: entry p·B + b is sample b of peer p (the array is reused). */
  next(): Int32Array {
    const B = this.batchSize;
    for (let p = 0; p < this.peers; p++) {
      const order = this.orders[p];
      const rows = this.rows[p];
      const n = order.length;
      let pos = this.positions[p];
      for (let b = 0; b < B; b++) {
        this.out[p * B + b] = rows[order[pos++]];
        if (pos === n) {
          this.rngs[p].shuffle(order);
          pos = 0;
        }
      }
      this.positions[p] = pos;
    }
    return this.out;
  }
}
