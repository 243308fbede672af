// IID: a seeded permutation cut into nPeers consecutive runs whose sizes differ by at most 1.
import { Rng } from '../../util/rng.js';
import { checkPeers, finishPartition, type LabeledData, type Partition } from './common.js';

/** A seeded random permutation cut into nPeers near-equal parts. */
export function partitionIid(data: LabeledData, nPeers: number, seed: number): Partition {
  checkPeers(data, nPeers);
  const perm = Rng.derive(seed, 'partition-iid').permutation(data.n);
  const perPeer: Uint32Array[] = [];
  for (let p = 0; p < nPeers; p++) {
    perPeer.push(perm.subarray(Math.floor((p * data.n) / nPeers), Math.floor(((p + 1) * data.n) / nPeers)));
  }
  return finishPartition(data, perPeer);
}
