// A hostile libp2p client for tests: a real gossipfl node (its own key, the same transports)
// that connects to a run's peers from outside and speaks the node protocol by hand. It learns
// everything an outsider can see in clear (the run topic from subscriptions, the run identity
// and rounds from announcements) and then sends what the test asks: forged announcements, a
// ghost membership that never sends an update, floods of junk, slow update streams.
import type { Message } from '@libp2p/gossipsub';
import { peerIdFromString } from '@libp2p/peer-id';
import { multiaddr } from '@multiformats/multiaddr';
import { createGossipflNode, type GossipflNode } from '../../src/node/create-node.js';
import { UPDATE_PROTOCOL } from '../../src/node/direct.js';
import { framePrefix } from '../../src/node/frame.js';
import { JOIN_MARGIN, type RunIdentity } from '../../src/node/membership.js';
import { decodeMessage, encodeMessage, type AnnounceMessage, type NodeMessage } from '../../src/node/wire.js';
import { ackOf } from './streams.js';

const TOPIC_PREFIX = 'gossipfl/run/';

/** What a slow stream achieved before the victim cut it (or the test gave up). */
export interface SlowStreamOutcome {
  /** Milliseconds from opening the stream until it was closed or reset by the other side (null: still open at `maxMs`). */
  readonly closedAfterMs: number | null;
  readonly bytesSent: number;
}

export class HostileClient {
  /** Run topics seen in the peers' subscriptions. */
  readonly topics = new Set<string>();
  /** The identity copied from the first announcement heard. */
  identity: RunIdentity | null = null;
  /** Highest round announced by anyone. */
  heardRound = -1;
  /** The latest round each sender announced. */
  private readonly rounds = new Map<string, number>();
  /** The addresses each sender announced (in clear on the topic): how the client reaches peers it is not connected to. */
  private readonly addrs = new Map<string, readonly string[]>();
  /** Peers whose announcements list this client as a member. */
  readonly listedBy = new Set<string>();
  private ghostTimer: NodeJS.Timeout | undefined;

  private constructor(readonly node: GossipflNode) {
    const pubsub = node.libp2p.services.pubsub;
    pubsub.addEventListener('subscription-change', (evt) => {
      for (const s of evt.detail.subscriptions) {
        if (s.subscribe && s.topic.startsWith(TOPIC_PREFIX) && !this.topics.has(s.topic)) {
          this.topics.add(s.topic);
          pubsub.subscribe(s.topic);
        }
      }
    });
    pubsub.addEventListener('message', (evt) => this.overhear(evt.detail));
  }

  /** Starts a node and dials `target` (a multiaddr ending in /p2p/<id>). */
  static async connect(target: string, options: { pskFile?: string } = {}): Promise<HostileClient> {
    const node = await createGossipflNode({ ...(options.pskFile ? { pskFile: options.pskFile } : {}) });
    const h = new HostileClient(node);
    await node.libp2p.dial(multiaddr(target));
    return h;
  }

  get peerId(): string {
    return this.node.peerId;
  }

  /** The run's topic, once a peer's subscription showed it. */
  get topic(): string {
    const [t] = this.topics;
    if (!t) throw new Error('hostile: no run topic seen yet');
    return t;
  }

  /** Waits until a run topic and an announcement (the run's identity) have been seen. */
  async learn(timeoutMs = 30_000): Promise<RunIdentity> {
    const t0 = Date.now();
    while (!this.identity || this.topics.size === 0) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`hostile: learned no run identity in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return this.identity;
  }

  /** Waits until some peer announced round `round` or later. */
  async untilRound(round: number, timeoutMs: number): Promise<void> {
    const t0 = Date.now();
    while (this.heardRound < round) {
      if (Date.now() - t0 > timeoutMs) throw new Error(`hostile: round ${round} not announced within ${timeoutMs} ms (heard ${this.heardRound})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Publishes a node message on the run topic, signed by this client's own key; returns how many peers it went to. */
  async publish(msg: NodeMessage | Uint8Array): Promise<number> {
    const bytes = msg instanceof Uint8Array ? msg : encodeMessage(msg);
    const res = await this.node.libp2p.services.pubsub.publish(this.topic, bytes);
    return res.recipients.length;
  }

  /** An announcement with the run's identity and this client's addresses; `over` replaces any field. */
  announcement(over: Partial<AnnounceMessage> = {}): AnnounceMessage {
    if (!this.identity) throw new Error('hostile: call learn() first');
    return { kind: 'announce', ...this.identity, addrs: this.node.addresses(), round: this.heardRound, joinRound: 0, peers: [], gone: [], role: 'member', ...over };
  }

  /**
   * Becomes a ghost member: announces every `intervalMs` that it joins at a future round (so the
   * peers accept it) and that it keeps up with the run, and never sends an update.
   */
  startGhost(intervalMs = 1000): void {
    const joinRound = this.heardRound + JOIN_MARGIN + 1;
    // It keeps up with the median announced round (not the highest: another client may lie).
    const tick = (): void => void this.publish(this.announcement({ joinRound, round: this.medianRound() })).catch(() => undefined);
    tick();
    this.ghostTimer = setInterval(tick, intervalMs);
    this.ghostTimer.unref();
  }

  stopGhost(): void {
    clearInterval(this.ghostTimer);
  }

  /**
   * Opens a direct update stream to `peer`, declares a frame of `declared` bytes and sends its
   * body one byte every `intervalMs`, until the peer cuts the stream or `maxMs` pass.
   */
  async slowStream(peer: string, declared: number, intervalMs: number, maxMs: number): Promise<SlowStreamOutcome> {
    // Connections follow the topology, so the client may have none to `peer`: it dials an
    // announced address first, so the clock below times the stream, not the dial.
    const id = peerIdFromString(peer);
    if (this.node.libp2p.getConnections(id).length === 0) {
      const known = this.addrs.get(peer) ?? [];
      if (known.length === 0) throw new Error(`hostile: no connection to ${peer} and no address announced by it`);
      await this.node.libp2p.dial(known.map((a) => multiaddr(a)));
    }
    const t0 = Date.now();
    let stream;
    try {
      stream = await this.node.libp2p.dialProtocol(id, UPDATE_PROTOCOL);
    } catch {
      // Refused so fast that the stream closed while it was being opened.
      return { closedAfterMs: Date.now() - t0, bytesSent: 0 };
    }
    let closedAt: number | null = null;
    stream.addEventListener('close', () => (closedAt ??= Date.now()));
    void ackOf(stream, maxMs).catch(() => undefined);
    let sent = 0;
    const write = (b: Uint8Array): boolean => {
      try {
        stream.send(b);
        return true;
      } catch {
        closedAt ??= Date.now();
        return false;
      }
    };
    write(framePrefix(declared));
    while (closedAt === null && Date.now() - t0 < maxMs && sent < declared - 1) {
      await new Promise((r) => setTimeout(r, intervalMs));
      if (stream.status !== 'open') closedAt ??= Date.now();
      else if (write(Uint8Array.of(sent & 0xff))) sent++;
    }
    if (closedAt === null) stream.abort(new Error('hostile: giving up'));
    return { closedAfterMs: closedAt === null ? null : closedAt - t0, bytesSent: sent };
  }

  private medianRound(): number {
    const r = [...this.rounds.values()].sort((a, b) => a - b);
    return r.length ? r[Math.floor(r.length / 2)] : -1;
  }

  async stop(): Promise<void> {
    this.stopGhost();
    await this.node.stop();
  }

  private overhear(msg: Message): void {
    if (!this.topics.has(msg.topic)) return;
    let m: NodeMessage;
    try {
      m = decodeMessage(msg.data);
    } catch {
      return;
    }
    if (m.kind !== 'announce') return;
    this.identity ??= { runId: m.runId, modelFingerprint: m.modelFingerprint, configHash: m.configHash };
    this.heardRound = Math.max(this.heardRound, m.round);
    if (msg.type === 'signed') {
      this.rounds.set(msg.from.toString(), m.round);
      this.addrs.set(msg.from.toString(), m.addrs);
    }
    if (msg.type === 'signed' && m.peers.some((a) => a.endsWith(`/p2p/${this.peerId}`))) this.listedBy.add(msg.from.toString());
  }
}
