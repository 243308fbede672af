// Pre-flight checks of a validated run config: everything that can be known before the first
// round and that the schema alone cannot see, because it needs the data, the partition or the
// topology built. `simulate`, `sweep`, `peer` and `cluster` call it before they create the run
// directory, so a config that would fail (or hang) mid-run fails here, naming the key.
import { buildCodec, checkCompressionFits } from './codec.js';
import { RoundMixing } from './round-mixing.js';
import type { RunConfig } from './config.js';
import { loadDataSource, partition, type Dataset } from '../data/index.js';
import { buildModel } from '../model/zoo.js';
import { buildAggregation } from '../aggregation/build.js';
import { ConfigError, GossipflError, InputError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import type { Graph } from '../topology/graph.js';

/** What pre-flight learnt on the way: the data's sizes and each peer's share. */
export interface PreflightReport {
  readonly trainSamples: number;
  readonly testSamples: number;
  readonly peerSamples: readonly number[];
}

/** Runs every pre-flight check; throws one ConfigError or InputError naming the key. */
export function preflight(config: RunConfig): PreflightReport {
  const { train, test } = keyed('data', () => loadDataSource(config.data, config.seed));
  checkModel(config, train);
  // The same seed as the run's partition, so the sizes are the ones the peers will get.
  const parts = keyed('data.partition', () => partition(train, config.data.partition, config.peers, Rng.derive(config.seed, 'partition').nextUint32()));
  const sizes = parts.indices.map((ids) => ids.length);
  const largest = Math.max(...sizes);
  if (config.training.batchSize > largest) {
    throw new ConfigError(
      `training.batchSize is ${config.training.batchSize}, larger than every peer's data (the largest share is ${largest} samples of ${train.n} over ${config.peers} peers); use a batch size of at most ${largest}`,
    );
  }
  if (config.mode === 'gossip') checkTopology(config);
  return { trainSamples: train.n, testSamples: test.n, peerSamples: sizes };
}

function checkModel(config: RunConfig, train: Dataset): void {
  const model = keyed('model', () => buildModel(config.model, train.featureShape, train.numClasses));
  const spec = config.aggregation ?? { name: config.mode === 'gossip' ? ('gossip' as const) : ('fedavg' as const) };
  const aggregation = spec.name;
  keyed('aggregation', () => buildAggregation(spec));
  const codec = keyed('compression', () => buildCodec(config.compression, model.layout, config.seed));
  checkCompressionFits(config.mode === 'gossip' ? 'gossip' : 'federated', aggregation, codec, config.compression.errorFeedback);
}

function checkTopology(config: RunConfig): void {
  const topology = keyed('topology', () => new RoundMixing(config.topology, config.seed).topology(config.peers));
  if (topology.n !== config.peers) {
    throw new ConfigError(`topology: the graph has ${topology.n} peers but the run has peers: ${config.peers}; make them equal`);
  }
  if (!topology.graph || config.allowDisconnected) return;
  const parts = components(topology.graph);
  if (parts.length > 1) {
    throw new ConfigError(
      `topology: the ${config.topology.name} graph falls apart into ${parts.length} components (${parts.map((c) => `{${ranges(c)}}`).join(', ')}), so they never mix; add edges that join them, or set allowDisconnected: true if that is intended`,
    );
  }
}

/** Weakly connected components of a graph (links taken both ways), each sorted, by lowest peer. */
export function components(g: Graph): number[][] {
  const parent = Int32Array.from({ length: g.n }, (_, i) => i);
  const find = (i: number): number => {
    while (parent[i] !== i) {
      parent[i] = parent[parent[i]];
      i = parent[i];
    }
    return i;
  };
  for (let i = 0; i < g.n; i++) {
    for (const j of g.adj[i]) {
      const a = find(i);
      const b = find(j);
      if (a !== b) parent[Math.max(a, b)] = Math.min(a, b);
    }
  }
  const byRoot = new Map<number, number[]>();
  for (let i = 0; i < g.n; i++) {
    const r = find(i);
    let list = byRoot.get(r);
    if (!list) byRoot.set(r, (list = []));
    list.push(i);
  }
  return [...byRoot.values()];
}

/** [0, 1, 2, 3, 5, 7, 8] → "0-3, 5, 7-8". */
export function ranges(sorted: readonly number[]): string {
  const out: string[] = [];
  for (let k = 0; k < sorted.length; ) {
    let end = k;
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end] + 1) end++;
    out.push(end === k ? `${sorted[k]}` : `${sorted[k]}-${sorted[end]}`);
    k = end + 1;
  }
  return out.join(', ');
}

/** Runs `f`; a gossipfl error from it that does not name its key gets `key:` in front. */
function keyed<T>(key: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    // Generators refuse impossible shapes (a random-regular degree, a torus) with RangeError.
    if (err instanceof RangeError) throw new ConfigError(`${key}: ${err.message}`, { cause: err });
    if (!(err instanceof GossipflError) || err.message.startsWith(`${key}:`) || err.message.startsWith(`${key}.`)) throw err;
    const Kind = err instanceof InputError ? InputError : ConfigError;
    throw new Kind(`${key}: ${err.message}`, { cause: err });
  }
}
