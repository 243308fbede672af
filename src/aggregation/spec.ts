// The plain config of an aggregation rule: a discriminated union on `name`, as it appears in a
// simulation config file or a peer's flags. The zod schema is exported so the simulator and
// the node validate configs with the same rules and messages.
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';

const faults = z.number().int().min(0);
const positive = z.number().positive().finite();
const includeSelf = z
  .boolean()
  .optional()
  .describe('aggregate the own model together with the received ones (default true; set false for a server aggregating clients)');

/** Zod schema of an aggregation spec, one shape per rule. */
export const aggregationSpecSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('fedavg') }),
  z.strictObject({ name: z.literal('gossip') }),
  z.strictObject({ name: z.literal('choco-gossip'), stepSize: positive.max(1).optional().describe('γ: consensus step size, in (0, 1] (default 1)') }),
  z.strictObject({
    name: z.literal('vca'),
    selfWeight: z.number().min(0).max(1).optional().describe('c: weight of the own model in the average, in [0, 1] (default 0.5)'),
    targetVariance: z
      .enum(['follow-others', 'mix', 'own'])
      .optional()
      .describe('variance each tensor is rescaled to: the received models\' mean variance, its mix with the own (weight c), or the own (default follow-others)'),
    epsilon: z.number().min(0).finite().optional().describe('ε added to both variances in the rescaling factor, for stability (default 1e-4)'),
  }),
  z.strictObject({
    name: z.literal('median'),
    f: faults.optional().describe('f: faulty contributions to withstand; groups smaller than 2f + 1 are refused (default 0)'),
    includeSelf,
  }),
  z.strictObject({
    name: z.literal('trimmed-mean'),
    f: faults.describe('f: values dropped at each end of every coordinate; groups smaller than 2f + 1 are refused'),
    includeSelf,
  }),
  z.strictObject({
    name: z.literal('krum'),
    f: faults.describe('f: faulty contributions to withstand; groups smaller than 2f + 1 are refused'),
    m: z.number().int().min(1).optional().describe('lowest-scoring members averaged: 1 is Krum, more is Multi-Krum (default 1)'),
    includeSelf,
  }),
  z.strictObject({ name: z.literal('nna'), f: faults.describe('f: faulty contributions to withstand; groups smaller than 2f + 1 are refused') }),
  z.strictObject({ name: z.literal('fedau'), serverLr: positive.optional().describe('γ: server step size (default 1)') }),
  ...(['fedadagrad', 'fedyogi', 'fedadam'] as const).map((name) =>
    z.strictObject({
      name: z.literal(name),
      serverLr: positive.describe('η: server learning rate of the adaptive step (Reddi et al. 2021 tune it per task, e.g. 1e-2 to 1)'),
      beta1: z.number().min(0).lt(1).optional().describe('β1: momentum of the pseudo-gradient, in [0, 1) (default 0.9)'),
      beta2: z.number().min(0).lt(1).optional().describe('β2: decay of the second moment, in [0, 1) (default 0.99; FedAdagrad ignores it)'),
      tau: positive.optional().describe('τ: adaptivity, added to √v; v starts at τ² (default 1e-3)'),
    }),
  ),
  z.strictObject({
    name: z.literal('fedprox'),
    mu: z.number().min(0).finite().describe('μ: weight of the proximal term (μ/2)‖w − w_round‖² in local training; 0 is FedAvg'),
  }),
  z.strictObject({
    name: z.literal('scaffold'),
    serverLr: positive.optional().describe('η_g: global step size on the mean client change (default 1)'),
  }),
  z.strictObject({
    name: z.literal('d2'),
    lazy: z.boolean().optional().describe('mix with (I + W)/2 (Exact Diffusion, stable for any symmetric W; default true) or with W as in D² (needs λ_min(W) > −1/3)'),
  }),
  z.strictObject({
    name: z.literal('fedavg-m'),
    serverLr: positive.describe('γ: server step size'),
    localLr: positive.describe('η: the clients\' local learning rate'),
    localSteps: z.number().int().min(1).describe('K: local steps per round'),
  }),
]);

/** One aggregation rule with its parameters; see docs/aggregation.md for each rule. */
export type AggregationSpec = z.infer<typeof aggregationSpecSchema>;
/** The name of an aggregation rule. */
export type AggregationName = AggregationSpec['name'];

/** Validates an untrusted config value; throws ConfigError naming the offending field. */
export function parseAggregationSpec(value: unknown, where = 'aggregation'): AggregationSpec {
  const parsed = aggregationSpecSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.length ? `${where}.${issue.path.join('.')}` : where;
  throw new ConfigError(`${path}: ${issue.message} (see docs/aggregation.md)`);
}
