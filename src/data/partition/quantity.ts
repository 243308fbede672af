// Quantity skew: peers get very different amounts of IID data. The peer of rank r (1-based)
// gets 1 + (its share of the other n − nPeers samples in proportion to r^(−exponent)),
// apportioned by largest remainder, so sizes follow the power law to within one sample, never
// increase with rank, and are ≥ 1. Ranks go to peers in a seeded random order; samples are a
// seeded permutation cut into runs of those sizes. exponent 0 gives equal sizes.
import { ConfigError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { largestRemainder } from '../rounding.js';
import { checkPeers, finishPartition, type LabeledData, type Partition } from './common.js';

/** Sizes by rank (largest first) for n samples over nPeers peers. */
export function powerLawSizes(n: number, nPeers: number, exponent: number): number[] {
  const weights = Array.from({ length: nPeers }, (_, r) => Math.pow(r + 1, -exponent));
  return largestRemainder(weights, n - nPeers).map((s) => s + 1);
}

/** Quantity skew: IID samples in power-law sizes (rank r gets a share ∝ r^(−exponent)), ranks assigned at random. */
export function partitionQuantity(data: LabeledData, nPeers: number, seed: number, exponent: number): Partition {
  if (!(exponent >= 0) || !Number.isFinite(exponent)) {
    throw new ConfigError(`quantity exponent must be a finite number ≥ 0, got ${exponent}`);
  }
  checkPeers(data, nPeers);
  const rng = Rng.derive(seed, 'partition-quantity');
  const sizes = powerLawSizes(data.n, nPeers, exponent);
  const rankOfPeer = rng.permutation(nPeers);
  const perm = rng.permutation(data.n);
  const starts = new Array<number>(nPeers);
  let offset = 0;
  for (let r = 0; r < nPeers; r++) {
    starts[r] = offset;
    offset += sizes[r];
  }
  const perPeer: Uint32Array[] = [];
  for (let p = 0; p < nPeers; p++) {
    const r = rankOfPeer[p];
    perPeer.push(perm.subarray(starts[r], starts[r] + sizes[r]));
  }
  return finishPartition(data, perPeer);
}
