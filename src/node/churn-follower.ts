// Churn on a real peer: the config's churn schedule (heterogeneity.churn, src/peer/churn.ts) as
// round hooks. When the schedule takes this peer's shard out at round t it sends its leave
// (lastRound t−1) JOIN_MARGIN rounds ahead, so every member drops it at the same boundary; it
// sits out, keeping its model, and once the others are past its leave it announces a newcomer's
// join round — the schedule's rejoin round, or later if the others are already too far on for
// every member to apply that one alike — and takes part again from there. A shard that crashes
// or leaves for good stops after its leave.
import type { ChurnPlan } from '../peer/churn.js';
import { GossipflError } from '../util/errors.js';
import { JOIN_MARGIN } from './membership.js';

/** The part of the transport that churn uses. */
export interface ChurnTransport {
  leave(lastRound: number): Promise<void>;
  rejoinAt(round: number): Promise<void>;
  confirmedRound(): number;
}

export class ChurnFollower {
  /** The lastRound of the leave sent for the coming departure, or null. */
  private leaveSent: number | null = null;

  constructor(
    private readonly plan: ChurnPlan,
    private readonly net: ChurnTransport,
    private readonly shard: number,
    private readonly log: (line: string) => void,
    /** Rounds of the run. */
    private readonly rounds: number,
    /** Longest wait without any progress of the others while sitting out (ms). */
    private readonly waitMs: number,
    private readonly signal?: AbortSignal,
  ) {}

  /** Before round t: the round to run (t, or the round it rejoins at after sitting out), or null to stop. */
  async before(t: number): Promise<number | null> {
    if (this.plan.live(t)) {
      const out = this.plan.nextOut(t + 1);
      if (out !== null && out - t <= JOIN_MARGIN && this.leaveSent !== out - 1) {
        await this.net.leave(out - 1);
        this.leaveSent = out - 1;
        this.log(`churn: shard ${this.shard} leaves after round ${out} (the schedule takes it out at round ${out + 1}); leave sent`);
      }
      return t;
    }
    if (this.leaveSent !== t - 1) await this.net.leave(t - 1);
    this.leaveSent = null;
    const back = this.plan.nextLive(t);
    if (back === null) {
      this.log(`churn: shard ${this.shard} is out from round ${t + 1} to the end: stopping`);
      return null;
    }
    // Announce the rejoin only once the others run round t: earlier, a member still before
    // round t would take the new join round as this peer's first and leave it out before its leave.
    await this.until(() => this.net.confirmedRound() >= t, `round ${t + 1}`);
    const join = Math.max(back, this.net.confirmedRound() + JOIN_MARGIN);
    if (join >= this.rounds) {
      this.log(`churn: shard ${this.shard} is out from round ${t + 1}; the run ends before it could rejoin (at round ${join + 1}): stopping`);
      return null;
    }
    await this.net.rejoinAt(join);
    this.log(`churn: shard ${this.shard} sits out from round ${t + 1}; rejoins at round ${join + 1}${join > back ? ` (the schedule says ${back + 1}; the others were too far on)` : ''}`);
    // Back when the others are one round short of it (if they are further, catching up skips ahead).
    await this.until(() => this.net.confirmedRound() >= join - 1, `round ${join}`);
    return join;
  }

  /** Waits for `done`; gives up only after `waitMs` without any progress of the others (slow is not stopped). */
  private async until(done: () => boolean, what: string): Promise<void> {
    let t0 = Date.now();
    let seen = this.net.confirmedRound();
    while (!done()) {
      if (this.signal?.aborted) throw new GossipflError('network', `churn: interrupted while sitting out (waiting for the others to reach ${what})`);
      const now = this.net.confirmedRound();
      if (now > seen) [seen, t0] = [now, Date.now()];
      if (Date.now() - t0 > this.waitMs) {
        throw new GossipflError('network', `churn: no progress of the others for ${this.waitMs} ms while shard ${this.shard} sat out, waiting for ${what}; they stopped or are unreachable`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
