// Partitioners and the factory that picks one from a plain config value.
import { ConfigError } from '../../util/errors.js';
import type { LabeledData, Partition } from './common.js';
import { partitionDirichlet } from './dirichlet.js';
import { partitionIid } from './iid.js';
import { partitionQuantity } from './quantity.js';
import { partitionShards } from './shards.js';

export type { LabeledData, Partition } from './common.js';
export { partitionIid } from './iid.js';
export { partitionDirichlet } from './dirichlet.js';
export { partitionShards } from './shards.js';
export { partitionQuantity, powerLawSizes } from './quantity.js';

/** How to split training data among peers: IID, Dirichlet label skew, label shards or power-law quantity skew. */
export type PartitionSpec =
  | { kind: 'iid' }
  /** minPerPeer: every peer gets at least this many samples (default 1). */
  | { kind: 'dirichlet'; alpha: number; minPerPeer?: number }
  | { kind: 'shards'; shardsPerPeer: number }
  | { kind: 'quantity'; exponent: number };

/** Splits the samples of `data` among nPeers peers as `spec` says; same seed, same split. */
export function partition(data: LabeledData, spec: PartitionSpec, nPeers: number, seed: number): Partition {
  if (!Number.isFinite(seed)) throw new ConfigError(`partition seed must be a finite number, got ${seed}`);
  switch (spec.kind) {
    case 'iid':
      return partitionIid(data, nPeers, seed);
    case 'dirichlet':
      return partitionDirichlet(data, nPeers, seed, spec.alpha, spec.minPerPeer);
    case 'shards':
      return partitionShards(data, nPeers, seed, spec.shardsPerPeer);
    case 'quantity':
      return partitionQuantity(data, nPeers, seed, spec.exponent);
    default:
      throw new ConfigError(
        `unknown partition kind '${(spec as { kind: unknown }).kind}'; use 'iid', 'dirichlet', 'shards' or 'quantity'`,
      );
  }
}
