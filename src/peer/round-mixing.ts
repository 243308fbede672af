// The mixing matrix of one gossip step, the same way in the simulator and on the network: the
// run's topology over the current member count (built once per count), or — when the schedule
// sets a budget r for the round — a random pull with that r. The run seed fixes every draw.
import { buildTopology, type TopologySpec } from '../topology/spec.js';
import type { Topology } from '../topology/schedules.js';
import type { SparseMixing } from '../topology/mixing.js';
import { Rng } from '../util/rng.js';

export class RoundMixing {
  private readonly byPeers = new Map<number, Topology>();
  private readonly seed: number;

  /** `fixed`: a topology the caller built (a plug-in); used as is for its peer count. */
  constructor(
    private readonly spec: TopologySpec,
    runSeed: number,
    fixed?: Topology,
  ) {
    this.seed = Rng.derive(runSeed, 'topology').nextUint32();
    if (fixed) this.byPeers.set(fixed.n, fixed);
  }

  /** The topology over `peers` members. */
  topology(peers: number): Topology {
    let t = this.byPeers.get(peers);
    if (!t) {
      t = buildTopology({ ...this.spec, peers } as TopologySpec, { seed: this.seed });
      this.byPeers.set(peers, t);
    }
    return t;
  }

  /** Gossip step `step` (round × gossip steps per round + q) over `peers` members; `budget` r or null. */
  at(peers: number, step: number, budget: number | null): SparseMixing {
    if (budget === null) return this.topology(peers).at(step);
    const pull = { ...this.spec, name: 'pull', peers, r: Math.min(budget, peers - 1) } as TopologySpec;
    return buildTopology(pull, { seed: this.seed }).at(step);
  }
}
