// What every partitioner returns, and the checks and bookkeeping they share.
import { ConfigError } from '../../util/errors.js';
import { labelHistogram } from '../dataset.js';

/** The part of a Dataset a partitioner looks at. */
export interface LabeledData {
  readonly y: ArrayLike<number>;
  readonly n: number;
  readonly numClasses: number;
  readonly name?: string;
}

/** Which samples each peer holds, and each peer's label histogram. */
export interface Partition {
  /** Sample ids of each peer, ascending; every sample belongs to exactly one peer. */
  readonly indices: Uint32Array[];
  /** histograms[peer][class] = how many of the peer's samples have that class. */
  readonly histograms: number[][];
}

export function checkPeers(data: LabeledData, nPeers: number, minPerPeer = 1): void {
  if (!Number.isInteger(nPeers) || nPeers < 1) throw new ConfigError(`number of peers must be an integer ≥ 1, got ${nPeers}`);
  if (nPeers * minPerPeer > data.n) {
    const what = data.name ? `dataset ${data.name}` : 'the dataset';
    throw new ConfigError(
      `cannot give ${nPeers} peers at least ${minPerPeer} sample${minPerPeer === 1 ? '' : 's'} each: ${what} has only ${data.n}; use fewer peers or more data`,
    );
  }
}

/** Sorts each peer's ids and counts their labels. */
export function finishPartition(data: LabeledData, perPeer: ArrayLike<number>[]): Partition {
  const indices = perPeer.map((ids) => Uint32Array.from(ids).sort());
  const histograms = indices.map((ids) => labelHistogram(data.y, data.numClasses, ids));
  return { indices, histograms };
}

/** Sample ids of each class, each list in a seeded random order. */
export function shuffledClassPools(data: LabeledData, shuffle: (ids: Uint32Array) => void): Uint32Array[] {
  const counts = labelHistogram(data.y, data.numClasses);
  const pools = counts.map((c) => new Uint32Array(c));
  const fill = new Array<number>(data.numClasses).fill(0);
  for (let i = 0; i < data.n; i++) pools[data.y[i]][fill[data.y[i]]++] = i;
  for (const pool of pools) shuffle(pool);
  return pools;
}
