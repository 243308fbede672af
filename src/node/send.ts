// Sending one update: a same-for-everyone payload under the gossip threshold rides gossipsub
// once (relayed to members we have no connection to); everything else (large, per-recipient,
// or recipients that are not members yet) goes to each recipient over the direct protocol.
import { peerIdFromString } from '@libp2p/peer-id';
import type { ExchangeRequest, PeerId } from '../peer/transport.js';
import { errorMessage, sendUpdate } from './direct.js';
import { checkPayload, maxFrameBytes, type TransportCore } from './transport-options.js';
import { encodeMessage, type UpdateMessage } from './wire.js';

/** Sends updates for one transport. */
export class UpdateSender {
  constructor(
    private readonly core: TransportCore,
    /** Called before a direct send to a peer without a connection (dial on demand). */
    private readonly ensureConnected: (to: PeerId, signal: AbortSignal) => Promise<void>,
    /** The peers this peer keeps connections to (topology and member-ring neighbours). */
    private readonly wanted: () => ReadonlyMap<PeerId, unknown>,
  ) {}

  /**
   * Publishes a same-for-everyone payload that fits the gossip threshold on gossipsub; returns the
   * recipients still to be reached directly (all of them for large or per-recipient payloads),
   * and the payload bytes gossipsub took for the others (payload × recipients reached that way).
   */
  async publishSmall(req: ExchangeRequest): Promise<{ direct: PeerId[]; gossipedBytes: number }> {
    const { core } = this;
    const recipients = [...new Set(req.sendTo)].filter((p) => p !== core.self);
    if (recipients.length === 0) return { direct: [], gossipedBytes: 0 };
    if (!(req.payload instanceof Uint8Array)) return { direct: recipients, gossipedBytes: 0 };
    checkPayload(core.o, req.payload);
    const msg: UpdateMessage = { kind: 'update', runId: core.options.identity.runId, round: req.round, phase: req.phase, to: recipients, payload: req.payload };
    const bytes = encodeMessage(msg);
    if (bytes.byteLength > core.o.gossipThresholdBytes) return { direct: recipients, gossipedBytes: 0 };
    const pubsub = core.node.libp2p.services.pubsub;
    const subscribed = new Set(pubsub.getSubscribers(core.topic).map((p) => p.toString()));
    // A member not connected to us is still on the topic: gossipsub relays to it through the
    // overlay (every peer keeps its member-ring neighbours), so it needs no dial of its own
    // (an exact merge or a server reaches everyone this way). But a neighbour this peer keeps a
    // connection to, and has none to yet, goes direct: relaying needs the overlay's mesh, which
    // forms one heartbeat after the connections do, and a message that finds no mesh is lost
    // for the exchange (seen at round 0 on a loaded machine).
    const want = this.wanted();
    const viaGossip = recipients.filter((p) => subscribed.has(p) || (core.membership.isAccepted(p) && !want.has(p)));
    if (!subscribed.size || !viaGossip.length) return { direct: recipients, gossipedBytes: 0 };
    try {
      const res = await pubsub.publish(core.topic, bytes);
      if (res.recipients.length) return { direct: recipients.filter((p) => !viaGossip.includes(p)), gossipedBytes: req.payload.byteLength * viaGossip.length };
    } catch (err) {
      core.log(`round ${req.round} phase ${req.phase}: gossipsub publish failed (${errorMessage(err)}); sending directly`);
    }
    return { direct: recipients, gossipedBytes: 0 };
  }

  /** Sends one recipient its payload over the direct protocol; true when the receiver answered. */
  async sendDirect(req: ExchangeRequest, to: PeerId, signal: AbortSignal): Promise<boolean> {
    const { core } = this;
    const payload = req.payload instanceof Uint8Array ? req.payload : req.payload.get(to);
    if (!payload) return false;
    const where = `update for round ${req.round} phase ${req.phase} to ${to}`;
    try {
      checkPayload(core.o, payload);
      await this.ensureConnected(to, signal);
      const msg: UpdateMessage = { kind: 'update', runId: core.options.identity.runId, round: req.round, phase: req.phase, to: [], payload };
      const ack = await sendUpdate(core.node.libp2p, peerIdFromString(to), msg, { signal, maxFrameBytes: maxFrameBytes(core.o) });
      if (ack.status === 'rejected') core.log(`${where} rejected by the receiver: ${ack.reason}`);
      return true;
    } catch (err) {
      core.log(signal.aborted ? `${where} not delivered before the deadline` : `${where} failed: ${errorMessage(err)}`);
      return false;
    }
  }
}
