// Whom an exchange waits for. Pure state, no I/O: the transport reports after every exchange
// who was expected and who delivered, and asks before the next whether to wait for a peer.
//
// A member that delivered nothing in `suspectAfterRounds` consecutive rounds in which it was
// expected is suspected: exchanges stop waiting for it (its update is still taken if it arrives
// while the exchange waits for others), and it is re-admitted by the first update that comes
// from it, even too late for its exchange (a slow peer is alive, a ghost sends nothing).
// Waiting is bounded per round by the exchange deadline and in total: a member suspected
// `maxSuspicions` times is never waited for again in this run.

/** Who was suspected or re-admitted by one exchange's outcome. */
export interface LivenessChange {
  readonly suspected: readonly string[];
  readonly readmitted: readonly string[];
}

interface PeerState {
  /** Consecutive rounds expected without a delivery. */
  missed: number;
  /** The last round counted in `missed` (one count per round, however many exchanges it has). */
  lastMissRound: number;
  suspected: boolean;
  /** Times it was suspected so far. */
  episodes: number;
}

/** Suspects members that stop sending, and re-admits them when they send again. */
export class Liveness {
  private readonly peers = new Map<string, PeerState>();

  constructor(
    readonly suspectAfterRounds: number,
    readonly maxSuspicions = 3,
  ) {
    if (!Number.isInteger(suspectAfterRounds) || suspectAfterRounds < 1) throw new RangeError(`liveness: suspectAfterRounds ${suspectAfterRounds} is not a positive integer`);
    if (!Number.isInteger(maxSuspicions) || maxSuspicions < 1) throw new RangeError(`liveness: maxSuspicions ${maxSuspicions} is not a positive integer`);
  }

  /** Whether an exchange should wait for `peer`. */
  waitsFor(peer: string): boolean {
    const p = this.peers.get(peer);
    return p === undefined || (!p.suspected && p.episodes < this.maxSuspicions);
  }

  /** Whether `peer` is suspected now. */
  isSuspected(peer: string): boolean {
    return this.peers.get(peer)?.suspected ?? false;
  }

  /**
   * An update from `peer` arrived, in time or not (a slower peer's update comes after our
   * exchange closed): it is alive, so it is waited for again. True if it was suspected.
   */
  heard(peer: string): boolean {
    const p = this.peers.get(peer);
    if (!p?.suspected) return false;
    p.suspected = false;
    p.missed = 0;
    return true;
  }

  /** Records an exchange of `round`: who was expected and who delivered. */
  record(round: number, expected: Iterable<string>, delivered: ReadonlySet<string>): LivenessChange {
    const suspected: string[] = [];
    const readmitted: string[] = [];
    for (const id of expected) {
      const p = this.peers.get(id) ?? { missed: 0, lastMissRound: -1, suspected: false, episodes: 0 };
      this.peers.set(id, p);
      if (delivered.has(id)) {
        if (p.suspected) readmitted.push(id);
        p.missed = 0;
        p.suspected = false;
        continue;
      }
      if (p.lastMissRound === round) continue;
      p.lastMissRound = round;
      p.missed++;
      if (!p.suspected && p.missed >= this.suspectAfterRounds) {
        p.suspected = true;
        p.episodes++;
        suspected.push(id);
      }
    }
    return { suspected, readmitted };
  }
}
