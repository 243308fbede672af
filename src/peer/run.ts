// Everything a run builds once from its config, the same way in the simulator and on a real
// peer: data and its partition, the model, the codec, the aggregation rule, the schedule, the
// mixing, and each peer's starting state from the run seed. One config and seed give every peer
// the same shard, initial model and minibatch stream wherever it runs.
import type { RunConfig } from './config.js';
import { initBackend, type BackendInfo } from '../compute/backend.js';
import { buildModel, type Model } from '../model/zoo.js';
import { initOptimizerState, type OptimizerState } from '../model/optimizer.js';
import { loadDataSource, partition, subset, type Dataset, type Partition } from '../data/index.js';
import type { Topology } from '../topology/schedules.js';
import { buildSchedule, type Schedule } from '../schedule/spec.js';
import { buildAggregation, type Aggregator } from '../aggregation/build.js';
import { cloneParams, type Params } from '../params/index.js';
import { buildCodec, checkCompressionFits, type UpdateCodec } from './codec.js';
import { RoundMixing } from './round-mixing.js';
import { Peer } from './peer.js';
import type { PeerId } from './transport.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';

/** Parts a library user brings instead of the ones the config names. */
export interface RunPlugins {
  /** A custom model (its input shape must match the dataset's samples). */
  readonly model?: Model;
  /** A custom topology over `config.peers` peers (gossip mode). */
  readonly topology?: Topology;
  /** A custom aggregation rule. */
  readonly aggregation?: Aggregator;
  /** Train and test sets already in memory instead of config.data (a browser tab's own file). */
  readonly data?: { readonly train: Dataset; readonly test: Dataset };
}

/** A run's shared parts, built once from its config. */
export interface Run {
  readonly config: RunConfig;
  readonly backend: BackendInfo;
  readonly model: Model;
  readonly train: Dataset;
  /** The evaluation set (the test split, cut to eval.testSamples). */
  readonly test: Dataset;
  readonly partition: Partition;
  readonly codec: UpdateCodec;
  readonly aggregator: Aggregator;
  readonly schedule: Schedule;
  /** The mixing of every gossip step (topology, or random pull under a budget). */
  readonly mixing: RoundMixing;
  /** The initial model all peers share (training.init: shared) and the server starts from. */
  readonly sharedInit: Params;
}

/** Loads data, builds model, codec, rule, schedule and mixing, and starts the compute backend. */
export async function buildRun(config: RunConfig, plugins: RunPlugins = {}, log: (line: string) => void = () => {}): Promise<Run> {
  const { seed } = config;
  const { train, test: fullTest } = plugins.data ?? loadDataSource(config.data, seed);
  const test =
    config.eval.testSamples && config.eval.testSamples < fullTest.n
      ? subset(fullTest, Uint32Array.from({ length: config.eval.testSamples }, (_, i) => i), fullTest.name)
      : fullTest;
  const model = plugins.model ?? buildModel(config.model, train.featureShape, train.numClasses);
  const featureSize = train.featureShape.reduce((a, b) => a * b, 1);
  if (model.inputShape.reduce((a, b) => a * b, 1) !== featureSize) {
    throw new ConfigError(`model: the model takes inputs of shape [${model.inputShape.join(', ')}], the data has samples of shape [${train.featureShape.join(', ')}]`);
  }
  if (plugins.topology && plugins.topology.n !== config.peers) {
    throw new ConfigError(`plugins.topology has ${plugins.topology.n} peers, the run has peers: ${config.peers}`);
  }
  const codec = buildCodec(config.compression, model.layout, seed);
  const aggregator = plugins.aggregation ?? buildAggregation(config.aggregation ?? { name: config.mode === 'gossip' ? 'gossip' : 'fedavg' });
  checkCompressionFits(config.mode === 'gossip' ? 'gossip' : 'federated', aggregator.spec.name, codec, config.compression.errorFeedback);
  const backend = await initBackend(config.backend, { convGradients: model.needsConvGradients }, log);
  return {
    config,
    backend,
    model,
    train,
    test,
    partition: partition(train, config.data.partition, config.peers, Rng.derive(seed, 'partition').nextUint32()),
    codec,
    aggregator,
    schedule: buildSchedule(config.schedule, config.rounds),
    mixing: new RoundMixing(config.topology, seed, plugins.topology),
    sharedInit: model.init(Rng.derive(seed, 'init').nextUint32()),
  };
}

/** Where a peer starts: its shard, and its model and optimizer state when it resumes. */
export interface PeerStart {
  readonly id: PeerId;
  /** Its shard of the partition (and its initial model's seed with training.init: own). */
  readonly shard: number;
  /** The round it starts at (a resumed peer's minibatch stream must not replay earlier rounds). */
  readonly firstRound?: number;
  readonly resume?: { readonly params: Params; readonly optimizer: OptimizerState };
  /** Train on these samples instead of its shard of the run's partition (a browser tab's own file). */
  readonly data?: Dataset;
}

/** A peer of the run: its shard's data, its initial model and its minibatch stream, all from the run seed. */
export function makePeer(run: Run, start: PeerStart): Peer {
  const { config, model } = run;
  const i = start.shard;
  if (!(Number.isInteger(i) && i >= 0 && i < config.peers)) throw new ConfigError(`data shard ${i}: need 0 ≤ shard < peers (${config.peers})`);
  const firstRound = start.firstRound ?? 0;
  const params = start.resume?.params ?? (config.training.init === 'shared' ? cloneParams(run.sharedInit) : model.init(Rng.derive(config.seed, 'init', i).nextUint32()));
  // A resumed peer continues its own minibatch stream (one batch per optimizer step it took), as
  // if it had never stopped; a late joiner without a checkpoint gets a stream of its first round.
  const fresh = firstRound === 0 || start.resume !== undefined;
  const peer = new Peer({
    id: start.id,
    index: i,
    params,
    optimizer: start.resume?.optimizer ?? initOptimizerState(config.training.optimizer, model.layout),
    data: start.data ?? subset(run.train, run.partition.indices[i], `${run.train.name}/shard${i}`),
    batchSize: config.training.batchSize,
    batchSeed: fresh ? Rng.derive(config.seed, 'batches', i).nextUint32() : Rng.derive(config.seed, 'batches', i, firstRound).nextUint32(),
  });
  for (let s = 0; s < (start.resume?.optimizer.step ?? 0); s++) peer.batches.next();
  return peer;
}
