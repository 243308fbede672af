// Who is in the run, agreed at round boundaries. Pure state: the transport feeds it the
// announcements and leaves it receives and asks it for the member set of a round.
//
// Rules (the same at every peer, so every peer computes the same set for a round as long as
// announcements reach it in time):
// - A peer is accepted when its announcement carries our run id, model fingerprint and config
//   hash; otherwise it is refused (one log line per peer and reason) and never a member.
// - Before the first round every accepted peer with joinRound 0 is in the start set.
// - A peer joining a running run announces joinRound = (highest round it heard) + JOIN_MARGIN;
//   it is a member from that round on. An announcement whose joinRound is not in the future of
//   a running peer is held back (not a member) until the joiner re-announces a later round.
// - A `leave` with lastRound L removes the peer from round L+1 on.
// - A peer silent for longer than the silence limit (no announcement; peers re-announce
//   periodically) is removed from the next round on. This one depends on when each peer
//   notices; the exchange's deadline covers the rounds in between. A crashed peer that comes
//   back (same key, same peer id) re-joins like a newcomer.
// - `members(round)` is the sorted list of peer id strings (self included): topology indices
//   are positions in it.

/** Rounds between the highest round a joiner heard and the round it joins, so the news reaches everyone first. */
export const JOIN_MARGIN = 2;

/** What identifies a run; peers with a different identity are refused. */
export interface RunIdentity {
  readonly runId: string;
  /** Hash of the model architecture and parameter layout; peers must share it to aggregate. */
  readonly modelFingerprint: string;
  /** Hash of the run config (method, compression, topology, schedule); peers must share it. */
  readonly configHash: string;
}

/** A peer's announcement: its run identity, addresses and progress. */
export interface Announcement extends RunIdentity {
  readonly addrs: readonly string[];
  readonly round: number;
  readonly joinRound: number;
}

/** What membership did with an announcement. */
export type AnnounceVerdict =
  | { readonly status: 'accepted' | 'updated' | 'held' }
  | { readonly status: 'refused'; readonly reason: string };

interface PeerRecord {
  addrs: readonly string[];
  /** First round this peer takes part in; null while held back. */
  joinRound: number | null;
  /** Last round this peer takes part in (Infinity while it stays). */
  lastRound: number;
  /** Highest round the peer said it is in. */
  round: number;
  /** When its last announcement arrived (ms, the transport's clock). */
  lastSeenMs: number;
}

/** The set of peers in the run, built from their announcements, and those refused. */
export class Membership {
  private readonly peers = new Map<string, PeerRecord>();
  private readonly refused = new Map<string, string>();
  /** The round whose set `members()` returns; -1 before the first. */
  private active = -1;
  private set: readonly string[];

  constructor(
    readonly self: string,
    readonly identity: RunIdentity,
  ) {
    this.set = [self];
  }

  get activeRound(): number {
    return this.active;
  }

  /** Checks and records an announcement from `from`. */
  onAnnounce(from: string, ann: Announcement, nowMs: number): AnnounceVerdict {
    if (from === this.self) return { status: 'updated' };
    const mismatch = identityMismatch(this.identity, ann);
    if (mismatch) {
      this.refused.set(from, mismatch);
      this.peers.delete(from);
      return { status: 'refused', reason: mismatch };
    }
    this.refused.delete(from);
    const known = this.peers.get(from);
    const joinRound = this.admissibleJoin(ann.joinRound, known, ann.round);
    if (known) {
      known.lastSeenMs = Math.max(known.lastSeenMs, nowMs);
      known.addrs = ann.addrs;
      known.round = Math.max(known.round, ann.round);
      if (joinRound !== null && (known.joinRound === null || known.lastRound !== Infinity)) {
        // Held back until now, or coming back after a leave or a crash.
        known.joinRound = joinRound;
        known.lastRound = Infinity;
        return { status: 'accepted' };
      }
      return { status: known.joinRound === null ? 'held' : 'updated' };
    }
    this.peers.set(from, { addrs: ann.addrs, joinRound, lastRound: Infinity, round: ann.round, lastSeenMs: nowMs });
    if (this.active < 0) this.set = this.computeSet(0);
    return { status: joinRound === null ? 'held' : 'accepted' };
  }

  /** The peer takes part up to `lastRound` inclusive. */
  onLeave(from: string, lastRound: number): void {
    const p = this.peers.get(from);
    if (!p) return;
    p.lastRound = Math.min(p.lastRound, lastRound);
    if (this.active < 0) this.set = this.computeSet(0);
  }

  /**
   * Peers not heard from for more than `silentMs` leave after the active round; returns them.
   * Call it just before `beginRound` of the next round.
   */
  expireSilent(nowMs: number, silentMs: number): string[] {
    const gone: string[] = [];
    for (const [id, p] of this.peers) {
      if (p.lastRound === Infinity && p.joinRound !== null && nowMs - p.lastSeenMs > silentMs) {
        p.lastRound = this.active;
        gone.push(id);
      }
    }
    if (gone.length && this.active < 0) this.set = this.computeSet(0);
    return gone.sort(compareIds);
  }

  /** Fixes the member set of `round` (called at the round boundary) and returns it. */
  beginRound(round: number): readonly string[] {
    if (!Number.isInteger(round) || round < 0) throw new RangeError(`membership: round ${round} is not a non-negative integer`);
    if (round < this.active) throw new RangeError(`membership: round ${round} is before the active round ${this.active}`);
    this.active = round;
    this.set = this.computeSet(round);
    return this.set;
  }

  /** The member set of the active round (before the first round: the start set so far). */
  members(): readonly string[] {
    return this.set;
  }

  /** True if `peer` was accepted into the run (member now, or joining later); false for refused and unknown peers. */
  isAccepted(peer: string): boolean {
    return peer === this.self || this.peers.get(peer)?.joinRound != null;
  }

  /** Why `peer` was refused, if it was. */
  refusal(peer: string): string | undefined {
    return this.refused.get(peer);
  }

  /** Peers refused, with the reason. */
  refusedPeers(): ReadonlyMap<string, string> {
    return this.refused;
  }

  /**
   * Members of the active round (self aside) that a barrier at `round` still waits for: they
   * announced only earlier rounds, did not leave before `round`, and were heard from within
   * `silentMs` (a silent one is not waited for).
   */
  behind(round: number, nowMs: number, silentMs: number): string[] {
    return this.set.filter((id) => {
      const p = this.peers.get(id);
      return p !== undefined && p.round < round && p.lastRound >= round && nowMs - p.lastSeenMs <= silentMs;
    });
  }

  /** Addresses a peer announced. */
  addrsOf(peer: string): readonly string[] {
    return this.peers.get(peer)?.addrs ?? [];
  }

  /** The highest round any accepted peer reported being in (-1 if none started). */
  highestRoundHeard(): number {
    let r = -1;
    for (const p of this.peers.values()) r = Math.max(r, p.round);
    return r;
  }

  /** The round a peer starting now should join at: 0 if the run has not started, else past the highest round heard. */
  joinRoundForNewcomer(): number {
    const heard = this.highestRoundHeard();
    return heard < 0 ? 0 : heard + JOIN_MARGIN;
  }

  private admissibleJoin(joinRound: number, known: PeerRecord | undefined, announcedRound: number): number | null {
    if (this.active < 0) return joinRound;
    // Running: only a join strictly after our active round can be applied the same way everywhere.
    if (joinRound > this.active) return joinRound;
    // A peer that is already running its rounds (it joined before we did, or we restarted and
    // missed its earlier announcements) is a member now: every running peer counts it already.
    if (announcedRound >= 0 && announcedRound >= joinRound) return joinRound;
    return known && known.joinRound !== null && known.lastRound === Infinity ? known.joinRound : null;
  }

  private computeSet(round: number): readonly string[] {
    const ids = [this.self];
    for (const [id, p] of this.peers) {
      if (p.joinRound !== null && p.joinRound <= round && round <= p.lastRound) ids.push(id);
    }
    return ids.sort(compareIds);
  }
}

/** Byte-wise order of peer id strings (not locale order), the same on every machine. */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Null when `theirs` matches `ours`; otherwise one line saying what differs and what to do. */
export function identityMismatch(ours: RunIdentity, theirs: RunIdentity): string | null {
  if (theirs.runId !== ours.runId) return `run id "${theirs.runId}" differs from ours "${ours.runId}"`;
  if (theirs.modelFingerprint !== ours.modelFingerprint) {
    return `model fingerprint ${theirs.modelFingerprint} differs from ours ${ours.modelFingerprint} (start every peer with the same model)`;
  }
  if (theirs.configHash !== ours.configHash) {
    return `config hash ${theirs.configHash} differs from ours ${ours.configHash} (start every peer with the same config file)`;
  }
  return null;
}
