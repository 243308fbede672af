// The one seam between the peer algorithm and the network. The simulator implements it in
// memory with a simulated clock; the libp2p node implements it over real connections.
// Everything that crosses it is bytes produced by the wire codec, so both paths validate
// the same way.
import type { PeerId } from '../util/ids.js';

export type { PeerId };

/** A message received for one (round, phase) of the exchange. */
export interface Envelope {
  readonly from: PeerId;
  readonly round: number;
  readonly phase: number;
  readonly bytes: Uint8Array;
}

/** One peer's side of one (round, phase) exchange: what it sends, to whom, and whom it waits for. */
export interface ExchangeRequest {
  readonly round: number;
  /** 0 for single-phase methods; two-phase compressors use 0 then 1. */
  readonly phase: number;
  /** What to send: the same bytes to everyone in `sendTo`, or per-recipient bytes. */
  readonly payload: Uint8Array | ReadonlyMap<PeerId, Uint8Array>;
  readonly sendTo: readonly PeerId[];
  /** Whose messages this peer waits for in this (round, phase). */
  readonly expectFrom: readonly PeerId[];
  /** How long to wait for `expectFrom` (ms, in the transport's clock); late senders are left out. */
  readonly deadlineMs: number;
}

/** What one exchange gathered before its deadline, and who was missing. */
export interface ExchangeResult {
  /** Messages that arrived before the deadline, at most one per expected sender. */
  readonly received: readonly Envelope[];
  /** Expected senders whose message did not arrive in time (stragglers, crashed peers, loss). */
  readonly missing: readonly PeerId[];
}

/** The seam between the peer algorithm and the network: the simulator and libp2p both implement it. */
export interface Transport {
  readonly self: PeerId;
  /** Sends this peer's payload and gathers the expected messages of one (round, phase). */
  exchange(request: ExchangeRequest): Promise<ExchangeResult>;
  /** The peers currently in the run, self included, in a deterministic order. */
  members(): readonly PeerId[];
  /** The transport's clock in ms (simulated time in the simulator, wall time on the network). */
  now(): number;
}
