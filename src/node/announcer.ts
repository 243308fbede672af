// This peer's messages on the run topic: periodic announcements (identity, addresses, round,
// join round, the members it knows, the drops it decided), debounced extra ones on news, and
// the leave.
import type { NodeMessage } from './wire.js';
import { encodeMessage } from './wire.js';
import { errorMessage } from './direct.js';
import type { TransportCore } from './transport-options.js';

/** Coalesces bursts of news (new subscribers, members) into one announcement. */
const ANNOUNCE_DEBOUNCE_MS = 50;

/** Publishes one transport's announcements. */
export class Announcer {
  private timer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly core: TransportCore,
    /** Called before each announcement (redial, recompute the join round); returns the join round to announce. */
    private readonly beforeAnnounce: () => number,
  ) {}

  /** Announces now and every announceIntervalMs. */
  async start(): Promise<void> {
    this.timer = setInterval(() => void this.announce(), this.core.o.announceIntervalMs);
    this.timer.unref();
    await this.announce();
  }

  async announce(): Promise<void> {
    if (this.closed) return;
    const { core } = this;
    const joinRound = this.beforeAnnounce();
    const { runId, modelFingerprint, configHash } = core.options.identity;
    const msg: NodeMessage = {
      kind: 'announce',
      runId,
      modelFingerprint,
      configHash,
      addrs: core.node.addresses().slice(0, 64),
      round: core.membership.activeRound,
      joinRound,
      peers: core.membership
        .members()
        .filter((id) => id !== core.self)
        .flatMap((id) => {
          const first = core.membership.addrsOf(id)[0];
          return first ? [first] : [];
        })
        .slice(0, 1024),
      gone: core.membership.drops(),
      role: core.options.role ?? 'member',
    };
    await this.publish(msg);
  }

  /** An announcement within ANNOUNCE_DEBOUNCE_MS (one for a burst of calls). */
  announceSoon(): void {
    if (this.closed || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.announce();
    }, ANNOUNCE_DEBOUNCE_MS);
    this.debounceTimer.unref();
  }

  /** Tells the run this peer stops after `lastRound`. */
  async leave(lastRound: number): Promise<void> {
    await this.publish({ kind: 'leave', runId: this.core.options.identity.runId, lastRound });
  }

  /** Stops announcing (the leave is sent before). */
  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    clearTimeout(this.debounceTimer);
  }

  private async publish(msg: NodeMessage): Promise<void> {
    try {
      await this.core.node.libp2p.services.pubsub.publish(this.core.topic, encodeMessage(msg));
    } catch (err) {
      this.core.logOnce(`publish:${msg.kind}:${errorMessage(err)}`, `cannot publish ${msg.kind}: ${errorMessage(err)}`);
    }
  }
}
