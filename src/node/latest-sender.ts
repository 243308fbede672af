// Sends that never make the caller wait, for asynchronous gossip: one send in flight per
// recipient, and at most one more queued behind it. A newer message to a recipient replaces the
// one still queued, so a slow receiver gets the freshest model next, and memory stays bounded by
// two messages per recipient however far the sender runs ahead.
import type { PeerId } from '../peer/transport.js';

/** What became of a posted message. */
export type PostResult = 'sending' | 'queued' | 'replaced';

/** Latest-wins queues of outgoing messages, one per recipient. */
export class LatestSender<T> {
  private readonly inFlight = new Map<PeerId, Promise<void>>();
  private readonly queued = new Map<PeerId, T>();

  /** `send` must not reject: it handles (logs) its own failures and timeouts. */
  constructor(private readonly send: (to: PeerId, message: T) => Promise<void>) {}

  /** Sends `message` to `to` now, or queues it behind the send in flight (replacing a queued one). */
  post(to: PeerId, message: T): PostResult {
    if (this.inFlight.has(to)) {
      const replaced = this.queued.has(to);
      this.queued.set(to, message);
      return replaced ? 'replaced' : 'queued';
    }
    this.start(to, message);
    return 'sending';
  }

  /** Recipients with a send in flight. */
  get busy(): number {
    return this.inFlight.size;
  }

  /** Resolves when nothing is in flight or queued. */
  async drain(): Promise<void> {
    while (this.inFlight.size) await Promise.all([...this.inFlight.values()]);
  }

  /** Forgets queued messages (those in flight finish or fail on their own). */
  clear(): void {
    this.queued.clear();
  }

  private start(to: PeerId, message: T): void {
    const p = this.send(to, message)
      .catch(() => undefined)
      .then(() => {
        this.inFlight.delete(to);
        const next = this.queued.get(to);
        if (next !== undefined) {
          this.queued.delete(to);
          this.start(to, next);
        }
      });
    this.inFlight.set(to, p);
  }
}
