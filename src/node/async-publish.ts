// Asynchronous gossip over libp2p: `publish` sends without waiting (small payloads ride
// gossipsub, large ones go direct through a latest-wins queue per recipient), and the latest
// update per in-neighbour is kept for the peer to mix at its own pace.
import type { Envelope, ExchangeRequest, PeerId } from '../peer/transport.js';
import { LatestInbox } from './latest-inbox.js';
import { LatestSender } from './latest-sender.js';
import type { UpdateSender } from './send.js';
import { checkPayload, type ResolvedTransportOptions } from './transport-options.js';

/** The asynchronous side of one transport. */
export class AsyncPublisher {
  readonly inbox: LatestInbox;
  private readonly queue: LatestSender<ExchangeRequest>;
  private readonly stop = new AbortController();
  private sent = 0;

  constructor(
    private readonly o: ResolvedTransportOptions,
    private readonly sender: UpdateSender,
    maxStaleness: number,
    private readonly sendTimeoutMs: number,
  ) {
    this.inbox = new LatestInbox(maxStaleness);
    this.queue = new LatestSender<ExchangeRequest>((to, req) => this.sendOne(req, to));
  }

  /** Sends an update to `sendTo` without waiting for anyone; a newer one replaces one still queued behind a slow receiver. */
  publish(message: { readonly round: number; readonly phase: number; readonly payload: Uint8Array; readonly sendTo: readonly PeerId[] }): void {
    checkPayload(this.o, message.payload);
    const req: ExchangeRequest = { ...message, expectFrom: [], deadlineMs: this.sendTimeoutMs };
    void this.sender.publishSmall(req).then(({ direct, gossipedBytes }) => {
      this.sent += gossipedBytes;
      for (const to of direct) this.queue.post(to, req);
    });
  }

  private async sendOne(req: ExchangeRequest, to: PeerId): Promise<void> {
    if (this.stop.signal.aborted) return;
    const delivered = await this.sender.sendDirect(req, to, AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.sendTimeoutMs)]));
    if (delivered && req.payload instanceof Uint8Array) this.sent += req.payload.byteLength;
  }

  /** The latest update held from each of `from`, as of this peer's `round` (older than the staleness bound: dropped). */
  latest(from: readonly PeerId[], round: number): readonly Envelope[] {
    this.inbox.advanceTo(round);
    return this.inbox.latest(from);
  }

  /** Payload bytes sent (delivered) and kept since the last call. */
  takeTraffic(): { sent: number; received: number } {
    const sent = this.sent;
    this.sent = 0;
    return { sent, received: this.inbox.takeReceivedBytes() };
  }

  /** Drops queued sends and aborts those in flight. */
  close(): void {
    this.queue.clear();
    this.stop.abort();
  }
}
