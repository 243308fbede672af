// Topology configs as plain objects (what a YAML config or the CLI produces), their schema, and
// the factory the simulator and the node call: buildTopology(spec) → Topology. The schema is
// built from the topology registry (./registry.ts), so a registered topology is a config name.
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { cachedByGeneration } from '../util/registry.js';
import type { Graph } from './graph.js';
import { cycleTopologies, staticTopology, type Topology } from './schedules.js';
import { userWeights, weightsFor, type WeightScheme } from './weights.js';
import {
  baseGraphSchema,
  peerCount,
  SCHEDULES,
  STATIC_GRAPHS,
  topologyRegistry,
  weightsKey,
  type BaseGraphSpec,
  type BuildOptions,
  type BuiltGraph,
  type StaticGraphEntry,
  type TopologyEntry,
} from './registry.js';

export { baseGraphSchema, type BaseGraphSpec, type BuildOptions } from './registry.js';

/** The schema of an entry with `peers` required (the top level) or optional (a part or base, whose parent or run supplies it). */
type WithPeers<S, P extends z.ZodType> = S extends z.ZodObject<infer Shape, infer C> ? z.ZodObject<Omit<Shape, 'peers'> & { peers: P }, C> : never;
type Variant<E, P extends z.ZodType> = E extends { ownPeers?: true } ? (E extends { schema: infer S } ? S : never) : E extends { schema: infer S } ? WithPeers<S, P> : never;
type Variants<T extends readonly unknown[], P extends z.ZodType> = { -readonly [K in keyof T]: Variant<T[K], P> };
type StaticTuple = typeof STATIC_GRAPHS;
type ScheduleTuple = typeof SCHEDULES;
type PartUnion = z.ZodDiscriminatedUnion<[...Variants<StaticTuple, z.ZodOptional<typeof peerCount>>, ...Variants<ScheduleTuple, z.ZodOptional<typeof peerCount>>], 'name'>;
type CycleSchema = z.ZodObject<{ name: z.ZodLiteral<'cycle'>; peers: z.ZodOptional<typeof peerCount>; of: z.ZodArray<PartUnion> }, z.core.$strict>;
type TopologyUnion = z.ZodDiscriminatedUnion<[...Variants<StaticTuple, typeof peerCount>, ...Variants<ScheduleTuple, typeof peerCount>, CycleSchema], 'name'>;
type StaticUnion = z.ZodDiscriminatedUnion<Variants<StaticTuple, typeof peerCount>, 'name'>;

/** An entry's schema with the keys every topology has: `peers`, and `weights` for static graphs. */
function variant(e: TopologyEntry, peers: z.ZodType): z.ZodObject {
  if (e.kind === 'static' && e.ownPeers) return e.schema;
  const extra: Record<string, z.ZodType> = { peers };
  if (e.kind === 'static' && !('weights' in e.schema.shape)) extra.weights = weightsKey;
  return e.schema.extend(extra);
}

const union = (options: z.ZodObject[]) => z.discriminatedUnion('name', options as [z.ZodObject, ...z.ZodObject[]]);

/** The topology section built from a list of entries (the built-ins, or every registered one). */
function topologyUnion(entries: readonly TopologyEntry[]) {
  const part = union(entries.map((e) => variant(e, peerCount.optional())));
  const cycle = z.strictObject({
    name: z.literal('cycle'),
    peers: peerCount.optional(),
    of: z.array(part).min(1).describe('topologies used in turn: round t uses part t mod length; a part\'s `peers` defaults to the cycle\'s'),
  });
  return union([...entries.map((e) => variant(e, peerCount)), cycle]);
}

/** The schema of the built-in topologies (docs/config.md and `gossipfl schema` show these). */
export const topologySpecSchema = topologyUnion(topologyRegistry.builtIns) as unknown as TopologyUnion;
/** Zod schema of a static graph spec whose peer count is given. */
export const staticGraphSchema = union(STATIC_GRAPHS.map((e) => variant(e as unknown as TopologyEntry, peerCount))) as unknown as StaticUnion;
/** The topology section with every registered topology, plug-ins included; rebuilt after a registration. */
export const currentTopologySchema = cachedByGeneration(() => topologyUnion(topologyRegistry.entries) as unknown as TopologyUnion);

/** A topology as a config names it (validated by topologySpecSchema). */
export type TopologySpec = z.infer<TopologyUnion>;
/** A static graph spec with its peer count. */
export type StaticGraphSpec = z.infer<StaticUnion>;
/** The name of a topology kind. */
export type TopologyName = TopologySpec['name'];

/** Every built-in topology name a config accepts. */
export const TOPOLOGY_NAMES: readonly TopologyName[] = [...(topologyRegistry.names() as TopologyName[]), 'cycle'];
/** The names of the built-in static graphs. */
export const STATIC_GRAPH_NAMES: readonly StaticGraphSpec['name'][] = STATIC_GRAPHS.map((e) => e.name as StaticGraphSpec['name']);
/** The names of every registered static graph (async rounds need one), plug-ins included. */
export function staticGraphNames(): string[] {
  return topologyRegistry.entries.filter((e) => e.kind === 'static').map((e) => e.name);
}

/** Validates an untrusted config object; a ConfigError names the first problem and where it is. */
export function parseTopologySpec(input: unknown): TopologySpec {
  const name = input !== null && typeof input === 'object' ? (input as { name?: unknown }).name : undefined;
  if (typeof name === 'string' && name !== 'cycle') topologyRegistry.get(name);
  const r = currentTopologySchema().safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.length ? `topology.${issue.path.join('.')}` : 'topology';
  const known = issue.code === 'invalid_union' && issue.path.length === 0 ? ` (known: ${[...topologyRegistry.names(), 'cycle'].join(', ')})` : '';
  throw new ConfigError(`${where}: ${issue.message}${known}`);
}

const seedOf = (x: object, options: BuildOptions) => ('seed' in x && typeof x.seed === 'number' ? x.seed : undefined) ?? options.seed ?? 0;

/** Builds the topology a config describes; validates it first. */
export function buildTopology(spec: TopologySpec, options: BuildOptions = {}): Topology {
  const s = parseTopologySpec(spec);
  if (s.name === 'cycle') {
    if (s.peers === undefined && s.of.some((p) => p.peers === undefined)) {
      throw new ConfigError('topology: cycle needs peers, either on the cycle or on every part');
    }
    return cycleTopologies(s.of.map((part) => buildTopology({ ...part, peers: part.peers ?? s.peers } as TopologySpec, options)));
  }
  const entry = topologyRegistry.get(s.name);
  const ownSeed = seedOf(s, options);
  if (entry.kind === 'time-varying') {
    return entry.build(s as never, {
      seed: ownSeed,
      options,
      // A random base graph without its own seed is drawn from the schedule's seed.
      baseGraph: (base, peers) => base && buildGraph({ ...base, peers: base.peers ?? peers }, 'seed' in base && base.seed !== undefined ? base.seed : ownSeed, options).graph,
    });
  }
  const { graph, edgeWeights } = staticGraphOf(entry, s, ownSeed, options);
  const scheme = 'weights' in s ? (s.weights as WeightScheme | undefined) : undefined;
  if (edgeWeights) {
    if (scheme) throw new ConfigError(`topology: the edge list carries its own weights; remove weights: ${scheme}`);
    return staticTopology(s.name, userWeights(graph, edgeWeights), graph);
  }
  return staticTopology(s.name, weightsFor(graph, scheme ?? (graph.directed ? 'uniform' : 'metropolis-hastings')), graph);
}

/** Builds the graph of a static spec (and the user's edge weights, when an edge list has them). */
export function buildGraph(spec: BaseGraphSpec, seed: number, options: BuildOptions = {}): BuiltGraph & { graph: Graph } {
  const entry = topologyRegistry.get(spec.name);
  if (entry.kind !== 'static') throw new ConfigError(`topology: ${spec.name} changes with the round; a base graph must be static (${staticGraphNames().join(', ')})`);
  return staticGraphOf(entry, spec, seed, options);
}

function staticGraphOf(entry: StaticGraphEntry, spec: { name: string; peers?: number }, seed: number, options: BuildOptions): BuiltGraph {
  if (!entry.ownPeers && spec.peers === undefined) throw new ConfigError(`topology: ${spec.name} needs peers`);
  return entry.graph(spec as never, seed, options);
}
