// k shards per peer (McMahan et al. 2017's pathological non-IID split): samples are grouped by
// label and cut into nPeers · k shards, and each peer is dealt k shards at random.
//
// Unlike a plain cut of the label-sorted list, shards never straddle two labels: class c gets
// a share of the shards in proportion to its size (largest remainder, at least one per
// present class) and its shuffled samples are cut into that many near-equal shards. So a
// peer holds at most k labels, exactly. This needs nPeers · k ≥ number of present classes,
// and nPeers · k ≤ n so that no shard is empty.
import { ConfigError } from '../../util/errors.js';
import { Rng } from '../../util/rng.js';
import { largestRemainder } from '../rounding.js';
import { checkPeers, finishPartition, shuffledClassPools, type LabeledData, type Partition } from './common.js';

/** Label shards: each peer is dealt `shardsPerPeer` single-label shards, so it holds at most that many labels. */
export function partitionShards(data: LabeledData, nPeers: number, seed: number, shardsPerPeer: number): Partition {
  if (!Number.isInteger(shardsPerPeer) || shardsPerPeer < 1) {
    throw new ConfigError(`shards shardsPerPeer must be an integer ≥ 1, got ${shardsPerPeer}`);
  }
  checkPeers(data, nPeers);
  const totalShards = nPeers * shardsPerPeer;
  if (totalShards > data.n) {
    throw new ConfigError(`shards: ${nPeers} peers × ${shardsPerPeer} shards = ${totalShards} shards, more than the ${data.n} samples; use fewer shards per peer`);
  }
  const rng = Rng.derive(seed, 'partition-shards');
  const pools = shuffledClassPools(data, (ids) => rng.shuffle(ids));
  const present = pools.filter((pool) => pool.length > 0).length;
  if (totalShards < present) {
    throw new ConfigError(
      `shards: ${totalShards} shards cannot cover ${present} classes without mixing labels in a shard; use at least ${Math.ceil(present / nPeers)} shards per peer`,
    );
  }
  const shardsPerClass = largestRemainder(
    pools.map((pool) => pool.length),
    totalShards,
  );
  // Every present class needs a shard; take them from the classes with the most shards.
  for (let c = 0; c < pools.length; c++) {
    if (pools[c].length > 0 && shardsPerClass[c] === 0) {
      const richest = shardsPerClass.indexOf(Math.max(...shardsPerClass));
      shardsPerClass[richest]--;
      shardsPerClass[c] = 1;
    }
  }
  const shards: Uint32Array[] = [];
  pools.forEach((pool, c) => {
    const s = shardsPerClass[c];
    for (let j = 0; j < s; j++) {
      shards.push(pool.subarray(Math.floor((j * pool.length) / s), Math.floor(((j + 1) * pool.length) / s)));
    }
  });
  rng.shuffle(shards);
  const perPeer: Uint32Array[] = [];
  for (let p = 0; p < nPeers; p++) {
    const dealt = shards.slice(p * shardsPerPeer, (p + 1) * shardsPerPeer);
    const ids = new Uint32Array(dealt.reduce((sum, shard) => sum + shard.length, 0));
    let offset = 0;
    for (const shard of dealt) {
      ids.set(shard, offset);
      offset += shard.length;
    }
    perPeer.push(ids);
  }
  return finishPartition(data, perPeer);
}
