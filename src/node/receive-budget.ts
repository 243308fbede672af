// Bytes of updates a remote peer has in flight to us (being read or being checked), bounded per
// peer. A peer sends one update per (round, phase), so an honest one rarely has more than one or
// two frames open; a hostile one that opens many streams and fills them is refused once its
// bytes in flight pass the budget, instead of making us hold (streams × frame limit) bytes.
export class ReceiveBudget {
  private readonly inFlight = new Map<string, number>();

  constructor(readonly perPeerBytes: number) {
    if (!Number.isFinite(perPeerBytes) || perPeerBytes <= 0) throw new RangeError(`receive budget: ${perPeerBytes} is not a positive number of bytes`);
  }

  /** Bytes `peer` has in flight now. */
  held(peer: string): number {
    return this.inFlight.get(peer) ?? 0;
  }

  /** Reserves `bytes` more for `peer`; false (and nothing reserved) if that would pass the budget. */
  take(peer: string, bytes: number): boolean {
    const now = this.held(peer);
    if (now + bytes > this.perPeerBytes) return false;
    this.inFlight.set(peer, now + bytes);
    return true;
  }

  /** Returns `bytes` of `peer`'s reservation. */
  release(peer: string, bytes: number): void {
    const left = this.held(peer) - bytes;
    if (left > 0) this.inFlight.set(peer, left);
    else this.inFlight.delete(peer);
  }
}
