// The plain config of an aggregation rule: a discriminated union on `name`, as it appears in a
// simulation config file or a peer's flags, built from the rule registry (./registry.ts). The zod
// schema is exported so the simulator and the node validate configs with the same rules and messages.
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { cachedByGeneration, type SchemasOf } from '../util/registry.js';
import { aggregationRegistry, AGGREGATION_RULES } from './registry.js';

type RuleUnion = z.ZodDiscriminatedUnion<SchemasOf<typeof AGGREGATION_RULES>, 'name'>;
const union = (entries: readonly { schema: z.ZodObject }[]) => z.discriminatedUnion('name', entries.map((e) => e.schema) as [z.ZodObject, ...z.ZodObject[]]) as unknown as RuleUnion;

/** Zod schema of an aggregation spec, one shape per built-in rule (docs/config.md and `gossipfl schema` show these). */
export const aggregationSpecSchema = union(aggregationRegistry.builtIns);
/** The aggregation section with every registered rule, plug-ins included; rebuilt after a registration. */
export const currentAggregationSchema = cachedByGeneration(() => union(aggregationRegistry.entries));

/** One aggregation rule with its parameters; see docs/aggregation.md for each rule. */
export type AggregationSpec = z.infer<typeof aggregationSpecSchema>;
/** The name of an aggregation rule. */
export type AggregationName = AggregationSpec['name'];

/** Validates an untrusted config value; throws ConfigError naming the offending field (an unknown name lists the registered rules). */
export function parseAggregationSpec(value: unknown, where = 'aggregation'): AggregationSpec {
  const name = value !== null && typeof value === 'object' ? (value as { name?: unknown }).name : undefined;
  if (typeof name === 'string' && !aggregationRegistry.has(name)) {
    throw new ConfigError(`${where}.name: unknown aggregation rule '${name}' (registered: ${aggregationRegistry.names().join(', ')}; see docs/aggregation.md)`);
  }
  const parsed = currentAggregationSchema().safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.length ? `${where}.${issue.path.join('.')}` : where;
  throw new ConfigError(`${path}: ${issue.message} (see docs/aggregation.md)`);
}
