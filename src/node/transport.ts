// `Transport` over libp2p: membership announcements and small updates on one gossipsub topic
// per run, large and per-recipient updates over the direct update protocol. This class wires
// the parts and owns the round state; each job lives in its own module:
//   validate-message.ts  what arrives: decoded, checked (run, sender, position, codec) or refused
//   exchange.ts          one synchronous (round, phase) exchange and whom it still waits for
//   send.ts              one update out: gossipsub when small, direct streams otherwise
//   async-publish.ts     asynchronous gossip: send without waiting, keep the latest per sender
//   announcer.ts         announcements and the leave on the run topic
//   dialer.ts            which peers this one keeps connections to (topology and member-ring neighbours)
// Refusals are logged at a bounded rate (RefusalLog); rounds are skipped only on progress
// confirmed by members.
import type { ExchangeRequest, ExchangeResult, PeerId, Envelope, Transport } from '../peer/transport.js';
import type { AsyncTransport } from '../peer/async-gossip.js';
import { GossipflError } from '../util/errors.js';
import type { GossipflNode } from './create-node.js';
import { handleUpdateProtocol, UPDATE_PROTOCOL } from './direct.js';
import { Inbox } from './inbox.js';
import { MERGE_PHASE } from '../peer/gossip.js';
import { Membership, JOIN_MARGIN, peerOfAddr } from './membership.js';
import { Liveness } from './liveness.js';
import { RefusalLog } from './refusal-log.js';
import type { AnnounceMessage, PeerRole } from './wire.js';
import { resolveTransportOptions, maxFrameBytes, positive, sleep, type Libp2pTransportOptions, type ResolvedTransportOptions, type TransportCore } from './transport-options.js';
import { ACCEPTED, MessageValidator, type Verdict } from './validate-message.js';
import { Exchanger, TICK_MS } from './exchange.js';
import { UpdateSender } from './send.js';
import { AsyncPublisher } from './async-publish.js';
import { Announcer } from './announcer.js';
import { Dialer, type ConnectionStats } from './dialer.js';

export type { ValidateResult, ValidateUpdate, InboundVerdict, Libp2pTransportOptions } from './transport-options.js';
export type { ConnectionStats, NeighboursOf } from './dialer.js';

/** A tick this much later than due means the process was stopped or starved: the others' silence over that time is not theirs. */
const FROZEN_AFTER_MS = 2000;
/** After publishing a leave, time for it to be written out before the node stops (ms). */
const LEAVE_FLUSH_MS = 300;

/** What a transport learned before the first round: members and the round to start at. */
export interface StartInfo {
  /** The member set the run starts with (sorted peer ids, self included). */
  readonly members: readonly PeerId[];
  /** The first round this peer takes part in: 0 at the start of a run, later when joining a running one. */
  readonly startRound: number;
}

/** The Transport over libp2p: one gossipsub topic per run for announcements and small updates, direct streams for large and per-recipient ones. */
export class Libp2pTransport implements Transport, AsyncTransport {
  readonly self: PeerId;
  readonly topic: string;
  private readonly o: ResolvedTransportOptions;
  private readonly core: TransportCore;
  private readonly membership: Membership;
  private readonly validator: MessageValidator;
  private readonly exchanger: Exchanger;
  private readonly announcer: Announcer;
  private readonly dialer: Dialer;
  /** Asynchronous gossip only. */
  private readonly async: AsyncPublisher | undefined;
  private readonly log: (line: string) => void;
  private readonly loggedOnce = new Set<string>();
  /** The round this peer joins at; recomputed from what it hears until fixed by waitForMembers or the first round. */
  private joinRound = 0;
  private joinFixed = false;
  private closed = false;
  private exchanging = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private lastTickMs = Date.now();
  private readonly onSubscriptionChange = (): void => this.announcer.announceSoon();

  private constructor(
    readonly node: GossipflNode,
    private readonly options: Libp2pTransportOptions,
  ) {
    this.self = node.peerId;
    this.topic = `gossipfl/run/${options.identity.runId}/1`;
    this.o = resolveTransportOptions(options);
    if (this.o.gossipThresholdBytes > node.options.maxGossipBytes) {
      throw new GossipflError('config', `transport: gossipThresholdBytes ${this.o.gossipThresholdBytes} exceeds the node's gossip limit ${node.options.maxGossipBytes}`);
    }
    this.log = options.log ?? ((line) => process.stderr.write(`gossipfl node: ${line}\n`));
    this.membership = new Membership(this.self, options.identity, this.o.silentAfterMs, options.role ?? 'member');
    this.core = {
      node,
      self: this.self,
      topic: this.topic,
      options,
      o: this.o,
      membership: this.membership,
      inbox: new Inbox({ maxRoundsAhead: this.o.maxRoundsAhead, maxBufferedBytes: this.o.maxBufferedBytes, anyRoundsAheadPhase: MERGE_PHASE }),
      liveness: new Liveness(this.o.suspectAfterRounds),
      refusals: new RefusalLog(this.log, this.o.refusalLogIntervalMs),
      log: this.log,
      logOnce: (key, line) => this.logOnce(key, line),
      now: () => this.now(),
    };
    this.dialer = new Dialer(this.core, options.neighbours, this.o.connectionGraceMs);
    const sender = new UpdateSender(
      this.core,
      (to, signal) => this.dialer.ensureConnected(to, signal),
      () => this.dialer.wanted(),
    );
    this.exchanger = new Exchanger(this.core, sender);
    this.announcer = new Announcer(this.core, () => {
      this.dialer.maintain();
      if (!this.joinFixed) this.joinRound = this.membership.joinRoundForNewcomer();
      return this.joinRound;
    });
    const a = options.asyncGossip;
    this.async = a && new AsyncPublisher(this.o, sender, a.maxStaleness, positive('asyncGossip.sendTimeoutMs', a.sendTimeoutMs ?? 30_000));
    this.validator = new MessageValidator(this.core, this.async?.inbox, (from, ann) => this.onAnnounce(from, ann));
  }

  /** Attaches a transport to a started node: subscribes to the run topic, serves the update protocol, starts announcing. */
  static async start(node: GossipflNode, options: Libp2pTransportOptions): Promise<Libp2pTransport> {
    const t = new Libp2pTransport(node, options);
    await t.attach();
    return t;
  }

  private async attach(): Promise<void> {
    const { libp2p } = this.node;
    const pubsub = libp2p.services.pubsub;
    pubsub.topicValidators.set(this.topic, (_peer, msg) => this.validator.onGossip(msg));
    pubsub.subscribe(this.topic);
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange);
    await handleUpdateProtocol(libp2p, {
      maxFrameBytes: maxFrameBytes(this.o),
      frameTimeoutMs: this.o.frameTimeoutMs,
      log: this.log,
      refused: (kind, line) => this.core.refusals.refuse(kind, line),
      // Streams from peers that are not accepted members are refused before any byte is read.
      admit: (from) => this.membership.isAccepted(from),
      onUpdate: (from, msg) => this.validator.onDirectUpdate(from, msg),
    });
    this.lastTickMs = this.now();
    this.tickTimer = setInterval(() => this.checkFrozen(), TICK_MS);
    this.tickTimer.unref();
    await this.announcer.start();
  }

  now(): number {
    return Date.now();
  }

  /**
   * The round a peer about to run round `current` should skip to, or null to run it: the
   * highest round confirmed by the current members, or in a gossip run by its topology
   * neighbours of that round (reported, in their own signed announcements or valid updates,
   * by at least two of them or by the only other one) when it
   * is two or more rounds past `current`, or the round this peer re-joins at after the others dropped it.
   * One member's claim, and anything said by a peer that is not a member, changes nothing.
   */
  confirmedRoundAhead(current: number): number | null {
    this.checkFrozen();
    const { neighbours } = this.options;
    return this.membership.roundAhead(current, neighbours?.(current, this.membership.setOf(current)));
  }

  /**
   * Why this peer cannot take part in `round` with anyone (null if it can): every other member
   * has left or been dropped, or the others dropped this peer and it re-joins only after
   * `lastRound`, the run's last round. The round loop stops there instead of running alone.
   */
  aloneReason(round: number, lastRound: number): string | null {
    const rejoin = this.membership.rejoinRound;
    if (rejoin !== null && rejoin > round) {
      if (rejoin <= lastRound) return null; // it skips to its re-join round
      return `the other members dropped this peer (silent for over ${this.o.silentAfterMs} ms: stopped or starved) and the run ends before it could re-join at round ${rejoin + 1}`;
    }
    if (this.membership.setOf(round).length >= 2) return null;
    return `no other member is left in round ${round + 1} (the others left or were silent for over ${this.o.silentAfterMs} ms)`;
  }

  /** What a member announced itself as (a federated run's server, or a member that trains); undefined for non-members. */
  roleOf(peer: PeerId): PeerRole | undefined {
    return this.membership.roleOf(peer);
  }

  /** How many peers this one is connected to, now and over the rounds (see dialer.ts). */
  connectionStats(): ConnectionStats {
    return this.dialer.stats();
  }

  /** The member set of the current round (before the first round: the start set heard so far). */
  members(): readonly PeerId[] {
    return this.membership.members();
  }

  /**
   * Fixes the member set of `round` at its boundary and returns it. `exchange` calls it for
   * phase 0 of a new round; call it first when the member set decides who to send to.
   */
  beginRound(round: number): readonly PeerId[] {
    if (round === this.membership.activeRound) return this.membership.members();
    if (!this.joinFixed) {
      this.joinFixed = true;
      this.joinRound = round;
    }
    this.checkFrozen();
    const gone = this.membership.expireSilent(this.now(), this.o.silentAfterMs);
    // Dropped JOIN_MARGIN rounds on, and announced at once, so every member drops it at the same boundary.
    for (const id of gone) this.log(`member ${id} silent for over ${this.o.silentAfterMs} ms: it takes part up to round ${Math.max(0, round - 1) + JOIN_MARGIN + 1}`);
    if (gone.length) this.announcer.announceSoon();
    const members = this.membership.beginRound(round);
    this.dialer.atRound(round);
    return members;
  }

  /**
   * Waits until at least `count` members (self included) have announced themselves. Rejects
   * after `timeoutMs` with an error that names who was found, who was refused and which
   * bootstrap peers stay unreachable.
   */
  async waitForMembers(count: number, timeoutMs: number): Promise<StartInfo> {
    const t0 = this.now();
    while (this.membership.startSet().length < count) {
      if (this.closed) throw new GossipflError('network', 'transport closed while waiting for members');
      if (this.now() - t0 > timeoutMs) throw this.membersTimeout(count, timeoutMs);
      await sleep(25);
    }
    if (!this.joinFixed) {
      this.joinRound = this.membership.joinRoundForNewcomer();
      this.joinFixed = true;
    }
    const startRound = this.membership.activeRound >= 0 ? this.membership.activeRound : this.joinRound;
    await this.announcer.announce();
    return { members: this.membership.startSet(), startRound };
  }

  private membersTimeout(count: number, timeoutMs: number): GossipflError {
    const { libp2p, options } = this.node;
    const have = this.membership.members();
    const connected = new Set(libp2p.getPeers().map((p) => p.toString()));
    const refused = this.membership.refusedPeers();
    // A bootstrap peer that answered with another run identity was reached: the cause is the mismatch, not the network.
    const unreachable = options.bootstrap.filter((a) => {
      const id = peerOfAddr(a) ?? '';
      return !connected.has(id) && !refused.has(id);
    });
    const silent = [...connected].filter((p) => !this.membership.isAccepted(p) && !this.membership.refusal(p));
    const parts = [`waited ${timeoutMs} ms for ${count} members of run "${this.options.identity.runId}", have ${have.length}: ${have.join(', ')}`];
    for (const [id, why] of refused) parts.push(`refused ${id}: ${why}`);
    if (unreachable.length) parts.push(`bootstrap peers not connected: ${unreachable.join(', ')} (check the address, the port and firewalls, and that the PSK files match)`);
    if (silent.length) parts.push(`connected but not announcing this run: ${silent.join(', ')}`);
    if (have.length <= 1 && !unreachable.length && !silent.length && !this.membership.refusedPeers().size) parts.push('no other peer found: pass bootstrap addresses or enable mDNS');
    return new GossipflError('network', parts.join('; '));
  }

  async exchange(req: ExchangeRequest): Promise<ExchangeResult> {
    if (this.closed) throw new GossipflError('network', 'transport: exchange() after close()');
    if (this.exchanging) throw new Error('transport: exchange() called while another exchange is running; await it first');
    this.exchanging = true;
    try {
      // Held from before the round boundary, whose upkeep closes connections nobody uses.
      const release = this.dialer.hold([...req.sendTo, ...req.expectFrom]);
      try {
        if (req.phase === 0) this.beginRound(req.round);
        return await this.exchanger.run(req);
      } finally {
        release();
      }
    } finally {
      this.exchanging = false;
    }
  }

  /**
   * Notices that this process did not run for a while (SIGSTOP, a long pause): nobody could be
   * heard meanwhile, so the others' silence over that time is forgiven instead of dropping them all.
   */
  private checkFrozen(): void {
    const now = this.now();
    const late = now - this.lastTickMs - TICK_MS;
    this.lastTickMs = now;
    if (late < FROZEN_AFTER_MS) return;
    this.membership.forgive(late, now);
    if (late > this.o.silentAfterMs / 2) this.log(`this process did not run for ${(late / 1000).toFixed(1)} s (stopped or starved); the other members may have dropped it`);
  }

  /** Membership news from an announcement that passed the envelope checks. */
  private onAnnounce(from: string, ann: AnnounceMessage): Verdict {
    const verdict = this.membership.onAnnounce(from, ann, this.now());
    if (verdict.status === 'refused') {
      this.core.refusals.refuse(`announcement of another run identity`, `refused peer ${from}: ${verdict.reason}`);
      return { result: 'ignore', reason: verdict.reason };
    }
    if (verdict.status === 'held') {
      // Not a member (yet): what it says changes nothing here, and it makes us dial nobody.
      this.core.refusals.refuse('announcement held back', `peer ${from} heard; it joins once it announces a future round (it asked for round ${ann.joinRound + 1})`);
      return { result: 'ignore', reason: 'held back: not a member yet' };
    }
    if (verdict.status === 'accepted') {
      this.log(`peer ${from} accepted (joins at round ${ann.joinRound + 1})`);
      this.dialer.maintain();
      this.announcer.announceSoon();
    }
    const rejoin = this.membership.rejoinRound;
    if (rejoin !== null && rejoin !== this.joinRound) {
      this.joinRound = rejoin;
      this.log(`the other members dropped this peer; it re-joins at round ${rejoin + 1}`);
      this.announcer.announceSoon();
    }
    return ACCEPTED;
  }

  // ---- asynchronous gossip ----

  private asyncState(what: string): AsyncPublisher {
    if (!this.async) throw new Error(`transport: ${what}() needs the asyncGossip option`);
    return this.async;
  }

  /**
   * Sends this peer's update to `sendTo` without waiting for anyone: small payloads ride
   * gossipsub, large ones go direct through a latest-wins queue per recipient (a newer update
   * replaces one still queued behind a slow receiver).
   */
  publish(message: { readonly round: number; readonly phase: number; readonly payload: Uint8Array; readonly sendTo: readonly PeerId[] }): void {
    if (this.closed) throw new GossipflError('network', 'transport: publish() after close()');
    this.asyncState('publish').publish(message);
  }

  /** Sets the peers whose updates this peer mixes (its in-neighbours); updates of others are refused. */
  setAsyncSenders(ids: Iterable<PeerId>): void {
    this.asyncState('setAsyncSenders').inbox.setSenders(ids);
  }

  /** The latest update held from each of `from`, as of this peer's `round` (older than the staleness bound: dropped). */
  latest(from: readonly PeerId[], round: number): readonly Envelope[] {
    return this.asyncState('latest').latest(from, round);
  }

  /** Payload bytes of asynchronous updates sent (delivered) and kept since the last call. */
  takeAsyncTraffic(): { sent: number; received: number } {
    return this.asyncState('takeAsyncTraffic').takeTraffic();
  }

  /**
   * A barrier for peers that run at their own pace: announces that this peer is at `round`, then
   * waits until every other member of the round has announced `round` or later, or has left
   * before it, or has been silent longer than the silence limit. Polls; no deadline of its own.
   */
  async waitForRound(round: number, signal?: AbortSignal): Promise<void> {
    await this.announcer.announce();
    for (;;) {
      if (this.closed) throw new GossipflError('network', 'transport closed while waiting at a barrier');
      if (signal?.aborted) throw new GossipflError('network', `interrupted while waiting for the other members to reach round ${round}`);
      if (this.membership.behind(round, this.now(), this.o.silentAfterMs).length === 0) return;
      await sleep(25);
    }
  }

  private logOnce(key: string, line: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.log(line);
  }

  /** Tells the run this peer stops after `lastRound` (default: the current round). */
  async leave(lastRound = this.membership.activeRound): Promise<void> {
    await this.announcer.leave(lastRound);
  }

  /** The highest round the current members confirm (as in confirmedRoundAhead); -1 before any started. */
  confirmedRound(): number {
    this.checkFrozen();
    return this.membership.confirmedRound();
  }

  /** After a leave: takes part again from `round` on, announced as a newcomer's join round (a real peer following the churn schedule). */
  async rejoinAt(round: number): Promise<void> {
    this.joinRound = round;
    this.joinFixed = true;
    await this.announcer.announce();
  }

  /** Leaves the run and detaches from the node (the node itself keeps running; stop it after). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.leave();
    this.closed = true;
    this.announcer.close();
    // publish() resolves once the leave is queued; give it a moment to be written before the node stops.
    await sleep(LEAVE_FLUSH_MS);
    this.core.refusals.close();
    clearInterval(this.tickTimer);
    this.async?.close();
    const pubsub = this.node.libp2p.services.pubsub;
    pubsub.removeEventListener('subscription-change', this.onSubscriptionChange);
    pubsub.unsubscribe(this.topic);
    pubsub.topicValidators.delete(this.topic);
    await this.node.libp2p.unhandle(UPDATE_PROTOCOL);
  }
}
