// An in-memory Transport for the simulator: every peer of the process calls exchange() for a
// (round, phase); when the last expected caller arrives, each call resolves with the messages
// addressed to it whose simulated arrival is before its deadline. Bytes are counted exactly as
// the codec produced them.
import type { Envelope, ExchangeRequest, ExchangeResult, PeerId, Transport } from '../peer/transport.js';
import { deliver, type NetworkModel } from './network.js';

interface Pending {
  readonly from: PeerId;
  readonly request: ExchangeRequest;
  readonly sentAtMs: number;
  resolve(result: ExchangeResult): void;
}

/** Bytes sent and received per peer since the counters were last taken. */
export interface TrafficCounter {
  sent: Map<PeerId, number>;
  received: Map<PeerId, number>;
}

/** The shared medium: one per simulation. */
export class SimNetwork {
  private readonly pending = new Map<string, Pending[]>();
  private participants = new Set<PeerId>();
  private readonly clocks = new Map<PeerId, number>();
  readonly traffic: TrafficCounter = { sent: new Map(), received: new Map() };
  private memberList: PeerId[] = [];

  constructor(
    private readonly model: NetworkModel,
    private readonly seed: number,
  ) {}

  /** Sets who takes part in the coming exchanges (the barrier waits for exactly these peers). */
  setParticipants(peers: Iterable<PeerId>): void {
    this.participants = new Set(peers);
  }

  /** Sets the current member list. */
  setMembers(peers: readonly PeerId[]): void {
    this.memberList = [...peers];
  }

  /** The current member list. */
  members(): readonly PeerId[] {
    return this.memberList;
  }

  /** A peer's simulated clock (ms). */
  clock(peer: PeerId): number {
    return this.clocks.get(peer) ?? 0;
  }

  /** Sets a peer's simulated clock (ms). */
  setClock(peer: PeerId, ms: number): void {
    this.clocks.set(peer, ms);
  }

  /** Moves a peer's simulated clock forward by ms. */
  advance(peer: PeerId, ms: number): void {
    this.clocks.set(peer, this.clock(peer) + ms);
  }

  /** Clears the byte counters (per round) and returns the old totals. */
  takeTraffic(): { sent: number; received: number } {
    let sent = 0;
    let received = 0;
    for (const v of this.traffic.sent.values()) sent += v;
    for (const v of this.traffic.received.values()) received += v;
    this.traffic.sent.clear();
    this.traffic.received.clear();
    return { sent, received };
  }

  /** The Transport one peer uses on this network. */
  transportFor(peer: PeerId): Transport {
    return {
      self: peer,
      exchange: (request) => this.exchange(peer, request),
      members: () => this.members(),
      now: () => this.clock(peer),
    };
  }

  private exchange(from: PeerId, request: ExchangeRequest): Promise<ExchangeResult> {
    if (!this.participants.has(from)) {
      return Promise.reject(new Error(`simulator: peer ${from} is not a participant of round ${request.round}`));
    }
    const key = `${request.round}:${request.phase}`;
    const list = this.pending.get(key) ?? [];
    this.pending.set(key, list);
    if (list.some((p) => p.from === from)) {
      return Promise.reject(new Error(`simulator: peer ${from} called exchange twice for round ${request.round} phase ${request.phase}`));
    }
    return new Promise<ExchangeResult>((resolve) => {
      list.push({ from, request, sentAtMs: this.clock(from), resolve });
      if (list.length === this.participants.size) {
        this.pending.delete(key);
        this.settle(list);
      }
    });
  }

  private settle(calls: Pending[]): void {
    // Messages in flight, addressed by receiver.
    const inbox = new Map<PeerId, Array<{ env: Envelope; arrivalMs: number }>>();
    for (const call of calls) {
      const { request } = call;
      for (const to of request.sendTo) {
        if (to === call.from) continue;
        const bytes = request.payload instanceof Uint8Array ? request.payload : request.payload.get(to);
        if (!bytes) continue;
        this.traffic.sent.set(call.from, (this.traffic.sent.get(call.from) ?? 0) + bytes.byteLength);
        const d = deliver(this.model, this.seed, { round: request.round, phase: request.phase, from: call.from, to }, call.sentAtMs, bytes.byteLength);
        if (d.arrivalMs === null) continue;
        const list = inbox.get(to) ?? [];
        list.push({ env: { from: call.from, round: request.round, phase: request.phase, bytes }, arrivalMs: d.arrivalMs });
        inbox.set(to, list);
      }
    }
    for (const call of calls) {
      const deadline = call.sentAtMs + call.request.deadlineMs;
      const expected = new Set(call.request.expectFrom);
      const arrived = (inbox.get(call.from) ?? []).filter((m) => expected.has(m.env.from) && m.arrivalMs <= deadline);
      const got = new Set(arrived.map((m) => m.env.from));
      const missing = call.request.expectFrom.filter((p) => !got.has(p) && p !== call.from);
      // The peer waits until its last expected message, or until the deadline if any is missing
      // (with no deadline, the simulator knows the missing ones are never coming).
      const lastArrival = arrived.reduce((t, m) => Math.max(t, m.arrivalMs), call.sentAtMs);
      const waitedFor = missing.length && Number.isFinite(deadline) ? Math.max(lastArrival, deadline) : lastArrival;
      this.clocks.set(call.from, waitedFor);
      for (const m of arrived) {
        this.traffic.received.set(call.from, (this.traffic.received.get(call.from) ?? 0) + m.env.bytes.byteLength);
      }
      arrived.sort((a, b) => (a.env.from < b.env.from ? -1 : a.env.from > b.env.from ? 1 : 0));
      call.resolve({ received: arrived.map((m) => m.env), missing });
    }
  }
}
