// Asynchronous rounds in the simulator, as a discrete-event simulation: every simulated peer
// runs its own round loop (the round driver over a world of one peer, as a real async peer
// does), and a scheduler lets them act in the order of their simulated clocks. A peer that has
// trained up to time T waits until every other peer has reached T (or is waiting at a barrier),
// so when it mixes it holds exactly the messages that arrived before T: stragglers show their
// real effect on staleness. Exact merges stay barriers, as between real peers.
import type { Envelope, PeerId } from '../peer/transport.js';
import type { AsyncSide } from '../peer/peer-world.js';
import type { PeerTraffic } from '../peer/world.js';
import { deliver, type NetworkModel } from './network.js';
import type { SimNetwork } from './memory-transport.js';

/** Lets the peers' coroutines run one at a time, in the order of their simulated clocks (ties by peer order). */
export class EventScheduler {
  private readonly parked = new Map<number, { at: number; phase: number; resume: () => void }>();
  private readonly barrier = new Map<number, { round: number; resume: () => void }>();
  private readonly done = new Set<number>();
  private running = 0;

  constructor(private readonly peers: number) {
    this.running = peers;
  }

  /** Peer i wants to act at simulated time `at` (phase 0: publish, 1: mix): resolves when it is the earliest, by (time, phase, peer). */
  at(i: number, at: number, phase = 0): Promise<void> {
    return new Promise((resolve) => {
      this.parked.set(i, { at, phase, resume: resolve });
      this.running--;
      this.step();
    });
  }

  /** Peer i waits until every peer still running has reached the barrier of `round`. */
  barrierAt(i: number, round: number): Promise<void> {
    return new Promise((resolve) => {
      this.barrier.set(i, { round, resume: resolve });
      this.running--;
      this.step();
    });
  }

  /** Peer i has finished its rounds (or failed). */
  finish(i: number): void {
    if (this.done.has(i)) return;
    this.done.add(i);
    this.parked.delete(i);
    this.barrier.delete(i);
    this.running--;
    this.step();
  }

  private step(): void {
    if (this.running > 0) return;
    const active = this.peers - this.done.size;
    // Everyone left is at the barrier: open it for all of them at once.
    if (active > 0 && this.barrier.size === active) {
      const waiting = [...this.barrier.values()];
      this.barrier.clear();
      this.running += waiting.length;
      for (const w of waiting) w.resume();
      return;
    }
    let next: number | undefined;
    for (const [i, p] of this.parked) {
      const best = next === undefined ? undefined : this.parked.get(next)!;
      if (!best || p.at < best.at || (p.at === best.at && (p.phase < best.phase || (p.phase === best.phase && i < next!)))) next = i;
    }
    if (next === undefined) return;
    const { resume } = this.parked.get(next)!;
    this.parked.delete(next);
    this.running++;
    resume();
  }
}

interface InFlight {
  readonly env: Envelope;
  readonly arrivalMs: number;
  counted: boolean;
}

/** Publish-and-read-latest messaging between simulated peers over the network model, on the shared simulated clocks. */
export class SimAsyncNetwork {
  /** inbox[receiver][sender]: messages in flight or arrived. */
  private readonly inbox = new Map<PeerId, Map<PeerId, InFlight[]>>();
  private readonly traffic = new Map<PeerId, { sent: number; received: number }>();

  constructor(
    private readonly net: SimNetwork,
    private readonly model: NetworkModel,
    private readonly seed: number,
    private readonly scheduler: EventScheduler,
    private readonly members: readonly PeerId[],
  ) {}

  /** Peer `self`'s async side of the transport. */
  sideFor(self: PeerId): AsyncSide {
    const index = this.members.indexOf(self);
    return {
      self,
      publish: (m) => this.publish(self, m),
      latest: (from) => this.latest(self, from),
      setAsyncSenders: () => {},
      // Everyone acting at this time publishes before anyone mixes.
      beforeMix: () => this.scheduler.at(index, this.net.clock(self), 1),
      takeAsyncTraffic: () => this.take(self),
      waitForRound: async (round) => {
        await this.scheduler.barrierAt(index, round);
        // Everyone leaves the barrier at the time the last one reached it.
        const t = Math.max(...this.members.map((id) => this.net.clock(id)));
        this.net.setClock(self, t);
      },
    };
  }

  private publish(from: PeerId, m: { round: number; phase: number; payload: Uint8Array; sendTo: readonly PeerId[] }): void {
    const sentAt = this.net.clock(from);
    for (const to of m.sendTo) {
      if (to === from) continue;
      this.count(from).sent += m.payload.byteLength;
      const d = deliver(this.model, this.seed, { round: m.round, phase: m.phase, from, to }, sentAt, m.payload.byteLength);
      if (d.arrivalMs === null) continue;
      let bySender = this.inbox.get(to);
      if (!bySender) this.inbox.set(to, (bySender = new Map()));
      const list = bySender.get(from) ?? [];
      list.push({ env: { from, round: m.round, phase: m.phase, bytes: m.payload }, arrivalMs: d.arrivalMs, counted: false });
      bySender.set(from, list);
    }
  }

  /** The newest-round message that has arrived from each sender by the receiver's clock. */
  private latest(self: PeerId, from: readonly PeerId[]): Envelope[] {
    const now = this.net.clock(self);
    const bySender = this.inbox.get(self);
    const out: Envelope[] = [];
    for (const sender of from) {
      const list = bySender?.get(sender);
      if (!list) continue;
      let best: InFlight | undefined;
      for (const m of list) {
        if (m.arrivalMs > now) continue;
        if (!m.counted) {
          m.counted = true;
          this.count(self).received += m.env.bytes.byteLength;
        }
        if (!best || m.env.round > best.env.round) best = m;
      }
      if (!best) continue;
      // What arrived before the newest is never read again.
      bySender!.set(
        sender,
        list.filter((m) => m === best || m.arrivalMs > now),
      );
      out.push(best.env);
    }
    return out;
  }

  private take(self: PeerId): PeerTraffic {
    const t = this.count(self);
    const out = { sent: t.sent, received: t.received };
    t.sent = 0;
    t.received = 0;
    return out;
  }

  private count(id: PeerId): { sent: number; received: number } {
    let t = this.traffic.get(id);
    if (!t) this.traffic.set(id, (t = { sent: 0, received: 0 }));
    return t;
  }
}
