// The sections of a run config that every run reads, in the simulator and on real peers: the
// data and its partition, the model, local training, the aggregation rule, compression, the
// schedule, the modes' own settings, privacy, evaluation and timing. The data, model, topology
// and aggregation sections are built from their registries (src/*/registry.ts), so a registered
// plug-in is a name the config accepts.
import { z } from 'zod';
import type { ExtendedSchemasOf, SchemasOf } from '../util/registry.js';
import { datasetRegistry, DATASETS } from '../data/registry.js';
import { modelRegistry, MODELS } from '../model/registry.js';

export const positiveInt = z.number().int().min(1);
export const probability = z.number().min(0).max(1);

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

/** Every dataset's section carries how its training samples are split over peers. */
const partitionKey = { partition: partitionSchema.default({ kind: 'iid' }).describe('how the training samples are split over peers') };
type DataUnion = z.ZodDiscriminatedUnion<ExtendedSchemasOf<typeof DATASETS, typeof partitionKey>, 'dataset'>;
type ModelUnion = z.ZodDiscriminatedUnion<SchemasOf<typeof MODELS>, 'kind'>;

/** The data section over a list of dataset entries (the built-ins, or every registered one). */
export function dataSection(entries: typeof datasetRegistry.entries): DataUnion {
  return z.discriminatedUnion('dataset', entries.map((e) => e.schema.extend(partitionKey)) as unknown as [z.ZodObject, ...z.ZodObject[]]) as unknown as DataUnion;
}

/** The model section over a list of model entries. */
export function modelSection(entries: typeof modelRegistry.entries): ModelUnion {
  return z.discriminatedUnion('kind', entries.map((e) => e.schema) as [z.ZodObject, ...z.ZodObject[]]) as unknown as ModelUnion;
}

export const optimizerSchema = z.discriminatedUnion('kind', [
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

/** The compression section with the built-in methods; the registry's plug-ins add variants (currentCompressionSchema). */
export { compressionSchema } from '../compression/index.js';

export const modeSchema = z
  .enum(['gossip', 'federated', 'all-reduce', 'modest'])
  .default('gossip')
  .describe(
    'gossip: peers average neighbours over a topology; federated: a server averages sampled peers; all-reduce: serverless FedAvg, every peer averages the round\'s change with all others through a group compressor; modest: decentralized sampling (trainers and aggregators drawn by hash each round)',
  );

export const modestSchema = z
  .strictObject({
    trainers: positiveInt.default(10).describe('s: peers that train each round'),
    aggregators: positiveInt.default(1).describe('a: peers that average each round'),
    successFraction: z.number().gt(0).max(1).default(1).describe('sf: an aggregator averages once ⌊s·sf⌋ models arrived (or at the deadline)'),
  })
  .default({ trainers: 10, aggregators: 1, successFraction: 1 })
  .describe('mode modest only (defaults as in the MoDeST paper)');

export const trainingSchema = z
  .strictObject({
    batchSize: positiveInt.default(32).describe('samples per local step'),
    optimizer: optimizerSchema.default({ kind: 'sgd', lr: 0.05 }).describe('the local optimizer'),
    init: z.enum(['shared', 'independent']).default('shared').describe('one initial model for all peers, or one per peer'),
  })
  .default({ batchSize: 32, optimizer: { kind: 'sgd', lr: 0.05 }, init: 'shared' })
  .describe('local training: batch size, optimizer, initial models');

export const federatedSchema = z
  .strictObject({
    participation: z.number().gt(0).max(1).default(1).describe('fraction of live peers sampled each round'),
  })
  .default({ participation: 1 })
  .describe('mode federated only');

export const evalSchema = z
  .strictObject({
    every: positiveInt.default(5).describe('evaluate every k rounds (and always the last)'),
    testSamples: positiveInt.optional().describe('evaluate on the first n test samples (default all)'),
    localPeers: positiveInt.optional().describe('evaluate at most this many local models (default all live peers)'),
  })
  .default({ every: 5 })
  .describe('when and on how much the models are evaluated');

export const timingSchema = z
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
  .describe('how rounds are timed: in step, or asynchronous with bounded staleness; stragglers');
