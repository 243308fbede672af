// Who is in the run, agreed at round boundaries. Pure state: the transport feeds it the
// announcements, leaves and accepted updates it receives and asks it for the member set of a round.
//
// Rules (the same at every peer, so every peer computes the same set for a round as long as
// announcements reach it in time):
// - A peer is accepted when its announcement carries our run id, model fingerprint and config
//   hash; otherwise it is refused (one log line per peer and reason) and never a member.
//   Senders are authenticated by gossipsub (StrictSign: every message is signed by its sender's
//   key), so a record is only ever changed by its own peer's signed messages.
// - Before the first round every accepted peer with joinRound 0 is in the start set.
// - A peer joining a running run announces joinRound = (confirmed round) + JOIN_MARGIN; it is a
//   member from that round on. An announcement whose joinRound is not in the future of a
//   running peer is held back (not a member, no state) until the joiner re-announces a later
//   round — unless a current member's own signed announcement lists it among the members
//   (a peer that was running before we restarted).
// - A `leave` with lastRound L removes the peer from round L+1 on.
// - A member silent for longer than the silence limit is dropped JOIN_MARGIN rounds after the
//   round in which it is noticed; the drop and its round travel in announcements (`gone`), and
//   a peer that has not heard from that member for half the limit adopts the same round, so
//   all peers drop it at the same boundary. A dropped peer comes back only through a future
//   joinRound (as a newcomer), so its return is agreed as well.
// - A peer the others dropped that had dropped them too (it was cut off, not they) counts again,
//   from its re-join round on, every peer it dropped that is heard from again.
// - Progress (how far the others are) counts only when reported by current members, and a round
//   is "confirmed" when at least two of them (or the only other one) report it: one member's
//   claim cannot make a peer skip rounds.
// - `members(round)` is the sorted list of peer id strings (self included): topology indices
//   are positions in it.

import type { PeerRole } from './wire.js';

/** Rounds between the round a change is decided in and the round it applies from, so the news reaches everyone first. */
export const JOIN_MARGIN = 2;
/** Reports needed to confirm a round or a drop of this peer, when that many other members exist. */
export const CONFIRMATIONS = 2;

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
  /** One address (ending in /p2p/<id>) of each member the sender counts. */
  readonly peers?: readonly string[];
  /** Members the sender dropped for silence, with the last round it counts them in. */
  readonly gone?: ReadonlyArray<{ readonly peer: string; readonly after: number }>;
  /** A member that trains (the default), or the server of a federated run. */
  readonly role?: PeerRole;
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
  /** Highest round the peer said it is in, or sent a valid update for. */
  round: number;
  /** When its last announcement arrived (ms, the transport's clock). */
  lastSeenMs: number;
  /** Peer ids its latest announcement lists as members. */
  vouches: ReadonlySet<string>;
  /** True when its latest announcement says this peer (self) was dropped. */
  dropsSelf: boolean;
  /** What it announced itself as (its first accepted announcement fixes it). */
  readonly role: PeerRole;
}

/** The set of peers in the run, built from their announcements, and those refused. */
export class Membership {
  private readonly peers = new Map<string, PeerRecord>();
  private readonly refused = new Map<string, string>();
  /** Members this peer dropped for silence (or adopted a drop of), with their last round. */
  private readonly dropped = new Map<string, number>();
  /** The round whose set `members()` returns; -1 before the first. */
  private active = -1;
  private set: readonly string[];
  /** Set when the others dropped this peer: the round it re-joins at. */
  private rejoinAt: number | null = null;

  constructor(
    readonly self: string,
    readonly identity: RunIdentity,
    /** The silence limit (ms): a drop reported by another member is adopted after half of it. */
    readonly silentMs = 10_000,
    /** This peer's own part in the run. */
    readonly selfRole: PeerRole = 'member',
  ) {
    this.set = [self];
  }

  get activeRound(): number {
    return this.active;
  }

  /** The round this peer re-joins at after the others dropped it (null while it is a member). */
  get rejoinRound(): number | null {
    return this.rejoinAt;
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
    const joinRound = this.admissibleJoin(from, ann.joinRound, known, ann.round);
    // A peer held back changes nothing: no record until it asks for a round we can apply.
    if (joinRound === null && (!known || known.joinRound === null)) return { status: 'held' };
    const vouches = new Set((ann.peers ?? []).map(peerOfAddr).filter((id): id is string => id !== undefined));
    const dropsSelf = (ann.gone ?? []).some((g) => g.peer === this.self);
    let status: AnnounceVerdict['status'] = 'updated';
    if (known) {
      known.lastSeenMs = Math.max(known.lastSeenMs, nowMs);
      known.addrs = ann.addrs;
      known.round = Math.max(known.round, ann.round);
      known.vouches = vouches;
      known.dropsSelf = dropsSelf;
      if (joinRound !== null && (known.joinRound === null || known.lastRound !== Infinity)) {
        // Coming back after a leave, a drop or a crash, at a round every peer applies alike.
        known.joinRound = joinRound;
        known.lastRound = Infinity;
        this.dropped.delete(from);
        status = 'accepted';
      }
    } else {
      this.peers.set(from, { addrs: ann.addrs, joinRound, lastRound: Infinity, round: ann.round, lastSeenMs: nowMs, vouches, dropsSelf, role: ann.role ?? 'member' });
      status = 'accepted';
    }
    if (this.isCurrent(from)) this.adoptDrops(ann.gone ?? [], nowMs);
    this.checkDroppedSelf();
    this.readmitAfterMutualDrop(nowMs);
    if (this.active < 0) this.set = this.computeSet(0);
    return { status };
  }

  /** The peer takes part up to `lastRound` inclusive. */
  onLeave(from: string, lastRound: number): void {
    const p = this.peers.get(from);
    if (!p || p.joinRound === null) return;
    p.lastRound = Math.min(p.lastRound, lastRound);
    this.dropped.delete(from);
    if (this.active < 0) this.set = this.computeSet(0);
  }

  /** A valid update from a member for `round`: evidence of how far it is. */
  onUpdate(from: string, round: number): void {
    const p = this.peers.get(from);
    if (p && p.joinRound !== null) p.round = Math.max(p.round, round);
  }

  /**
   * Members not heard from for more than `silentMs` are dropped JOIN_MARGIN rounds after the
   * active round (a drop another member reported first keeps its round); returns them. Call it
   * just before `beginRound` of the next round.
   */
  expireSilent(nowMs: number, silentMs: number): string[] {
    const gone: string[] = [];
    for (const [id, p] of this.peers) {
      if (p.lastRound === Infinity && p.joinRound !== null && nowMs - p.lastSeenMs > silentMs) {
        // Before the first round it is simply not in the start set.
        p.lastRound = this.active < 0 ? -1 : this.active + JOIN_MARGIN;
        this.dropped.set(id, p.lastRound);
        gone.push(id);
      }
    }
    if (gone.length && this.active < 0) this.set = this.computeSet(0);
    return gone.sort(compareIds);
  }

  /** The drops to announce: members dropped for silence and the last round they count in (newest 64). */
  drops(): Array<{ peer: string; after: number }> {
    return [...this.dropped].map(([peer, after]) => ({ peer, after })).slice(-64);
  }

  /**
   * Moves every record's last-heard time forward by `ms`: this process was stopped or starved
   * for that long and could not hear anyone, so their silence over it says nothing.
   */
  forgive(ms: number, nowMs: number): void {
    for (const p of this.peers.values()) p.lastSeenMs = Math.min(nowMs, p.lastSeenMs + ms);
  }

  /** Fixes the member set of `round` (called at the round boundary) and returns it. */
  beginRound(round: number): readonly string[] {
    if (!Number.isInteger(round) || round < 0) throw new RangeError(`membership: round ${round} is not a non-negative integer`);
    if (round < this.active) throw new RangeError(`membership: round ${round} is before the active round ${this.active}`);
    this.active = round;
    if (this.rejoinAt !== null && round >= this.rejoinAt) this.rejoinAt = null;
    this.set = this.computeSet(round);
    return this.set;
  }

  /** The member set `round` would have from what is known now (nothing is fixed). */
  setOf(round: number): readonly string[] {
    return this.computeSet(round);
  }

  /**
   * Who this peer would start with: before the run the start set so far; once the members are
   * running, the members at the round it would join. Some of those joined late themselves (they
   * saw the run begin before they knew everyone), so counting only the start set would leave a
   * newcomer waiting for members that never join at round 0.
   */
  startSet(): readonly string[] {
    if (this.active >= 0) return this.set;
    const join = this.joinRoundForNewcomer();
    return join === 0 ? this.set : this.computeSet(join);
  }

  /** The member set of the active round (before the first round: the start set so far). */
  members(): readonly string[] {
    return this.set;
  }

  /** True if `peer` was accepted into the run (member now, or joining later); false for refused, held and unknown peers. */
  isAccepted(peer: string): boolean {
    return peer === this.self || this.peers.get(peer)?.joinRound != null;
  }

  /** True if `peer` was accepted to take part from a round after the active one (a newcomer, or a member coming back). */
  joinsLater(peer: string): boolean {
    const p = this.peers.get(peer);
    return p !== undefined && p.joinRound !== null && p.joinRound > this.active && p.lastRound === Infinity;
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

  /**
   * Whether an exchange of `round` still has reason to wait for `peer`: it is heard from within
   * `silentMs`, has not left before `round`, and has not reported a round two or more past it
   * (by then its message for `round` was sent long ago, or never will be).
   */
  mayStillSend(peer: string, round: number, nowMs: number, silentMs: number): boolean {
    const p = this.peers.get(peer);
    return p !== undefined && p.joinRound !== null && nowMs - p.lastSeenMs <= silentMs && p.lastRound >= round && p.round < round + 2;
  }

  /** What an accepted peer (or self) announced itself as; undefined for peers not accepted. */
  roleOf(peer: string): PeerRole | undefined {
    if (peer === this.self) return this.selfRole;
    const p = this.peers.get(peer);
    return p && p.joinRound !== null ? p.role : undefined;
  }

  /** Addresses a peer announced. */
  addrsOf(peer: string): readonly string[] {
    return this.peers.get(peer)?.addrs ?? [];
  }

  /**
   * The highest round confirmed by the current members (self aside): reported by at least
   * CONFIRMATIONS of them, or by the only other one; -1 if none started.
   */
  confirmedRound(): number {
    return this.confirmedAmong(this.currentOthers());
  }

  /**
   * The round a peer about to start round `current` should go to instead, or null: the
   * confirmed round when it is two or more rounds ahead (one round apart is normal drift in
   * step), or the round this peer re-joins at after being dropped. Given the peer's topology
   * neighbours, only they confirm: over a sparse graph peers k hops apart legitimately drift up
   * to k rounds apart (on a 64-peer ring, 32), so the far side being ahead says nothing; a
   * neighbour two rounds ahead has stopped waiting for this peer, which is what falling behind is.
   */
  roundAhead(current: number, neighbours?: readonly string[]): number | null {
    if (this.rejoinAt !== null && this.rejoinAt > current) return this.rejoinAt;
    const near = neighbours?.filter((id) => this.isCurrent(id)) ?? [];
    const r = near.length ? this.confirmedAmong(near) : this.confirmedRound();
    return r > current + 1 ? r : null;
  }

  /** The round reported by CONFIRMATIONS of `ids` (all of them if fewer); -1 if none. */
  private confirmedAmong(ids: readonly string[]): number {
    const rounds = ids.map((id) => this.peers.get(id)!.round).sort((a, b) => b - a);
    if (rounds.length === 0) return -1;
    return rounds[Math.min(CONFIRMATIONS, rounds.length) - 1];
  }

  /** The round a peer starting now should join at: 0 if the run has not started, else past the confirmed round. */
  joinRoundForNewcomer(): number {
    const heard = this.confirmedRound();
    return heard < 0 ? 0 : heard + JOIN_MARGIN;
  }

  /** Members whose reports count now: accepted and still in (before the first round: every accepted peer that stays). */
  private currentOthers(): string[] {
    const ids: string[] = [];
    for (const [id, p] of this.peers) {
      if (p.joinRound === null) continue;
      if (this.active < 0 ? p.lastRound === Infinity : p.joinRound <= this.active && this.active <= p.lastRound) ids.push(id);
    }
    return ids;
  }

  private isCurrent(id: string): boolean {
    const p = this.peers.get(id);
    if (!p || p.joinRound === null) return false;
    return this.active < 0 ? p.lastRound === Infinity : p.joinRound <= this.active && this.active <= p.lastRound;
  }

  /**
   * Takes over another member's drops of members we have not heard from for half the silence
   * limit either, or whose progress stopped before the round the other noticed their silence:
   * a peer that just (re)started may have heard a dead peer's last announcements seconds late
   * (gossipsub's message cache hands them out for a few heartbeats), which makes it look fresh
   * here while the others have dropped it; counting it would put every member after it at
   * another index than the others use.
   */
  private adoptDrops(gone: NonNullable<Announcement['gone']>, nowMs: number): void {
    for (const g of gone) {
      const p = this.peers.get(g.peer);
      if (!p || p.joinRound === null) continue;
      const stale = p.round < g.after - JOIN_MARGIN;
      if (!stale && nowMs - p.lastSeenMs <= this.silentMs / 2) continue;
      const after = Math.max(g.after, this.active);
      const mine = this.dropped.get(g.peer);
      // Not yet dropped here, or dropped here later than the other says: converge on the earliest round still ahead.
      if ((p.lastRound === Infinity && mine === undefined) || (mine !== undefined && after < mine)) {
        p.lastRound = after;
        this.dropped.set(g.peer, after);
      }
    }
  }

  /**
   * The others dropped this peer, and it dropped them too (it was the one cut off: stopped or
   * starved, it heard nobody). They never left in their own view and will count it again at its
   * re-join round, so it counts again every peer it dropped that is heard from now.
   */
  private readmitAfterMutualDrop(nowMs: number): void {
    if (this.rejoinAt === null) return;
    for (const id of [...this.dropped.keys()]) {
      const p = this.peers.get(id);
      if (!p || p.joinRound === null || nowMs - p.lastSeenMs > this.silentMs / 2 || p.round < 0) continue;
      p.lastRound = Infinity;
      this.dropped.delete(id);
    }
  }

  /** When enough current members say they dropped this peer, it re-joins as a newcomer at a round all can apply. */
  private checkDroppedSelf(): void {
    if (this.rejoinAt !== null || this.active < 0) return;
    const others = this.currentOthers();
    const reports = others.filter((id) => this.peers.get(id)!.dropsSelf).length;
    if (reports === 0 || reports < Math.min(CONFIRMATIONS, others.length)) return;
    this.rejoinAt = Math.max(this.active + JOIN_MARGIN + 1, this.confirmedRound() + JOIN_MARGIN);
  }

  private admissibleJoin(from: string, joinRound: number, known: PeerRecord | undefined, announcedRound: number): number | null {
    if (this.active < 0) return joinRound;
    // Running: only a join strictly after our active round can be applied the same way everywhere.
    if (joinRound > this.active) return joinRound;
    // A peer that left or was dropped comes back only that way.
    if (known && known.joinRound !== null && known.lastRound !== Infinity) return null;
    if (known && known.joinRound !== null) return known.joinRound;
    // A peer already running its rounds that we missed (we restarted): a member only if a current
    // member counts it in its own signed announcement; a stranger's claim alone changes nothing.
    if (announcedRound >= 0 && announcedRound >= joinRound && this.vouched(from)) return joinRound;
    return null;
  }

  private vouched(id: string): boolean {
    return this.currentOthers().some((m) => m !== id && this.peers.get(m)!.vouches.has(id));
  }

  private computeSet(round: number): readonly string[] {
    // Dropped by the others: until it re-joins this peer exchanges with nobody.
    if (this.rejoinAt !== null && round < this.rejoinAt) return [this.self];
    const ids = [this.self];
    for (const [id, p] of this.peers) {
      if (p.joinRound !== null && p.joinRound <= round && round <= p.lastRound) ids.push(id);
    }
    return ids.sort(compareIds);
  }
}

/** The peer id at the end of a multiaddr string (`…/p2p/<id>`), if any. */
export function peerOfAddr(addr: string): string | undefined {
  const at = addr.lastIndexOf('/p2p/');
  return at < 0 ? undefined : addr.slice(at + 5) || undefined;
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
