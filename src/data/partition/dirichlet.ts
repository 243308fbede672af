// Dirichlet label skew, the per-class scheme of Yurochkin et al. 2019 and Hsu et al. 2019 as
// used in FedLab / FedML: for each class c, draw proportions q ~ Dir(α, ..., α) over the
// peers and cut the class's shuffled samples at floor(n_c · (q_1 + ... + q_j)), so peer j gets
// n_c·q_j samples of class c, rounded down or up. Small α puts most of a class on few peers;
// large α gives every peer about n_c / nPeers of every class.
//
// Minimum size: small α leaves some peers with no samples at all. Rather than redraw until
// every peer has enough (which may never end), each peer below `minPerPeer` (default 1) takes
// random samples, one at a time, from the currently largest peer. The largest peers are
// dominated by one or two classes when α is small, so the repair keeps the skew. It is
// possible exactly when n ≥ nPeers · minPerPeer; otherwise a ConfigError says so.
import { ConfigError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { checkPeers, finishPartition, shuffledClassPools, type LabeledData, type Partition } from './common.js';

/** Dirichlet(α) label skew: each class is split over peers in Dir(α) proportions; every peer gets at least `minPerPeer` samples. */
export function partitionDirichlet(data: LabeledData, nPeers: number, seed: number, alpha: number, minPerPeer = 1): Partition {
  if (!(alpha > 0) || !Number.isFinite(alpha)) throw new ConfigError(`dirichlet alpha must be a finite number > 0, got ${alpha}`);
  if (!Number.isInteger(minPerPeer) || minPerPeer < 0) {
    throw new ConfigError(`dirichlet minPerPeer must be an integer ≥ 0, got ${minPerPeer}`);
  }
  checkPeers(data, nPeers, minPerPeer);
  const rng = Rng.derive(seed, 'partition-dirichlet');
  const pools = shuffledClassPools(data, (ids) => rng.shuffle(ids));
  const perPeer: number[][] = Array.from({ length: nPeers }, () => []);
  for (const pool of pools) {
    if (pool.length === 0) continue;
    const q = rng.dirichlet(alpha, nPeers);
    let cumulative = 0;
    let from = 0;
    for (let p = 0; p < nPeers; p++) {
      cumulative += q[p];
      const to = p === nPeers - 1 ? pool.length : Math.min(pool.length, Math.floor(cumulative * pool.length));
      for (let k = from; k < to; k++) perPeer[p].push(pool[k]);
      from = Math.max(from, to);
    }
  }
  topUpSmallPeers(perPeer, minPerPeer, rng);
  return finishPartition(data, perPeer);
}

/** Moves random samples from the largest peer to each peer below the minimum. */
function topUpSmallPeers(perPeer: number[][], minPerPeer: number, rng: Rng): void {
  for (let needy = 0; needy < perPeer.length; needy++) {
    while (perPeer[needy].length < minPerPeer) {
      let donor = 0;
      for (let p = 1; p < perPeer.length; p++) if (perPeer[p].length > perPeer[donor].length) donor = p;
      // checkPeers guaranteed n ≥ nPeers · minPerPeer, so the largest peer has a spare sample.
      const ids = perPeer[donor];
      const k = rng.int(ids.length);
      perPeer[needy].push(ids[k]);
      ids[k] = ids[ids.length - 1];
      ids.pop();
    }
  }
}
