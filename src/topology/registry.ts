// The registry of topologies: one entry per name, with its parameters (a zod object), how to
// build it, and what it is (a static graph or a schedule that changes with the round, whether it
// draws at random, whether it needs a degree). The config's topology section, TOPOLOGY_NAMES,
// STATIC_GRAPH_NAMES and docs/config.md derive from it. A new topology is one entry (its own file
// or a line here) added to STATIC_GRAPHS or SCHEDULES, or, from code, topologyRegistry.register().
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { Registry, type SchemasOf } from '../util/registry.js';
import { parseEdgeList, readEdgeList, type EdgeList } from './edge-list.js';
import { complete, exponential, grid, ring, star, torus } from './generators.js';
import { checkPeerCount, graphFromPairs, type Graph } from './graph.js';
import { erdosRenyi, randomRegular, wattsStrogatz } from './random-graphs.js';
import { onePeerExponential, randomMatching, randomPull, type Topology } from './schedules.js';

/** Options for building a topology from its spec. */
export interface BuildOptions {
  /** Seed for random graphs and schedules whose spec has none (default 0). */
  readonly seed?: number;
  /** Folder that relative edge-list paths are read from (default: the working directory). */
  readonly baseDir?: string;
}

/** A graph built from a static spec, with the user's edge weights when an edge list has them. */
export interface BuiltGraph {
  readonly graph: Graph;
  /** The user's weight of edge (i, j), 0 when absent; only for edge lists with weights. */
  readonly edgeWeights?: (i: number, j: number) => number;
}

/** What a topology is, for the config's checks and docs/config.md. */
export interface TopologyCapabilities {
  /** static: the same mixing every round (async rounds need one); time-varying: a schedule over rounds. */
  readonly kind: 'static' | 'time-varying';
  /** Draws at random (reads `seed`, default the run seed). */
  readonly random: boolean;
  /** Needs the degree of every peer (`degree`). */
  readonly needsDegree: boolean;
}

/** A static graph: mixing weights follow from the graph (`weights`), or from the edge list itself. */
export interface StaticGraphEntry<S extends z.ZodObject = z.ZodObject> extends TopologyCapabilities {
  readonly kind: 'static';
  readonly name: string;
  readonly summary: string;
  /** Parameters; `peers` (optional here) and `weights` are added where missing. */
  readonly schema: S;
  /** The graph keeps its own optional `peers` (an edge list counts its peers itself). */
  readonly ownPeers?: boolean;
  graph(spec: z.output<S> & { peers: number }, seed: number, options: BuildOptions): BuiltGraph;
}

/** What a schedule's factory gets besides its spec. */
export interface ScheduleContext {
  /** The spec's seed, else the run's. */
  readonly seed: number;
  readonly options: BuildOptions;
  /** The graph of a `base` spec (its peers default to the schedule's; a random base without a seed draws from the schedule's). */
  baseGraph(base: BaseGraphSpec | undefined, peers: number): Graph | undefined;
}

/** A topology whose mixing changes with the round. */
export interface ScheduleEntry<S extends z.ZodObject = z.ZodObject> extends TopologyCapabilities {
  readonly kind: 'time-varying';
  readonly name: string;
  readonly summary: string;
  /** Parameters; `peers` (optional here) is added where missing. */
  readonly schema: S;
  build(spec: z.output<S> & { peers: number }, ctx: ScheduleContext): Topology;
}

export type TopologyEntry = StaticGraphEntry | ScheduleEntry;

/** An entry with its own schema type kept (the config's types follow from these). */
/** Entries with their schema's type kept, so the factory sees the typed spec (use them for a plug-in too). */
export function defineStaticGraph<const S extends z.ZodObject, const O extends boolean = false>(e: StaticGraphEntry<S> & { ownPeers?: O }): StaticGraphEntry<S> & { ownPeers?: O } {
  return e;
}
export function defineSchedule<const S extends z.ZodObject>(e: ScheduleEntry<S>): ScheduleEntry<S> {
  return e;
}

/** `peers` of a topology; required at the top level, optional where a parent supplies it. */
export const peerCount = z.number().int().min(2, 'peers must be at least 2').describe('number of peers (≥ 2); defaults to the enclosing spec\'s or the run\'s `peers`');
const peers = peerCount.optional();
const seed = z.number().int().optional().describe('seed of the random draws (default: the run seed)');
export const weightsKey = z
  .enum(['metropolis-hastings', 'uniform'])
  .optional()
  .describe('mixing weights from the graph: Metropolis–Hastings (symmetric, doubly stochastic) or uniform over self and neighbours; default metropolis-hastings, uniform for directed graphs');
const weights = weightsKey;
const rows = z.number().int().optional().describe('rows of the lattice, a divisor of peers (default: the divisor nearest √peers from below)');
const plain = { random: false, needsDegree: false } as const;

/** The built-in static graphs, in the order the config lists them. */
export const STATIC_GRAPHS = [
  defineStaticGraph({ kind: 'static', ...plain, name: 'ring', summary: 'cycle 0–1–…–(n−1)–0', schema: z.strictObject({ name: z.literal('ring'), peers, weights }), graph: (s) => ({ graph: ring(s.peers) }) }),
  defineStaticGraph({ kind: 'static', ...plain, name: 'torus', summary: '2-D lattice with wrap-around', schema: z.strictObject({ name: z.literal('torus'), peers, rows, weights }), graph: (s) => ({ graph: torus(s.peers, s.rows) }) }),
  defineStaticGraph({ kind: 'static', ...plain, name: 'grid', summary: '2-D lattice without wrap-around', schema: z.strictObject({ name: z.literal('grid'), peers, rows, weights }), graph: (s) => ({ graph: grid(s.peers, s.rows) }) }),
  defineStaticGraph({ kind: 'static', ...plain, name: 'complete', summary: 'every peer linked to every other', schema: z.strictObject({ name: z.literal('complete'), peers, weights }), graph: (s) => ({ graph: complete(s.peers) }) }),
  defineStaticGraph({ kind: 'static', ...plain, name: 'star', summary: 'peer 0 linked to all others', schema: z.strictObject({ name: z.literal('star'), peers, weights }), graph: (s) => ({ graph: star(s.peers) }) }),
  defineStaticGraph({ kind: 'static', ...plain, name: 'exponential', summary: 'directed: peer i hears from i + 2^j', schema: z.strictObject({ name: z.literal('exponential'), peers, weights }), graph: (s) => ({ graph: exponential(s.peers) }) }),
  defineStaticGraph({
    kind: 'static',
    random: true,
    needsDegree: true,
    name: 'random-regular',
    summary: 'seeded random graph, every peer with the same degree',
    schema: z.strictObject({ name: z.literal('random-regular'), peers, degree: z.number().int().describe('neighbours of every peer, in [1, peers − 1]'), seed, weights }),
    graph: (s, sd) => ({ graph: randomRegular(s.peers, s.degree, sd) }),
  }),
  defineStaticGraph({
    kind: 'static',
    random: true,
    needsDegree: false,
    name: 'erdos-renyi',
    summary: 'seeded random graph, each edge with probability p',
    schema: z.strictObject({ name: z.literal('erdos-renyi'), peers, p: z.number().describe('probability of each edge, in (0, 1]'), seed, weights }),
    graph: (s, sd) => ({ graph: erdosRenyi(s.peers, s.p, sd) }),
  }),
  defineStaticGraph({
    kind: 'static',
    random: true,
    needsDegree: true,
    name: 'watts-strogatz',
    summary: 'small world: a ring lattice with randomly rewired edges',
    schema: z.strictObject({
      name: z.literal('watts-strogatz'),
      peers,
      degree: z.number().int().describe('k: ring-lattice neighbours of every peer, even, in [2, peers − 1]'),
      beta: z.number().describe('probability of rewiring each lattice edge, in [0, 1]'),
      seed,
      weights,
    }),
    graph: (s, sd) => ({ graph: wattsStrogatz(s.peers, s.degree, s.beta, sd) }),
  }),
  defineStaticGraph({
    kind: 'static',
    ...plain,
    ownPeers: true,
    name: 'edge-list',
    summary: 'your own graph: a file of `i j [w]` lines, or inline edges',
    schema: z.strictObject({
      name: z.literal('edge-list'),
      peers: z.number().int().optional().describe('number of peers (default: the largest index + 1)'),
      /** A file of `i j [w]` lines (see edge-list.ts); relative to options.baseDir. */
      path: z.string().min(1).optional().describe('file of `i j [w]` lines, one edge each; a relative path is read from the working directory'),
      /** Inline edges, [i, j] or [i, j, w]. */
      edges: z
        .array(z.union([z.tuple([z.number(), z.number()]), z.tuple([z.number(), z.number(), z.number()])]))
        .optional()
        .describe('inline edges, [i, j] or [i, j, w] with 0-based peer indices (instead of path)'),
      weights,
    }),
    graph: (s, _seed, options) => edgeListGraph(s, options),
  }),
] as const;

/** Any static graph spec whose peer count may be left to the run (the base graph of a schedule). */
export const baseGraphSchema = z.discriminatedUnion(
  'name',
  STATIC_GRAPHS.map((e) => e.schema) as unknown as SchemasOf<typeof STATIC_GRAPHS>,
);
/** A static graph spec whose peer count may be left to the run. */
export type BaseGraphSpec = z.infer<typeof baseGraphSchema>;

/** The built-in schedules. */
export const SCHEDULES = [
  defineSchedule({
    kind: 'time-varying',
    ...plain,
    name: 'one-peer-exponential',
    summary: 'round t: peer i averages with i + 2^(t mod τ)',
    schema: z.strictObject({ name: z.literal('one-peer-exponential'), peers }),
    build: (s) => onePeerExponential(s.peers),
  }),
  defineSchedule({
    kind: 'time-varying',
    random: true,
    needsDegree: false,
    name: 'matching',
    summary: 'a seeded random matching every round',
    schema: z.strictObject({ name: z.literal('matching'), peers, seed, base: baseGraphSchema.optional().describe('graph the matching is drawn from (default: any pair)') }),
    build: (s, ctx) => randomMatching(s.peers, ctx.seed, ctx.baseGraph(s.base, s.peers)),
  }),
  defineSchedule({
    kind: 'time-varying',
    random: true,
    needsDegree: false,
    name: 'pull',
    summary: 'each peer pulls from r random peers every round',
    schema: z.strictObject({
      name: z.literal('pull'),
      peers,
      r: z.number().describe('expected peers each peer pulls per round, in [0, peers − 1]'),
      seed,
      base: baseGraphSchema.optional().describe('graph whose neighbours are pulled from (default: any peer)'),
    }),
    build: (s, ctx) => randomPull(s.peers, s.r, ctx.seed, ctx.baseGraph(s.base, s.peers)),
  }),
] as const;

/** Every topology a config can name (besides `cycle`, which combines them). */
export const topologyRegistry = new Registry<TopologyEntry>('topology', 'topology.name', [...STATIC_GRAPHS, ...SCHEDULES] as unknown as TopologyEntry[]);

/** An edge list from a file or inline edges, checked the same way. */
function edgeListGraph(spec: { peers?: number; path?: string; edges?: ReadonlyArray<readonly number[]> }, options: BuildOptions): BuiltGraph {
  if ((spec.path === undefined) === (spec.edges === undefined)) {
    throw new ConfigError('topology: edge-list needs exactly one of path (a file of "i j [w]" lines) or edges');
  }
  let list: EdgeList;
  if (spec.path !== undefined) {
    const file = isAbsolute(spec.path) || !options.baseDir ? spec.path : resolve(options.baseDir, spec.path);
    list = readEdgeList(file, { peers: spec.peers });
  } else {
    // Inline edges go through the same checks as a file, line by line.
    const text = (spec.edges ?? []).map((e) => e.join(' ')).join('\n');
    list = parseEdgeList(text, { peers: spec.peers, source: 'topology.edges' });
  }
  checkPeerCount(list.n, 'edge-list');
  const graph = graphFromPairs(
    list.n,
    list.edges.map((e) => e[0]),
    list.edges.map((e) => e[1]),
    false,
  );
  if (!list.weights) return { graph };
  const table = new Map<number, number>();
  list.edges.forEach(([i, j], k) => table.set(Math.min(i, j) * list.n + Math.max(i, j), list.weights![k]));
  return { graph, edgeWeights: (i: number, j: number) => table.get(i * list.n + j) ?? 0 };
}
