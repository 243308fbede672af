// Where received updates wait for the exchange that wants them. Pure state, no I/O.
//
// Positions are (round, phase) pairs in lexicographic order. The inbox stands at the position of
// the exchange now open, or of the last one closed. A message for an earlier position, or for
// the current one once closed, is stale; one for a later position is buffered, bounded in how
// far ahead (rounds) and in total bytes, so a fast or hostile peer cannot fill memory.
import type { Envelope, PeerId } from '../peer/transport.js';

/** Bounds on what an inbox buffers ahead of its position. */
export interface InboxLimits {
  /** Messages at most this many rounds ahead of the current position are buffered. */
  readonly maxRoundsAhead: number;
  /** Total payload bytes buffered for future positions. */
  readonly maxBufferedBytes: number;
  /**
   * A phase buffered however many rounds ahead (still within maxBufferedBytes): the exact
   * merge's. Every member sends its model to every other, so a peer that fell rounds behind
   * would otherwise drop the models of those that reached the merge first and finished (they
   * never send again), and end with a different average.
   */
  readonly anyRoundsAheadPhase?: number;
}

/** What an inbox did with an offered message. */
export type OfferResult =
  | 'delivered' // for the open exchange, from an expected sender
  | 'buffered' // for a later position
  | 'stale' // for an earlier or closed position
  | 'duplicate' // a second message from the same sender for the same position
  | 'unexpected' // for the open exchange, from a sender it does not wait for
  | 'overflow'; // too far ahead, or the buffer is full

interface Open {
  readonly round: number;
  readonly phase: number;
  readonly expected: ReadonlySet<PeerId>;
  readonly got: Map<PeerId, Envelope>;
  readonly onDelivered: (env: Envelope, remaining: number) => void;
}

/** Holds messages per (round, phase) until the exchange they belong to opens. */
export class Inbox {
  private position: { round: number; phase: number } | null = null;
  private open: Open | null = null;
  private readonly future = new Map<string, Map<PeerId, Envelope>>();
  private bufferedBytes = 0;

  constructor(private readonly limits: InboxLimits) {}

  get buffered(): number {
    return this.bufferedBytes;
  }

  /**
   * Classifies a message without storing it: what `offer` would answer. Lets the transport
   * answer stale ones (gossipsub Ignore) before spending time on validation.
   */
  classify(round: number, phase: number, from: PeerId): OfferResult {
    const pos = this.position;
    if (pos !== null) {
      const c = compare(round, phase, pos.round, pos.phase);
      if (c < 0 || (c === 0 && this.open === null)) return 'stale';
      if (c === 0) {
        const open = this.open as Open;
        if (!open.expected.has(from)) return 'unexpected';
        return open.got.has(from) ? 'duplicate' : 'delivered';
      }
      if (round > pos.round + this.limits.maxRoundsAhead && phase !== this.limits.anyRoundsAheadPhase) return 'overflow';
    }
    return this.future.get(key(round, phase))?.has(from) ? 'duplicate' : 'buffered';
  }

  /** Delivers, buffers or drops one incoming message. */
  offer(env: Envelope): OfferResult {
    const verdict = this.classify(env.round, env.phase, env.from);
    if (verdict === 'delivered') {
      const open = this.open as Open;
      open.got.set(env.from, env);
      open.onDelivered(env, open.expected.size - open.got.size);
    } else if (verdict === 'buffered') {
      if (this.bufferedBytes + env.bytes.byteLength > this.limits.maxBufferedBytes) return 'overflow';
      const k = key(env.round, env.phase);
      const slot = this.future.get(k) ?? new Map<PeerId, Envelope>();
      slot.set(env.from, env);
      this.future.set(k, slot);
      this.bufferedBytes += env.bytes.byteLength;
    }
    return verdict;
  }

  /**
   * Opens the exchange of (round, phase): buffered messages for it are delivered at once (through
   * `onDelivered`), buffered ones for earlier positions are dropped.
   */
  openExchange(round: number, phase: number, expectFrom: Iterable<PeerId>, onDelivered: (env: Envelope, remaining: number) => void): void {
    if (this.open) throw new Error(`inbox: exchange ${this.open.round}/${this.open.phase} is still open; call exchange() one at a time`);
    if (this.position && compare(round, phase, this.position.round, this.position.phase) <= 0) {
      throw new RangeError(`inbox: exchange ${round}/${phase} is not after ${this.position.round}/${this.position.phase}; rounds and phases must increase`);
    }
    this.position = { round, phase };
    this.open = { round, phase, expected: new Set(expectFrom), got: new Map(), onDelivered };
    for (const [k, slot] of [...this.future]) {
      const [r, p] = k.split(':').map(Number);
      const c = compare(r, p, round, phase);
      if (c > 0) continue;
      this.future.delete(k);
      for (const env of slot.values()) {
        this.bufferedBytes -= env.bytes.byteLength;
        if (c === 0) this.offer(env);
      }
    }
  }

  /** Closes the open exchange and returns what it got, in sender order. */
  closeExchange(): Envelope[] {
    const open = this.open;
    if (!open) return [];
    this.open = null;
    return [...open.got.values()].sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  }
}

function key(round: number, phase: number): string {
  return `${round}:${phase}`;
}

function compare(r1: number, p1: number, r2: number, p2: number): number {
  return r1 !== r2 ? r1 - r2 : p1 - p2;
}
