// Where asynchronous gossip updates wait: the latest valid update of each in-neighbour, whatever
// round it came from. Pure state, no I/O.
//
// - One update per sender: a newer (round, phase) replaces the one held; an older or equal one
//   is refused, so a delayed message never overwrites a fresher one.
// - Only from the senders this peer mixes with (its in-neighbours): memory is bounded by one
//   update per neighbour.
// - Staleness: an update more than maxStaleness rounds older than this peer's round is refused,
//   and held ones that become that old as this peer advances are dropped.
// - An update that would be kept is checked first (`check`); a refused one leaves the state as it was.
import type { Envelope, PeerId } from '../peer/transport.js';
import { isFresh } from '../peer/async-gossip.js';

/** What a latest-inbox did with an offered update. */
export type LatestOfferResult =
  | 'kept' // first update held from this sender
  | 'replaced' // newer than the one held, which it replaces
  | 'outdated' // not newer than the one held from this sender
  | 'stale' // more than maxStaleness rounds older than this peer's round
  | 'unexpected' // not from a sender this peer mixes with
  | 'invalid'; // refused by the check

/** The latest update per in-neighbour, within a staleness bound. */
export class LatestInbox {
  private readonly held = new Map<PeerId, Envelope>();
  private senders = new Set<PeerId>();
  private round = 0;
  private received = 0;

  constructor(readonly maxStaleness: number) {
    if (!Number.isInteger(maxStaleness) || maxStaleness < 0) throw new RangeError(`latest inbox: maxStaleness ${maxStaleness} is not a non-negative integer`);
  }

  /** Sets whom updates are kept from (this round's in-neighbours); held updates of others are dropped. */
  setSenders(ids: Iterable<PeerId>): void {
    this.senders = new Set(ids);
    for (const id of [...this.held.keys()]) if (!this.senders.has(id)) this.held.delete(id);
  }

  /** Moves this peer to `round`; held updates now too old are dropped. Rounds never go back. */
  advanceTo(round: number): void {
    if (round < this.round) throw new RangeError(`latest inbox: round ${round} is before ${this.round}`);
    this.round = round;
    for (const [id, env] of [...this.held]) if (!isFresh(round, env.round, this.maxStaleness)) this.held.delete(id);
  }

  /** What `offer` would answer for an update, without the check and without storing it. */
  classify(round: number, phase: number, from: PeerId): Exclude<LatestOfferResult, 'invalid'> {
    if (!this.senders.has(from)) return 'unexpected';
    if (!isFresh(this.round, round, this.maxStaleness)) return 'stale';
    const have = this.held.get(from);
    if (!have) return 'kept';
    return round > have.round || (round === have.round && phase > have.phase) ? 'replaced' : 'outdated';
  }

  /** Keeps `env` if it is the newest from its sender and fresh enough and `check` (reason or null) passes it. */
  offer(env: Envelope, check: (env: Envelope) => string | null = () => null): LatestOfferResult {
    const verdict = this.classify(env.round, env.phase, env.from);
    if (verdict !== 'kept' && verdict !== 'replaced') return verdict;
    if (check(env) !== null) return 'invalid';
    this.held.set(env.from, env);
    this.received += env.bytes.byteLength;
    return verdict;
  }

  /** The update held from each of `from` that has one, in the order of `from`. */
  latest(from: readonly PeerId[]): Envelope[] {
    return from.flatMap((id) => {
      const env = this.held.get(id);
      return env ? [env] : [];
    });
  }

  /** Updates held now (at most one per sender). */
  get size(): number {
    return this.held.size;
  }

  /** Payload bytes held now. */
  get heldBytes(): number {
    let n = 0;
    for (const env of this.held.values()) n += env.bytes.byteLength;
    return n;
  }

  /** Payload bytes of the updates kept since the last call. */
  takeReceivedBytes(): number {
    const n = this.received;
    this.received = 0;
    return n;
  }
}
