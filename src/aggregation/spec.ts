// The plain config of an aggregation rule: a discriminated union on `name`, as it appears in a
// simulation config file or a peer's flags. The zod schema is exported so the simulator and
// the node validate configs with the same rules and messages.
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';

const faults = z.number().int().min(0);
const positive = z.number().positive().finite();

/** Zod schema of an aggregation spec, one shape per rule. */
export const aggregationSpecSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('fedavg') }),
  z.strictObject({ name: z.literal('gossip') }),
  z.strictObject({ name: z.literal('choco-gossip'), stepSize: positive.max(1).optional() }),
  z.strictObject({
    name: z.literal('vca'),
    selfWeight: z.number().min(0).max(1).optional(),
    targetVariance: z.enum(['follow-others', 'mix', 'own']).optional(),
    epsilon: z.number().min(0).finite().optional(),
  }),
  z.strictObject({ name: z.literal('median'), f: faults.optional(), includeSelf: z.boolean().optional() }),
  z.strictObject({ name: z.literal('trimmed-mean'), f: faults, includeSelf: z.boolean().optional() }),
  z.strictObject({ name: z.literal('krum'), f: faults, m: z.number().int().min(1).optional(), includeSelf: z.boolean().optional() }),
  z.strictObject({ name: z.literal('nna'), f: faults }),
  z.strictObject({ name: z.literal('fedau'), serverLr: positive.optional() }),
  z.strictObject({ name: z.literal('fedavg-m'), serverLr: positive, localLr: positive, localSteps: z.number().int().min(1) }),
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
