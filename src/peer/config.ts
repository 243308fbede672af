// The run configuration: one YAML or JSON file validated by a zod schema. Unknown keys and bad
// values are refused with a message naming the key path. The schema is assembled here from its
// sections (config-run.ts: what every run reads; config-sim.ts: the simulator's) and the plug-in
// registries; config-checks.ts holds the cross-key rules. The same schema generates
// docs/config.md, so documentation cannot drift from what is accepted.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import YAML from 'yaml';
import { ConfigError } from '../util/errors.js';
import { cachedByGeneration } from '../util/registry.js';
import { applyOverrides } from './overrides.js';
import { currentTopologySchema, topologySpecSchema } from '../topology/spec.js';
import { aggregationSpecSchema, currentAggregationSchema } from '../aggregation/spec.js';
import { datasetRegistry } from '../data/registry.js';
import { modelRegistry } from '../model/registry.js';
import { scheduleSpecSchema } from '../schedule/spec.js';
import { currentCompressionSchema } from '../compression/index.js';
import { privacySpecSchema } from '../privacy/spec.js';
import {
  compressionSchema,
  dataSection,
  evalSchema,
  federatedSchema,
  modelSection,
  modeSchema,
  modestSchema,
  positiveInt,
  timingSchema,
  trainingSchema,
} from './config-run.js';
import { attackSchema, engineSchema, heterogeneitySchema, networkSchema } from './config-sim.js';
import { checkConsistency, checkWritten } from './config-checks.js';

/** The sections that come from the registries: the built-ins' (docs, `gossipfl schema`) or every registered one's. */
interface RegistrySections {
  readonly data: ReturnType<typeof dataSection>;
  readonly model: ReturnType<typeof modelSection>;
  readonly topology: typeof topologySpecSchema;
  readonly aggregation: typeof aggregationSpecSchema;
  readonly compression: typeof compressionSchema;
}

/** The whole config schema, key by key in the order docs/config.md lists them. */
function buildConfigSchema(r: RegistrySections) {
  return z
    .strictObject({
      name: z.string().default('run').describe('label used in reports'),
      seed: z.number().int().min(0).default(1).describe('seed of every random choice in the run'),
      peers: z.number().int().min(2).default(16).describe('number of peers (≥ 2)'),
      rounds: positiveInt.default(30).describe('communication rounds to run'),
      backend: z.enum(['auto', 'webgpu', 'tensorflow', 'wasm', 'cpu']).default('auto').describe('tfjs backend; auto takes the fastest that starts'),
      engine: engineSchema,
      mode: modeSchema,
      modest: modestSchema,
      data: r.data
        .default({ dataset: 'mnist', train: 8000, test: 2000, partition: { kind: 'iid' } })
        .describe('the dataset and how its training samples are split over peers'),
      model: r.model.default({ kind: 'mlp', hidden: [128] }).describe('the model every peer trains'),
      training: trainingSchema,
      topology: r.topology.describe('gossip mode: the topology (see docs/topology.md); `peers` defaults to the run\'s'),
      allowDisconnected: z
        .boolean()
        .default(false)
        .describe('gossip: run even when the topology\'s graph falls apart into several components (each then learns on its own); by default such a run is refused with the components named'),
      aggregation: r.aggregation.optional().describe('default: gossip in gossip mode, fedavg in federated mode (see docs/aggregation.md)'),
      compression: r.compression
        .default({ method: 'identity', errorFeedback: 'none' })
        .describe('how updates are compressed on the wire (see docs/compression.md)'),
      schedule: scheduleSpecSchema.describe('local steps per round, gossip budget r(progress), exact merges (see docs/schedules.md)'),
      federated: federatedSchema,
      heterogeneity: heterogeneitySchema,
      network: networkSchema,
      attack: attackSchema,
      privacy: privacySpecSchema
        .optional()
        .describe('differential privacy of the peers\' updates: clipping, Gaussian noise, ε reported for δ (see docs/privacy.md)'),
      eval: evalSchema,
      timing: timingSchema,
    })
    .describe('a gossipfl run');
}

/** Zod schema of a run config with the built-in plug-ins; docs/config.md and `gossipfl schema` are generated from it. */
export const configSchema = buildConfigSchema({
  data: dataSection(datasetRegistry.builtIns),
  model: modelSection(modelRegistry.builtIns),
  topology: topologySpecSchema,
  aggregation: aggregationSpecSchema,
  compression: compressionSchema,
});

/** The schema parseConfig validates with: configSchema plus every registered plug-in, rebuilt after a registration. */
export const currentConfigSchema = cachedByGeneration(() =>
  buildConfigSchema({
    data: dataSection(datasetRegistry.entries),
    model: modelSection(modelRegistry.entries),
    topology: currentTopologySchema(),
    aggregation: currentAggregationSchema(),
    compression: currentCompressionSchema(),
  }),
);

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
  const result = currentConfigSchema().safeParse(withDefaults(raw));
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
  checkWritten(raw, source);
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
