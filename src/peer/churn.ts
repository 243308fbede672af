// Churn (heterogeneity.churn): at the start of the rounds the config names, a seeded share of the
// live peers crash or leave and a share of the departed ones rejoin. The simulator's roster of a
// round is what the round driver sees; a real peer follows its own shard's line of the same
// schedule (churnPlan): it leaves when the schedule takes its shard out and rejoins when it says.
import type { Roster } from './world.js';
import type { RunConfig } from './config.js';
import type { PeerId } from './transport.js';
import { Rng } from '../util/rng.js';

type Status = 'live' | 'crashed' | 'left';

export class ChurnRoster {
  private readonly status: Status[];
  private live: number[];

  constructor(
    private readonly members: readonly PeerId[],
    private readonly events: RunConfig['heterogeneity']['churn'],
    private readonly seed: number,
    private readonly attackers: ReadonlySet<number>,
    private readonly log: (line: string) => void,
  ) {
    this.status = members.map(() => 'live');
    this.live = members.map((_, i) => i);
  }

  /** Round t's roster, after that round's churn events. */
  at(t: number): Roster {
    this.applyChurn(t);
    this.live = this.status.flatMap((s, i) => (s === 'live' ? [i] : []));
    return { members: this.members, live: this.live, local: this.live, honest: this.live.filter((i) => !this.attackers.has(i)) };
  }

  /** The live peers of the current round. */
  current(): readonly number[] {
    return this.live;
  }

  private applyChurn(t: number): void {
    for (const [e, event] of this.events.entries()) {
      // Churn rounds are 1-based in the config ("at the start of round r"), rounds here are 0-based.
      if (event.round !== t + 1) continue;
      const rng = Rng.derive(this.seed, 'churn', e);
      const pick = (status: Status, fraction: number): number[] => {
        const pool = this.status.flatMap((s, i) => (s === status ? [i] : []));
        const k = Math.round(fraction * pool.length);
        return Array.from(rng.sample(pool.length, k), (j) => pool[j]);
      };
      const crashed = event.crash ? pick('live', event.crash) : [];
      for (const i of crashed) this.status[i] = 'crashed';
      const left = event.leave ? pick('live', event.leave) : [];
      for (const i of left) this.status[i] = 'left';
      const back = event.rejoin ? pick('left', event.rejoin) : [];
      for (const i of back) this.status[i] = 'live';
      if (crashed.length + left.length + back.length) {
        const live = this.status.filter((s) => s === 'live').length;
        this.log(`round ${t + 1}: ${crashed.length} crashed, ${left.length} left, ${back.length} rejoined; ${live} live`);
      }
    }
  }
}

/** One shard's line of the churn schedule: in which rounds (0-based) it is live. */
export interface ChurnPlan {
  /** Whether the shard takes part in round t. */
  live(t: number): boolean;
  /** The first round after t in which the shard is live again, or null if it never is. */
  nextLive(t: number): number | null;
  /** The first round at or after t in which the shard is out, or null. */
  nextOut(t: number): number | null;
}

/** The schedule of `shard` over the run's rounds: the simulator's churn draws, replayed. */
export function churnPlan(config: RunConfig, shard: number, attackers: ReadonlySet<number> = new Set()): ChurnPlan {
  const roster = new ChurnRoster(Array.from({ length: config.peers }, (_, i) => `p${i}`), config.heterogeneity.churn, config.seed, attackers, () => {});
  const live = Array.from({ length: config.rounds }, (_, t) => roster.at(t).live.includes(shard));
  const find = (from: number, want: boolean): number | null => {
    for (let u = from; u < live.length; u++) if (live[u] === want) return u;
    return null;
  };
  return { live: (t) => live[t] ?? true, nextLive: (t) => find(t + 1, true), nextOut: (t) => find(t, false) };
}
