// Topologies: what a peer asks each round ("whom do I average, with what weights, and whom do
// I send to"). A static topology answers the same matrix every round; a time-varying one
// answers a matrix that depends on the round. Random schedules draw round t from
// Rng.derive(seed, 'topology', name, t), so any round is reproducible on its own, in any order.
import { ConfigError } from '../util/errors.js';
import { Rng } from '../util/rng.js';
import { exponentialHops } from './generators.js';
import { checkPeerCount, edgesOf, type Graph } from './graph.js';
import { mixingFromRows, type SparseMixing } from './mixing.js';

/** A topology as the peers use it: the mixing matrix of each round (fixed, or varying with the round). */
export interface Topology {
  readonly name: string;
  readonly n: number;
  /**
   * Rounds after which `at` repeats: 1 for a static topology, τ for one-peer exponential;
   * undefined for random schedules, which draw afresh every round.
   */
  readonly period: number | undefined;
  /** The graph whose links the schedule may use, where there is one. */
  readonly graph: Graph | undefined;
  /** The mixing matrix of round `round` (0-based). */
  at(round: number): SparseMixing;
}

function checkRound(round: number): void {
  if (!Number.isInteger(round) || round < 0) throw new RangeError(`round must be a non-negative integer, got ${round}`);
}

/** The same mixing matrix every round. */
export function staticTopology(name: string, mixing: SparseMixing, graph?: Graph): Topology {
  return {
    name,
    n: mixing.n,
    period: 1,
    graph,
    at(round) {
      checkRound(round);
      return mixing;
    },
  };
}

/**
 * A topology whose round-t matrix is `draw(round)`, remembering the last few rounds: every
 * peer of a simulated round asks for the same matrix, and it should be built once.
 */
function memoised(base: Omit<Topology, 'at'>, draw: (round: number) => SparseMixing): Topology {
  const cache = new Map<number, SparseMixing>();
  return {
    ...base,
    at(round) {
      checkRound(round);
      let m = cache.get(round);
      if (!m) {
        m = draw(round);
        if (cache.size >= 4) cache.delete(cache.keys().next().value as number);
        cache.set(round, m);
      }
      return m;
    },
  };
}

/**
 * One-peer exponential graph: at round t every peer i averages half-half with peer
 * (i + 2^(t mod τ)) mod n, τ = ⌈log2 n⌉. Doubly stochastic every round; for n a power of two,
 * any τ consecutive rounds multiply to exact averaging.
 */
export function onePeerExponential(n: number): Topology {
  checkPeerCount(n, 'one-peer-exponential');
  const tau = exponentialHops(n);
  const rounds = Array.from({ length: tau }, (_, j) =>
    mixingFromRows(n, (i) => ({ self: 0.5, peers: [(i + 2 ** j) % n], weights: [0.5] })),
  );
  return {
    name: 'one-peer-exponential',
    n,
    period: tau,
    graph: undefined,
    at(round) {
      checkRound(round);
      return rounds[round % tau];
    },
  };
}

/**
 * A random matching every round; matched peers average half-half, unmatched peers keep their
 * model. Without a base graph the matching is perfect (a uniform random pairing; with n odd one
 * peer sits out). On a base graph it is a random maximal matching: the base's edges in random
 * order, each taken when both ends are still free. Symmetric and doubly stochastic.
 */
export function randomMatching(n: number, seed: number, base?: Graph): Topology {
  checkPeerCount(n, 'matching');
  checkBase('matching', n, base);
  const baseEdges = base ? edgesOf(base) : undefined;
  const name = base ? 'matching+base' : 'matching';
  return memoised({ name, n, period: undefined, graph: base }, (round) => {
    const rng = Rng.derive(seed, 'topology', 'matching', round);
    const partner = new Int32Array(n).fill(-1);
    if (baseEdges) {
      for (const k of rng.permutation(baseEdges.length)) {
        const [a, b] = baseEdges[k];
        if (partner[a] < 0 && partner[b] < 0) {
          partner[a] = b;
          partner[b] = a;
        }
      }
    } else {
      const order = rng.permutation(n);
      for (let k = 0; k + 1 < n; k += 2) {
        partner[order[k]] = order[k + 1];
        partner[order[k + 1]] = order[k];
      }
    }
    return mixingFromRows(n, (i) =>
      partner[i] < 0 ? { self: 1, peers: [], weights: [] } : { self: 0.5, peers: [partner[i]], weights: [0.5] },
    );
  });
}

/**
 * Random-r pull (A Single Merging Suffices): each round peer i averages uniformly over itself,
 * ⌊r⌋ distinct others drawn uniformly, and one more with probability r − ⌊r⌋. With a base graph
 * the others come from i's neighbours there (all of them when it has fewer than the draw).
 * Row-stochastic only: a popular peer's column sums to more than 1.
 */
export function randomPull(n: number, r: number, seed: number, base?: Graph): Topology {
  checkPeerCount(n, 'pull');
  checkBase('pull', n, base);
  if (!(r >= 0 && r <= n - 1)) throw new ConfigError(`pull: r (expected peers pulled per round) must be in [0, ${n - 1}] for ${n} peers, got ${r}`);
  const whole = Math.floor(r);
  const extra = r - whole;
  const name = base ? 'pull+base' : 'pull';
  return memoised({ name, n, period: undefined, graph: base }, (round) => {
    const rng = Rng.derive(seed, 'topology', 'pull', round);
    return mixingFromRows(n, (i) => {
      const pool = base ? base.adj[i].length : n - 1;
      const want = Math.min(pool, whole + (extra > 0 && rng.next() < extra ? 1 : 0));
      const picks = rng.sample(pool, want);
      const peers = new Uint32Array(want);
      for (let k = 0; k < want; k++) {
        const p = picks[k];
        // Without a base, index p of "everyone but i" is p itself below i and p + 1 from i on.
        peers[k] = base ? base.adj[i][p] : p < i ? p : p + 1;
      }
      const share = 1 / (want + 1);
      return { self: share, peers, weights: new Float64Array(want).fill(share) };
    });
  });
}

function checkBase(what: string, n: number, base: Graph | undefined): void {
  if (base && base.n !== n) throw new ConfigError(`${what}: base graph has ${base.n} peers, the schedule ${n}`);
  if (base && base.directed) throw new ConfigError(`${what}: base graph must be undirected`);
}

/**
 * Cycles through several topologies over the same peers: round t uses part t mod L at that
 * part's own round ⌊t / L⌋, so each part runs its schedule undisturbed (e.g. a ring every other
 * round and one-peer exponential in between).
 */
export function cycleTopologies(parts: readonly Topology[]): Topology {
  if (parts.length === 0) throw new ConfigError('cycle: needs at least one topology');
  const n = parts[0].n;
  for (const p of parts) if (p.n !== n) throw new ConfigError(`cycle: every part must have the same peer count (${parts[0].name} has ${n}, ${p.name} has ${p.n})`);
  const periods = parts.map((p) => p.period);
  const period = periods.every((p): p is number => p !== undefined) ? parts.length * periods.reduce(lcm, 1) : undefined;
  const L = parts.length;
  return {
    name: `cycle(${parts.map((p) => p.name).join(',')})`,
    n,
    period,
    graph: undefined,
    at(round) {
      checkRound(round);
      return parts[round % L].at(Math.floor(round / L));
    },
  };
}

function lcm(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y) [x, y] = [y, x % y];
  return (a / x) * b;
}
