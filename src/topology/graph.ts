// A communication graph as plain data: n peers and, for each peer i, the sorted list of peers
// whose models i receives (its in-neighbours), without i itself. Undirected graphs store each
// edge in both lists. Mixing weights are a separate layer on top (see weights.ts).
import { ConfigError } from '../util/errors.js';

/** A graph on n peers as sorted adjacency lists (adj[i]: the peers i hears from). */
export interface Graph {
  readonly n: number;
  /** true when an arc j → i (j in adj[i]) does not imply i → j. */
  readonly directed: boolean;
  /** adj[i]: ascending in-neighbours of i, never containing i. */
  readonly adj: readonly Uint32Array[];
}

/** Checks a peer count shared by every generator: an integer ≥ 2. */
export function checkPeerCount(n: number, what: string): void {
  if (!Number.isInteger(n) || n < 2) {
    throw new ConfigError(`${what}: peers must be an integer ≥ 2, got ${n}; gossip needs at least two peers`);
  }
  if (n > 0x7fffffff) throw new ConfigError(`${what}: ${n} peers is more than this implementation indexes`);
}

/**
 * Builds a graph from pairs [i, j] given as two parallel index arrays (i receives from j, and
 * j from i when undirected). Self-loops and repeated pairs are dropped: generators such as a
 * 2×k torus produce them naturally and they carry no information.
 */
export function graphFromPairs(n: number, from: ArrayLike<number>, to: ArrayLike<number>, directed: boolean): Graph {
  const counts = new Uint32Array(n);
  const m = from.length;
  for (let e = 0; e < m; e++) {
    const a = from[e];
    const b = to[e];
    if (a === b) continue;
    counts[b]++; // arc a → b: b receives from a
    if (!directed) counts[a]++;
  }
  const lists = Array.from({ length: n }, (_, i) => new Uint32Array(counts[i]));
  const fill = new Uint32Array(n);
  for (let e = 0; e < m; e++) {
    const a = from[e];
    const b = to[e];
    if (a === b) continue;
    lists[b][fill[b]++] = a;
    if (!directed) lists[a][fill[a]++] = b;
  }
  return { n, directed, adj: lists.map(sortedUnique) };
}

/** Builds a graph from an adjacency function: neighboursOf(i) lists whom i receives from. */
export function graphFromNeighbours(n: number, directed: boolean, neighboursOf: (i: number) => Iterable<number>): Graph {
  const adj: Uint32Array[] = [];
  for (let i = 0; i < n; i++) {
    const list = Uint32Array.from(neighboursOf(i));
    adj.push(sortedUnique(list.filter((j) => j !== i)));
  }
  return { n, directed, adj };
}

function sortedUnique(list: Uint32Array): Uint32Array {
  list.sort();
  let w = 0;
  for (let k = 0; k < list.length; k++) if (k === 0 || list[k] !== list[k - 1]) list[w++] = list[k];
  return w === list.length ? list : list.slice(0, w);
}

/** Number of edges: unordered pairs when undirected, arcs when directed. */
export function edgeCount(g: Graph): number {
  let arcs = 0;
  for (const list of g.adj) arcs += list.length;
  return g.directed ? arcs : arcs / 2;
}

/** Edges as [i, j] pairs (i < j when undirected; [receiver, sender] when directed). */
export function edgesOf(g: Graph): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < g.n; i++) for (const j of g.adj[i]) if (g.directed || i < j) out.push([i, j]);
  return out;
}

/** True when j is in i's adjacency list (the arc j → i exists). */
export function hasEdge(g: Graph, i: number, j: number): boolean {
  return binarySearch(g.adj[i], j) >= 0;
}

/** Index of x in a sorted list, or −1 when absent. */
export function binarySearch(list: Uint32Array, x: number): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = list[mid];
    if (v === x) return mid;
    if (v < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * Whether every peer can reach every other along arcs. For an undirected graph one search;
 * for a directed graph, strong connectivity: everyone reaches 0 and 0 reaches everyone.
 */
export function isGraphConnected(g: Graph): boolean {
  if (!reachesAll(g.n, (i) => g.adj[i])) return false;
  if (!g.directed) return true;
  return reachesAll(g.n, outLists(g));
}

/** Out-neighbour lists (whom each peer sends to) of a graph stored by in-neighbours. */
export function outLists(g: Graph): (i: number) => Uint32Array {
  if (!g.directed) return (i) => g.adj[i];
  const counts = new Uint32Array(g.n);
  for (const list of g.adj) for (const j of list) counts[j]++;
  const out = Array.from({ length: g.n }, (_, i) => new Uint32Array(counts[i]));
  const fill = new Uint32Array(g.n);
  for (let i = 0; i < g.n; i++) for (const j of g.adj[i]) out[j][fill[j]++] = i; // ascending i
  return (i) => out[i];
}

/** Breadth-first search from peer 0 over `next`; true when all n peers are found. */
export function reachesAll(n: number, next: (i: number) => ArrayLike<number>): boolean {
  const seen = new Uint8Array(n);
  const queue = new Uint32Array(n);
  let head = 0;
  let tail = 0;
  seen[0] = 1;
  queue[tail++] = 0;
  while (head < tail) {
    const list = next(queue[head++]);
    for (let k = 0; k < list.length; k++) {
      const j = list[k];
      if (!seen[j]) {
        seen[j] = 1;
        queue[tail++] = j;
      }
    }
  }
  return tail === n;
}

/** The complement of an undirected graph (every missing pair becomes an edge). */
export function complementGraph(g: Graph): Graph {
  if (g.directed) throw new RangeError('complementGraph: only for undirected graphs');
  return graphFromNeighbours(g.n, false, function* (i) {
    const list = g.adj[i];
    let k = 0;
    for (let j = 0; j < g.n; j++) {
      if (k < list.length && list[k] === j) k++;
      else if (j !== i) yield j;
    }
  });
}
