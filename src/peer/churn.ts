// Churn in the simulator: at the start of the rounds the config names, a seeded share of the
// live peers crash or leave and a share of the departed ones rejoin. The roster of a round is
// what the round driver sees.
import type { Roster } from '../peer/world.js';
import type { RunConfig } from '../peer/config.js';
import type { PeerId } from '../peer/transport.js';
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
