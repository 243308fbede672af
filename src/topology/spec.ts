// Topology configs as plain objects (what a YAML config or the CLI produces), their schema, and
// the factory the simulator and the node call: buildTopology(spec) → Topology.
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { parseEdgeList, readEdgeList, type EdgeList } from './edge-list.js';
import { complete, exponential, grid, ring, star, torus } from './generators.js';
import { checkPeerCount, graphFromPairs, type Graph } from './graph.js';
import { erdosRenyi, randomRegular, wattsStrogatz } from './random-graphs.js';
import { cycleTopologies, onePeerExponential, randomMatching, randomPull, staticTopology, type Topology } from './schedules.js';
import { userWeights, weightsFor, type WeightScheme } from './weights.js';

const peerCount = z.number().int().min(2, 'peers must be at least 2').describe('number of peers (≥ 2); defaults to the enclosing spec\'s or the run\'s `peers`');
const seed = z.number().int().optional().describe('seed of the random draws (default: the run seed)');
const weights = z
  .enum(['metropolis-hastings', 'uniform'])
  .optional()
  .describe('mixing weights from the graph: Metropolis–Hastings (symmetric, doubly stochastic) or uniform over self and neighbours; default metropolis-hastings, uniform for directed graphs');

/** Schemas of the static graphs; `peers` is optional where a parent spec supplies it. */
function staticSchemas<P extends z.ZodTypeAny>(peers: P) {
  return [
    z.strictObject({ name: z.literal('ring'), peers, weights }),
    z.strictObject({ name: z.literal('torus'), peers, rows: z.number().int().optional().describe('rows of the lattice, a divisor of peers (default: the divisor nearest √peers from below)'), weights }),
    z.strictObject({ name: z.literal('grid'), peers, rows: z.number().int().optional().describe('rows of the lattice, a divisor of peers (default: the divisor nearest √peers from below)'), weights }),
    z.strictObject({ name: z.literal('complete'), peers, weights }),
    z.strictObject({ name: z.literal('star'), peers, weights }),
    z.strictObject({ name: z.literal('exponential'), peers, weights }),
    z.strictObject({ name: z.literal('random-regular'), peers, degree: z.number().int().describe('neighbours of every peer, in [1, peers − 1]'), seed, weights }),
    z.strictObject({ name: z.literal('erdos-renyi'), peers, p: z.number().describe('probability of each edge, in (0, 1]'), seed, weights }),
    z.strictObject({
      name: z.literal('watts-strogatz'),
      peers,
      degree: z.number().int().describe('k: ring-lattice neighbours of every peer, even, in [2, peers − 1]'),
      beta: z.number().describe('probability of rewiring each lattice edge, in [0, 1]'),
      seed,
      weights,
    }),
    z.strictObject({
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
  ] as const;
}

/** Zod schema of a static graph spec whose peer count is given. */
export const staticGraphSchema = z.discriminatedUnion('name', staticSchemas(peerCount));
/** Zod schema of a static graph spec whose peer count may come from the run (the base graph of a schedule). */
export const baseGraphSchema = z.discriminatedUnion('name', staticSchemas(peerCount.optional()));

function scheduleSchemas<P extends z.ZodTypeAny>(peers: P) {
  return [
    z.strictObject({ name: z.literal('one-peer-exponential'), peers }),
    z.strictObject({ name: z.literal('matching'), peers, seed, base: baseGraphSchema.optional().describe('graph the matching is drawn from (default: any pair)') }),
    z.strictObject({
      name: z.literal('pull'),
      peers,
      r: z.number().describe('expected peers each peer pulls per round, in [0, peers − 1]'),
      seed,
      base: baseGraphSchema.optional().describe('graph whose neighbours are pulled from (default: any peer)'),
    }),
  ] as const;
}

const partSchema = z.discriminatedUnion('name', [...staticSchemas(peerCount.optional()), ...scheduleSchemas(peerCount.optional())]);

/** The schema of every topology config; validate user configs with parseTopologySpec. */
export const topologySpecSchema = z.discriminatedUnion('name', [
  ...staticSchemas(peerCount),
  ...scheduleSchemas(peerCount),
  z.strictObject({
    name: z.literal('cycle'),
    peers: peerCount.optional(),
    of: z.array(partSchema).min(1).describe('topologies used in turn: round t uses part t mod length; a part\'s `peers` defaults to the cycle\'s'),
  }),
]);

/** A topology as a config names it (validated by topologySpecSchema). */
export type TopologySpec = z.infer<typeof topologySpecSchema>;
/** A static graph spec with its peer count. */
export type StaticGraphSpec = z.infer<typeof staticGraphSchema>;
/** A static graph spec whose peer count may be left to the run. */
export type BaseGraphSpec = z.infer<typeof baseGraphSchema>;
/** The name of a topology kind. */
export type TopologyName = TopologySpec['name'];

/** Every topology name a config accepts. */
export const TOPOLOGY_NAMES: readonly TopologyName[] = topologySpecSchema.options.map((o) => o.shape.name.value);
/** The names of the static graphs. */
export const STATIC_GRAPH_NAMES: readonly StaticGraphSpec['name'][] = staticGraphSchema.options.map((o) => o.shape.name.value);

/** Validates an untrusted config object; a ConfigError names the first problem and where it is. */
export function parseTopologySpec(input: unknown): TopologySpec {
  const r = topologySpecSchema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const where = issue.path.length ? `topology.${issue.path.join('.')}` : 'topology';
  const known = issue.code === 'invalid_union' && issue.path.length === 0 ? ` (known: ${TOPOLOGY_NAMES.join(', ')})` : '';
  throw new ConfigError(`${where}: ${issue.message}${known}`);
}

/** Options for building a topology from its spec. */
export interface BuildOptions {
  /** Seed for random graphs and schedules whose spec has none (default 0). */
  readonly seed?: number;
  /** Folder that relative edge-list paths are read from (default: the working directory). */
  readonly baseDir?: string;
}

/** Builds the topology a config describes; validates it first. */
export function buildTopology(spec: TopologySpec, options: BuildOptions = {}): Topology {
  const s = parseTopologySpec(spec);
  if (s.name === 'cycle') {
    if (s.peers === undefined && s.of.some((p) => p.peers === undefined)) {
      throw new ConfigError('topology: cycle needs peers, either on the cycle or on every part');
    }
    return cycleTopologies(s.of.map((part) => buildTopology({ ...part, peers: part.peers ?? s.peers } as TopologySpec, options)));
  }
  const seedOf = (x: object) => ('seed' in x && typeof x.seed === 'number' ? x.seed : undefined) ?? options.seed ?? 0;
  switch (s.name) {
    case 'one-peer-exponential':
      return onePeerExponential(s.peers);
    case 'matching':
    case 'pull': {
      // A random base graph without its own seed is drawn from the schedule's seed.
      const baseSeed = s.base && 'seed' in s.base && s.base.seed !== undefined ? s.base.seed : seedOf(s);
      const base = s.base && buildGraph({ ...s.base, peers: s.base.peers ?? s.peers }, baseSeed, options).graph;
      return s.name === 'pull' ? randomPull(s.peers, s.r, seedOf(s), base) : randomMatching(s.peers, seedOf(s), base);
    }
    default: {
      const { graph, edgeWeights } = buildGraph(s, seedOf(s), options);
      if (edgeWeights) {
        if (s.weights) throw new ConfigError(`topology: the edge list carries its own weights; remove weights: ${s.weights}`);
        return staticTopology(s.name, userWeights(graph, edgeWeights), graph);
      }
      const scheme: WeightScheme = s.weights ?? (graph.directed ? 'uniform' : 'metropolis-hastings');
      return staticTopology(s.name, weightsFor(graph, scheme), graph);
    }
  }
}

/** Builds the graph of a static spec (and the user's edge weights, when an edge list has them). */
export function buildGraph(
  spec: BaseGraphSpec,
  seed: number,
  options: BuildOptions = {},
): {
  graph: Graph;
  /** The user's weight of edge (i, j), 0 when absent; only for edge lists with weights. */
  edgeWeights?: (i: number, j: number) => number;
} {
  const n = spec.peers;
  if (spec.name !== 'edge-list' && n === undefined) throw new ConfigError(`topology: ${spec.name} needs peers`);
  const peers = n as number;
  switch (spec.name) {
    case 'ring':
      return { graph: ring(peers) };
    case 'torus':
      return { graph: torus(peers, spec.rows) };
    case 'grid':
      return { graph: grid(peers, spec.rows) };
    case 'complete':
      return { graph: complete(peers) };
    case 'star':
      return { graph: star(peers) };
    case 'exponential':
      return { graph: exponential(peers) };
    case 'random-regular':
      return { graph: randomRegular(peers, spec.degree, seed) };
    case 'erdos-renyi':
      return { graph: erdosRenyi(peers, spec.p, seed) };
    case 'watts-strogatz':
      return { graph: wattsStrogatz(peers, spec.degree, spec.beta, seed) };
    case 'edge-list':
      return edgeListGraph(spec, options);
  }
}

function edgeListGraph(spec: Extract<BaseGraphSpec, { name: 'edge-list' }>, options: BuildOptions) {
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
