// `Transport` over libp2p: membership announcements and small updates on one gossipsub topic
// per run, large and per-recipient updates over the direct update protocol. Every update is
// checked (envelope, run, sender, position, the codec's `validate` hook) before an exchange
// sees it: malformed → gossipsub Reject and a log line, stale → Ignore. Refusals are logged at
// a bounded rate (RefusalLog). Exchanges wait only for members that may still send (Liveness,
// silence, progress), and rounds are skipped only on progress confirmed by members.
import { setMaxListeners } from 'node:events';
import { peerIdFromString } from '@libp2p/peer-id';
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Envelope, ExchangeRequest, ExchangeResult, PeerId, Transport } from '../peer/transport.js';
import type { AsyncTransport } from '../peer/async-gossip.js';
import { MERGE_PHASE } from '../peer/gossip.js';
import { GossipflError } from '../util/errors.js';
import type { GossipflNode } from './create-node.js';
import { handleUpdateProtocol, sendUpdate, errorMessage, UPDATE_PROTOCOL } from './direct.js';
import { Inbox } from './inbox.js';
import { LatestInbox } from './latest-inbox.js';
import { LatestSender } from './latest-sender.js';
import { Membership, compareIds, JOIN_MARGIN, peerOfAddr, type RunIdentity } from './membership.js';
import { Liveness } from './liveness.js';
import { RefusalLog } from './refusal-log.js';
import { decodeMessage, encodeMessage, type AckMessage, type NodeMessage, type UpdateMessage } from './wire.js';

/** The codec's verdict on an update's bytes. `stale` marks a valid but outdated update (ignored, not punished). */
export type ValidateResult = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly stale?: boolean };

/** Checks an update's payload; `at` is the (round, phase) its envelope claims. */
export type ValidateUpdate = (bytes: Uint8Array, from: PeerId, at: { readonly round: number; readonly phase: number }) => ValidateResult;

/** What became of one message from the network: every gossip message and every direct update gets exactly one. */
export interface InboundVerdict {
  readonly via: 'gossip' | 'stream';
  readonly from: PeerId;
  /** The node message's kind, or 'malformed' when it did not decode. */
  readonly kind: NodeMessage['kind'] | 'malformed';
  /** accept: taken (delivered, buffered, or membership news); forward: valid but for other peers; ignore/reject: refused. */
  readonly result: 'accept' | 'forward' | 'ignore' | 'reject';
  /** Why it was refused or forwarded (empty when accepted). */
  readonly reason: string;
}

/** Options for a Libp2pTransport. */
export interface Libp2pTransportOptions {
  readonly identity: RunIdentity;
  /** Checks an update's codec bytes before anything else sees them (the lead wires the compression codec in). */
  readonly validate: ValidateUpdate;
  /** Largest update payload accepted or sent (bytes): the model's encoded size. Default 64 MiB. */
  readonly maxPayloadBytes?: number;
  /**
   * Same-for-everyone payloads up to this size (encoded) ride gossipsub; larger ones go over the
   * direct protocol. Default 16 KiB: on loopback, all-to-all among 4-8 directly connected peers,
   * the stream was as fast at 16 KiB and 2-7× faster from 64 KiB up (gossipsub forwards copies
   * through the mesh and signs every message). Gossipsub's strength is reach through relays.
   */
  readonly gossipThresholdBytes?: number;
  /** How often a peer re-announces itself (ms). Default 2000. */
  readonly announceIntervalMs?: number;
  /** A member not heard from for this long leaves at the next round boundary (ms). Default 5 × announceIntervalMs. */
  readonly silentAfterMs?: number;
  /**
   * A member expected in this many consecutive rounds without delivering an update is suspected:
   * exchanges stop waiting for it until it delivers again. Default 2.
   */
  readonly suspectAfterRounds?: number;
  /** Refusals of one kind are logged once per this interval, then counted (ms). Default 10000. */
  readonly refusalLogIntervalMs?: number;
  /** Direct update streams: the fixed part of a frame's overall deadline (ms; see direct.ts). Default 30000. */
  readonly frameTimeoutMs?: number;
  /** Updates at most this many rounds ahead are buffered. Default 2. */
  readonly maxRoundsAhead?: number;
  /** Bytes of early updates buffered in all. Default 4 × maxPayloadBytes. */
  readonly maxBufferedBytes?: number;
  /** Direct sends in flight at once. Default 8. */
  readonly sendConcurrency?: number;
  /** Where log lines go. Default: stderr, prefixed with "gossipfl node:". */
  readonly log?: (line: string) => void;
  /** Called once per message received (counters of refusals by reason, tests). */
  readonly onVerdict?: (verdict: InboundVerdict) => void;
  /**
   * Asynchronous gossip: gossip updates (every phase but the exact merge's) are kept as the
   * latest one per in-neighbour instead of waiting in per-round exchanges; `publish` sends without
   * waiting. `sendTimeoutMs` bounds one direct send (default 30 s).
   */
  readonly asyncGossip?: { readonly maxStaleness: number; readonly sendTimeoutMs?: number };
}

/** Header room in a direct frame beyond the payload (magic, run id, round, phase, lengths). */
const FRAME_OVERHEAD_BYTES = 1024;
/** Coalesces bursts of new subscribers into one announcement. */
const ANNOUNCE_DEBOUNCE_MS = 50;
/** How often the transport checks that its own process was not stopped (and an exchange re-checks whom it waits for). */
const TICK_MS = 250;
/** A tick this much later than due means the process was stopped or starved: the others' silence over that time is not theirs. */
const FROZEN_AFTER_MS = 2000;
/** After publishing a leave, time for it to be written out before the node stops (ms). */
const LEAVE_FLUSH_MS = 300;

type Verdict = { readonly result: 'accept' | 'ignore' | 'reject' | 'forward'; readonly reason: string };

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
  private readonly membership: Membership;
  private readonly inbox: Inbox;
  private readonly o: Required<Omit<Libp2pTransportOptions, 'identity' | 'validate' | 'log' | 'onVerdict' | 'asyncGossip'>>;
  private readonly liveness: Liveness;
  private readonly refusals: RefusalLog;
  /** Asynchronous gossip only: the latest update per in-neighbour, and latest-wins outgoing queues. */
  private readonly async: { inbox: LatestInbox; sender: LatestSender<ExchangeRequest>; sendTimeoutMs: number; stop: AbortController; sent: number } | undefined;
  private readonly log: (line: string) => void;
  private readonly loggedOnce = new Set<string>();
  /** The round this peer joins at; recomputed from what it hears until fixed by waitForMembers or the first round. */
  private joinRound = 0;
  private joinFixed = false;
  private closed = false;
  private exchanging = false;
  private announceTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private lastTickMs = Date.now();
  private debounceTimer: NodeJS.Timeout | undefined;
  private readonly onSubscriptionChange = (): void => this.announceSoon();

  private constructor(
    readonly node: GossipflNode,
    private readonly options: Libp2pTransportOptions,
  ) {
    this.self = node.peerId;
    this.topic = `gossipfl/run/${options.identity.runId}/1`;
    const maxPayloadBytes = positive('maxPayloadBytes', options.maxPayloadBytes ?? 64 * 1024 * 1024);
    const announceIntervalMs = positive('announceIntervalMs', options.announceIntervalMs ?? 2000);
    this.o = {
      maxPayloadBytes,
      gossipThresholdBytes: positive('gossipThresholdBytes', options.gossipThresholdBytes ?? 16 * 1024),
      announceIntervalMs,
      silentAfterMs: positive('silentAfterMs', options.silentAfterMs ?? 5 * announceIntervalMs),
      maxRoundsAhead: positive('maxRoundsAhead', options.maxRoundsAhead ?? 2),
      maxBufferedBytes: positive('maxBufferedBytes', options.maxBufferedBytes ?? 4 * maxPayloadBytes),
      sendConcurrency: positive('sendConcurrency', options.sendConcurrency ?? 8),
      suspectAfterRounds: positive('suspectAfterRounds', options.suspectAfterRounds ?? 2),
      refusalLogIntervalMs: positive('refusalLogIntervalMs', options.refusalLogIntervalMs ?? 10_000),
      frameTimeoutMs: positive('frameTimeoutMs', options.frameTimeoutMs ?? 30_000),
    };
    if (this.o.gossipThresholdBytes > node.options.maxGossipBytes) {
      throw new GossipflError('config', `transport: gossipThresholdBytes ${this.o.gossipThresholdBytes} exceeds the node's gossip limit ${node.options.maxGossipBytes}`);
    }
    this.log = options.log ?? ((line) => process.stderr.write(`gossipfl node: ${line}\n`));
    this.membership = new Membership(this.self, options.identity, this.o.silentAfterMs);
    this.liveness = new Liveness(this.o.suspectAfterRounds);
    this.refusals = new RefusalLog(this.log, this.o.refusalLogIntervalMs);
    this.inbox = new Inbox({ maxRoundsAhead: this.o.maxRoundsAhead, maxBufferedBytes: this.o.maxBufferedBytes });
    const a = options.asyncGossip;
    this.async = a && {
      inbox: new LatestInbox(a.maxStaleness),
      sender: new LatestSender<ExchangeRequest>((to, req) => this.sendAsync(req, to)),
      sendTimeoutMs: positive('asyncGossip.sendTimeoutMs', a.sendTimeoutMs ?? 30_000),
      stop: new AbortController(),
      sent: 0,
    };
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
    pubsub.topicValidators.set(this.topic, (_peer, msg) => this.onGossip(msg));
    pubsub.subscribe(this.topic);
    pubsub.addEventListener('subscription-change', this.onSubscriptionChange);
    await handleUpdateProtocol(libp2p, {
      maxFrameBytes: this.maxFrameBytes,
      frameTimeoutMs: this.o.frameTimeoutMs,
      log: this.log,
      refused: (kind, line) => this.refusals.refuse(kind, line),
      // Streams from peers that are not accepted members are refused before any byte is read.
      admit: (from) => this.membership.isAccepted(from),
      onUpdate: (from, msg) => this.onDirectUpdate(from, msg),
    });
    this.announceTimer = setInterval(() => void this.announce(), this.o.announceIntervalMs);
    this.announceTimer.unref();
    this.lastTickMs = this.now();
    this.tickTimer = setInterval(() => this.checkFrozen(), TICK_MS);
    this.tickTimer.unref();
    await this.announce();
  }

  private get maxFrameBytes(): number {
    return this.o.maxPayloadBytes + FRAME_OVERHEAD_BYTES;
  }

  now(): number {
    return Date.now();
  }

  /**
   * The round a peer about to run round `current` should skip to, or null to run it: the
   * highest round confirmed by the current members (reported, in their own signed
   * announcements or valid updates, by at least two of them or by the only other one) when it
   * is two or more rounds past `current`, or the round this peer re-joins at after the others dropped it.
   * One member's claim, and anything said by a peer that is not a member, changes nothing.
   */
  confirmedRoundAhead(current: number): number | null {
    this.checkFrozen();
    return this.membership.roundAhead(current);
  }

  /**
   * Why this peer cannot take part in `round` with anyone (null if it can): every other member
   * has left or been dropped, or the others dropped this peer and it re-joins only after
   * `lastRound`, the run's last round. The round loop stops there instead of running alone.
   */
  aloneReason(round: number, lastRound: number): string | null {
    const rejoin = this.membership.rejoinRound;
    if (rejoin !== null) {
      if (rejoin <= lastRound) return null; // it skips to its re-join round
      return `the other members dropped this peer (silent for over ${this.o.silentAfterMs} ms: stopped or starved) and the run ends before it could re-join at round ${rejoin + 1}`;
    }
    if (this.membership.setOf(round).length >= 2) return null;
    return `no other member is left in round ${round + 1} (the others left or were silent for over ${this.o.silentAfterMs} ms)`;
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
    if (gone.length) this.announceSoon();
    return this.membership.beginRound(round);
  }

  /**
   * Waits until at least `count` members (self included) have announced themselves. Rejects
   * after `timeoutMs` with an error that names who was found, who was refused and which
   * bootstrap peers stay unreachable.
   */
  async waitForMembers(count: number, timeoutMs: number): Promise<StartInfo> {
    const t0 = this.now();
    while (this.membership.members().length < count) {
      if (this.closed) throw new GossipflError('network', 'transport closed while waiting for members');
      if (this.now() - t0 > timeoutMs) throw this.membersTimeout(count, timeoutMs);
      await sleep(25);
    }
    if (!this.joinFixed) {
      this.joinRound = this.membership.joinRoundForNewcomer();
      this.joinFixed = true;
    }
    const startRound = this.membership.activeRound >= 0 ? this.membership.activeRound : this.joinRound;
    await this.announce();
    return { members: this.membership.members(), startRound };
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
      if (req.phase === 0) this.beginRound(req.round);
      return await this.runExchange(req);
    } finally {
      this.exchanging = false;
    }
  }

  private async runExchange(req: ExchangeRequest): Promise<ExchangeResult> {
    const expected = [...new Set(req.expectFrom)].filter((p) => p !== this.self);
    const delivered = new Set<PeerId>();
    let allIn!: () => void;
    const received = new Promise<void>((resolve) => (allIn = resolve));
    // Done when every expected member that may still send has delivered: a suspected, silent or
    // departed one, or one already two rounds past this one, is not waited for (its update is
    // still taken if it comes while we wait for others). Dropped by the others, wait for nobody.
    // But with a finite deadline, a peer that got nothing and waits for nobody still waits it out:
    // otherwise it would race through rounds alone (a resumed straggler, all neighbours suspected)
    // before it could even hear where the others are.
    const check = (): void => {
      const out = this.membership.rejoinRound !== null && this.membership.rejoinRound > req.round;
      const pending = expected.filter((p) => !delivered.has(p));
      const lone = delivered.size === 0 && Number.isFinite(req.deadlineMs);
      if (out || pending.length === 0 || (!lone && pending.every((p) => !this.mayStillSend(p, req.round)))) allIn();
    };
    this.inbox.openExchange(req.round, req.phase, expected, (env) => {
      delivered.add(env.from);
      check();
    });
    check();
    const ticker = setInterval(check, TICK_MS);
    const deadline = new AbortController();
    setMaxListeners(Infinity, deadline.signal); // one listener per concurrent send
    const timer = Number.isFinite(req.deadlineMs) ? setTimeout(() => deadline.abort(new DeadlineError(req)), Math.max(0, req.deadlineMs)) : undefined;
    const timedOut = new Promise<void>((resolve) => deadline.signal.addEventListener('abort', () => resolve(), { once: true }));
    try {
      const sent = this.sendAll(req, deadline.signal);
      await Promise.race([received, timedOut]);
      await sent;
    } finally {
      clearInterval(ticker);
      clearTimeout(timer);
      if (!deadline.signal.aborted) deadline.abort(new DeadlineError(req));
    }
    const got = this.inbox.closeExchange();
    const from = new Set(got.map((e) => e.from));
    const change = this.liveness.record(req.round, expected, from);
    for (const id of change.suspected) {
      this.log(`member ${id} sent no update in ${this.o.suspectAfterRounds} rounds in a row: not waiting for it until it sends again`);
    }
    for (const id of change.readmitted) this.log(`member ${id} sends again: waiting for it again`);
    return { received: got, missing: expected.filter((p) => !from.has(p)).sort(compareIds) };
  }

  /** Whether an exchange of `round` still waits for `peer` (see runExchange). */
  private mayStillSend(peer: PeerId, round: number): boolean {
    return this.liveness.waitsFor(peer) && this.membership.mayStillSend(peer, round, this.now(), this.o.silentAfterMs);
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

  /** Sends this peer's payload(s); never rejects (failures are logged; the receivers report us missing). */
  private async sendAll(req: ExchangeRequest, signal: AbortSignal): Promise<void> {
    const direct = await this.publishSmall(req);
    await pool(direct, this.o.sendConcurrency, (to) => this.sendDirect(req, to, signal).then(() => undefined));
  }

  /**
   * Publishes a same-for-everyone payload that fits the gossip threshold on gossipsub; returns the
   * recipients still to be reached directly (all of them for large or per-recipient payloads).
   */
  private async publishSmall(req: ExchangeRequest): Promise<PeerId[]> {
    const recipients = [...new Set(req.sendTo)].filter((p) => p !== this.self);
    if (recipients.length === 0) return [];
    let direct = recipients;
    if (req.payload instanceof Uint8Array) {
      this.checkPayload(req.payload);
      const msg: UpdateMessage = { kind: 'update', runId: this.options.identity.runId, round: req.round, phase: req.phase, to: recipients, payload: req.payload };
      const bytes = encodeMessage(msg);
      if (bytes.byteLength <= this.o.gossipThresholdBytes) {
        const pubsub = this.node.libp2p.services.pubsub;
        const subscribed = new Set(pubsub.getSubscribers(this.topic).map((p) => p.toString()));
        const viaGossip = recipients.filter((p) => subscribed.has(p));
        if (viaGossip.length) {
          try {
            const res = await pubsub.publish(this.topic, bytes);
            if (res.recipients.length) {
              direct = recipients.filter((p) => !subscribed.has(p));
              if (this.async) this.async.sent += req.payload.byteLength * viaGossip.length;
            }
          } catch (err) {
            this.log(`round ${req.round} phase ${req.phase}: gossipsub publish failed (${errorMessage(err)}); sending directly`);
          }
        }
      }
    }
    return direct;
  }

  /** Sends one recipient its payload over the direct protocol; true when the receiver answered. */
  private async sendDirect(req: ExchangeRequest, to: PeerId, signal: AbortSignal): Promise<boolean> {
    const payload = req.payload instanceof Uint8Array ? req.payload : req.payload.get(to);
    if (!payload) return false;
    const where = `update for round ${req.round} phase ${req.phase} to ${to}`;
    try {
      this.checkPayload(payload);
      const msg: UpdateMessage = { kind: 'update', runId: this.options.identity.runId, round: req.round, phase: req.phase, to: [], payload };
      const ack = await sendUpdate(this.node.libp2p, peerIdFromString(to), msg, { signal, maxFrameBytes: this.maxFrameBytes });
      if (ack.status === 'rejected') this.log(`${where} rejected by the receiver: ${ack.reason}`);
      return true;
    } catch (err) {
      this.log(signal.aborted ? `${where} not delivered before the deadline` : `${where} failed: ${errorMessage(err)}`);
      return false;
    }
  }

  // ---- asynchronous gossip ----

  private asyncState(what: string): NonNullable<Libp2pTransport['async']> {
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
    const a = this.asyncState('publish');
    this.checkPayload(message.payload);
    const req: ExchangeRequest = { ...message, expectFrom: [], deadlineMs: a.sendTimeoutMs };
    void this.publishSmall(req).then((direct) => {
      for (const to of direct) a.sender.post(to, req);
    });
  }

  private async sendAsync(req: ExchangeRequest, to: PeerId): Promise<void> {
    const a = this.asyncState('publish');
    if (a.stop.signal.aborted) return;
    const delivered = await this.sendDirect(req, to, AbortSignal.any([a.stop.signal, AbortSignal.timeout(a.sendTimeoutMs)]));
    if (delivered && req.payload instanceof Uint8Array) a.sent += req.payload.byteLength;
  }

  /** Sets the peers whose updates this peer mixes (its in-neighbours); updates of others are refused. */
  setAsyncSenders(ids: Iterable<PeerId>): void {
    this.asyncState('setAsyncSenders').inbox.setSenders(ids);
  }

  /** The latest update held from each of `from`, as of this peer's `round` (older than the staleness bound: dropped). */
  latest(from: readonly PeerId[], round: number): readonly Envelope[] {
    const { inbox } = this.asyncState('latest');
    inbox.advanceTo(round);
    return inbox.latest(from);
  }

  /** Payload bytes of asynchronous updates sent (delivered) and kept since the last call. */
  takeAsyncTraffic(): { sent: number; received: number } {
    const a = this.asyncState('takeAsyncTraffic');
    const sent = a.sent;
    a.sent = 0;
    return { sent, received: a.inbox.takeReceivedBytes() };
  }

  /**
   * A barrier for peers that run at their own pace: announces that this peer is at `round`, then
   * waits until every other member of the round has announced `round` or later, or has left
   * before it, or has been silent longer than the silence limit. Polls; no deadline of its own.
   */
  async waitForRound(round: number, signal?: AbortSignal): Promise<void> {
    await this.announce();
    for (;;) {
      if (this.closed) throw new GossipflError('network', 'transport closed while waiting at a barrier');
      if (signal?.aborted) throw new GossipflError('network', `interrupted while waiting for the other members to reach round ${round}`);
      if (this.membership.behind(round, this.now(), this.o.silentAfterMs).length === 0) return;
      await sleep(25);
    }
  }

  private checkPayload(payload: Uint8Array): void {
    if (payload.byteLength > this.o.maxPayloadBytes) {
      throw new GossipflError('config', `transport: update payload of ${payload.byteLength} bytes exceeds maxPayloadBytes ${this.o.maxPayloadBytes}; raise it on every peer`);
    }
  }

  // ---- receiving ----

  private onGossip(msg: Message): TopicValidatorResult {
    // StrictSign makes gossipsub drop unsigned messages before us; refuse any that slip through.
    const from = msg.type === 'signed' ? msg.from.toString() : 'an unsigned sender';
    const { kind, verdict } = msg.type === 'signed' ? this.judgeGossip(from, msg.data) : { kind: 'malformed' as const, verdict: reject('unsigned message') };
    this.options.onVerdict?.({ via: 'gossip', from, kind, ...verdict });
    switch (verdict.result) {
      case 'reject':
        return TopicValidatorResult.Reject;
      case 'ignore':
        return TopicValidatorResult.Ignore;
      default:
        return TopicValidatorResult.Accept;
    }
  }

  private judgeGossip(from: string, data: Uint8Array): { kind: InboundVerdict['kind']; verdict: Verdict } {
    let decoded: NodeMessage;
    try {
      decoded = decodeMessage(data);
    } catch (err) {
      this.refusals.refuse('malformed gossip message', `gossip message from ${from} rejected: ${errorMessage(err)}`);
      return { kind: 'malformed', verdict: reject(errorMessage(err)) };
    }
    switch (decoded.kind) {
      case 'announce':
        return { kind: 'announce', verdict: this.onAnnounce(from, decoded) };
      case 'leave':
        if (decoded.runId !== this.options.identity.runId) return { kind: 'leave', verdict: { result: 'ignore', reason: `leave for run "${decoded.runId}"` } };
        if (!this.membership.isAccepted(from)) {
          this.refusals.refuse('leave from a non-member', `leave from ${from} ignored: not a member of the run`);
          return { kind: 'leave', verdict: { result: 'ignore', reason: 'not a member' } };
        }
        this.membership.onLeave(from, decoded.lastRound);
        this.log(`member ${from} leaves after round ${decoded.lastRound}`);
        return { kind: 'leave', verdict: ACCEPTED };
      case 'update':
        return { kind: 'update', verdict: this.admitUpdate(from, decoded) };
      case 'ack':
        this.refusals.refuse('ack on the run topic', `gossip message from ${from} rejected: an ack has no place on the run topic`);
        return { kind: 'ack', verdict: reject('an ack has no place on the run topic') };
    }
  }

  private onAnnounce(from: string, ann: Extract<NodeMessage, { kind: 'announce' }>): Verdict {
    const verdict = this.membership.onAnnounce(from, ann, this.now());
    if (verdict.status === 'refused') {
      this.refusals.refuse(`announcement of another run identity`, `refused peer ${from}: ${verdict.reason}`);
      return { result: 'ignore', reason: verdict.reason };
    }
    if (verdict.status === 'held') {
      // Not a member (yet): what it says changes nothing here, and it makes us dial nobody.
      this.refusals.refuse('announcement held back', `peer ${from} heard; it joins once it announces a future round (it asked for round ${ann.joinRound + 1})`);
      return { result: 'ignore', reason: 'held back: not a member yet' };
    }
    if (verdict.status === 'accepted') {
      this.log(`peer ${from} accepted (joins at round ${ann.joinRound + 1})`);
      this.connectTo(from, ann.addrs);
      this.announceSoon();
    }
    const rejoin = this.membership.rejoinRound;
    if (rejoin !== null && rejoin !== this.joinRound) {
      this.joinRound = rejoin;
      this.log(`the other members dropped this peer; it re-joins at round ${rejoin + 1}`);
      this.announceSoon();
    }
    this.dialUnknownPeers(ann.peers);
    return ACCEPTED;
  }

  private async onDirectUpdate(from: string, msg: UpdateMessage): Promise<AckMessage> {
    const v = this.admitUpdate(from, msg);
    this.options.onVerdict?.({ via: 'stream', from, kind: 'update', ...v });
    const status = v.result === 'accept' ? 'accepted' : v.result === 'reject' ? 'rejected' : 'ignored';
    return { kind: 'ack', status, reason: v.reason };
  }

  /** The checks every update passes, whichever way it came; delivers it to the inbox when admitted. */
  private admitUpdate(from: string, msg: UpdateMessage): Verdict {
    const where = `update from ${from} (round ${msg.round} phase ${msg.phase})`;
    if (msg.runId !== this.options.identity.runId) {
      this.refusals.refuse('update for another run', `${where} rejected: it is for run "${msg.runId}", not "${this.options.identity.runId}"`);
      return { result: 'reject', reason: `wrong run id ${msg.runId}` };
    }
    if (!this.membership.isAccepted(from)) {
      const why = this.membership.refusal(from) ?? 'it has not announced itself';
      this.refusals.refuse('update from a non-member', `${where} ignored: not a member of the run (${why})`);
      return { result: 'ignore', reason: 'not a member' };
    }
    // Any recent update from a suspected member, even one too late for its exchange: it is alive.
    if (msg.round + 1 >= this.membership.activeRound && this.liveness.heard(from)) this.log(`member ${from} sends again: waiting for it again`);
    if (msg.payload.byteLength > this.o.maxPayloadBytes) {
      this.refusals.refuse('update too large', `${where} rejected: payload of ${msg.payload.byteLength} bytes exceeds maxPayloadBytes ${this.o.maxPayloadBytes}`);
      return { result: 'reject', reason: 'payload too large' };
    }
    const forOthers = msg.to.length > 0 && !msg.to.includes(this.self);
    if (!forOthers && this.async && msg.phase !== MERGE_PHASE) return this.admitLatest(this.async.inbox, from, msg, where);
    const place = forOthers ? 'forward' : this.inbox.classify(msg.round, msg.phase, from);
    if (place === 'stale' || place === 'duplicate' || place === 'unexpected') return { result: 'ignore', reason: place };
    if (place === 'overflow') {
      // A valid update far ahead is what a peer that fell behind sees: evidence of the sender's round.
      if (this.checkUpdate(from, msg, where) === null) this.membership.onUpdate(from, msg.round);
      this.refusals.refuse('update too far ahead', `${where} dropped: too far ahead or the early-update buffer is full`);
      return { result: 'ignore', reason: place };
    }
    // Checked before forwarding too: gossipsub must not relay junk addressed to someone else.
    const refused = this.checkUpdate(from, msg, where);
    if (refused) return refused;
    if (forOthers) return { result: 'forward', reason: 'not addressed to us' };
    const got = this.inbox.offer(privateEnvelope(from, msg));
    if (got === 'overflow') {
      this.refusals.refuse('update too far ahead', `${where} dropped: the early-update buffer is full`);
      return { result: 'ignore', reason: got };
    }
    this.membership.onUpdate(from, msg.round);
    return { result: 'accept', reason: '' };
  }

  /** Asynchronous gossip: keeps the update if it is the freshest valid one from an in-neighbour. */
  private admitLatest(inbox: LatestInbox, from: string, msg: UpdateMessage, where: string): Verdict {
    const place = inbox.classify(msg.round, msg.phase, from);
    if (place !== 'kept' && place !== 'replaced') return { result: 'ignore', reason: place };
    // Checked before the payload is copied, as on the in-step path.
    const refused = this.checkUpdate(from, msg, where);
    if (refused) return refused;
    inbox.offer(privateEnvelope(from, msg));
    return ACCEPTED;
  }

  /** The codec's check of an update's payload: null when valid, else the verdict (stale: ignore; malformed: reject, logged). */
  private checkUpdate(from: string, msg: UpdateMessage, where: string): Verdict | null {
    let check: ValidateResult;
    try {
      check = this.options.validate(msg.payload, from, { round: msg.round, phase: msg.phase });
    } catch (err) {
      check = { ok: false, reason: `validate threw: ${errorMessage(err)}` };
    }
    if (check.ok) return null;
    if (check.stale) return { result: 'ignore', reason: `stale: ${check.reason}` };
    this.refusals.refuse('invalid update', `${where} rejected: ${check.reason}`);
    return { result: 'reject', reason: check.reason };
  }

  // ---- membership plumbing ----

  /**
   * Members connect to each other directly (updates go over direct streams). Of each pair only
   * the smaller peer id dials, so two peers hearing each other at once make one connection,
   * not two; the other keeps the addresses for dialling on demand.
   */
  private connectTo(peer: string, addrs: readonly string[]): void {
    const { libp2p } = this.node;
    const id = peerIdFromString(peer);
    if (libp2p.getConnections(id).length > 0) return;
    const mas = multiaddrsOf(addrs);
    if (!mas.length) return;
    void libp2p.peerStore.merge(id, { multiaddrs: mas }).catch(() => undefined);
    if (compareIds(this.self, peer) > 0) return;
    libp2p.dial(mas).catch((err: unknown) => this.logOnce(`dial:${peer}`, `cannot dial member ${peer}: ${errorMessage(err)}`));
  }

  /** Peer exchange: dials members another member knows and we have not heard from yet. */
  private dialUnknownPeers(addrs: readonly string[]): void {
    const { libp2p } = this.node;
    for (const a of addrs) {
      const id = peerOfAddr(a);
      if (!id || id === this.self || this.membership.isAccepted(id) || this.membership.refusal(id) !== undefined) continue;
      let ma;
      try {
        ma = multiaddr(a);
        if (libp2p.getConnections(peerIdFromString(id)).length > 0) continue;
      } catch {
        continue;
      }
      libp2p.dial(ma).catch(() => undefined); // best effort: its own announcement will reach us through gossip anyway
    }
  }

  private announceSoon(): void {
    if (this.closed || this.debounceTimer) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.announce();
    }, ANNOUNCE_DEBOUNCE_MS);
    this.debounceTimer.unref();
  }

  /** Members we have no connection to (it dropped while one side was stopped, or a dial failed): dial them again. */
  private redialMembers(): void {
    const { libp2p } = this.node;
    for (const id of this.membership.members()) {
      if (id === this.self) continue;
      const addrs = this.membership.addrsOf(id);
      let peer;
      try {
        peer = peerIdFromString(id);
      } catch {
        continue;
      }
      if (!addrs.length || libp2p.getConnections(peer).length > 0) continue;
      const mas = multiaddrsOf(addrs);
      if (mas.length) libp2p.dial(mas).catch(() => undefined); // silence handles members that stay unreachable
    }
  }

  private async announce(): Promise<void> {
    if (this.closed) return;
    this.redialMembers();
    if (!this.joinFixed) this.joinRound = this.membership.joinRoundForNewcomer();
    const { runId, modelFingerprint, configHash } = this.options.identity;
    const msg: NodeMessage = {
      kind: 'announce',
      runId,
      modelFingerprint,
      configHash,
      addrs: this.node.addresses().slice(0, 64),
      round: this.membership.activeRound,
      joinRound: this.joinRound,
      peers: this.membership
        .members()
        .filter((id) => id !== this.self)
        .flatMap((id) => {
          const first = this.membership.addrsOf(id)[0];
          return first ? [first] : [];
        })
        .slice(0, 1024),
      gone: this.membership.drops(),
    };
    await this.publishQuietly(msg);
  }

  private async publishQuietly(msg: NodeMessage): Promise<void> {
    try {
      await this.node.libp2p.services.pubsub.publish(this.topic, encodeMessage(msg));
    } catch (err) {
      this.logOnce(`publish:${msg.kind}:${errorMessage(err)}`, `cannot publish ${msg.kind}: ${errorMessage(err)}`);
    }
  }

  private logOnce(key: string, line: string): void {
    if (this.loggedOnce.has(key)) return;
    this.loggedOnce.add(key);
    this.log(line);
  }

  /** Tells the run this peer stops after `lastRound` (default: the current round). */
  async leave(lastRound = this.membership.activeRound): Promise<void> {
    await this.publishQuietly({ kind: 'leave', runId: this.options.identity.runId, lastRound });
  }

  /** Leaves the run and detaches from the node (the node itself keeps running; stop it after). */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.leave();
    this.closed = true;
    // publish() resolves once the leave is queued; give it a moment to be written before the node stops.
    await sleep(LEAVE_FLUSH_MS);
    this.refusals.close();
    clearInterval(this.tickTimer);
    this.async?.sender.clear();
    this.async?.stop.abort();
    clearInterval(this.announceTimer);
    clearTimeout(this.debounceTimer);
    const pubsub = this.node.libp2p.services.pubsub;
    pubsub.removeEventListener('subscription-change', this.onSubscriptionChange);
    pubsub.unsubscribe(this.topic);
    pubsub.topicValidators.delete(this.topic);
    await this.node.libp2p.unhandle(UPDATE_PROTOCOL);
  }
}

const ACCEPTED: Verdict = { result: 'accept', reason: '' };

/** A private plain Uint8Array copy of an update (gossipsub hands out Buffers): offset 0, aligned, independent of gossipsub's cache and stream buffers. */
function privateEnvelope(from: string, msg: UpdateMessage): Envelope {
  return { from, round: msg.round, phase: msg.phase, bytes: new Uint8Array(msg.payload) };
}

/** The addresses that parse as multiaddrs (announcements come from the network). */
function multiaddrsOf(addrs: readonly string[]): Multiaddr[] {
  return addrs.flatMap((a) => {
    try {
      return [multiaddr(a)];
    } catch {
      return [];
    }
  });
}

function reject(reason: string): Verdict {
  return { result: 'reject', reason };
}

class DeadlineError extends Error {
  constructor(req: ExchangeRequest) {
    super(`deadline of ${req.deadlineMs} ms reached in round ${req.round} phase ${req.phase}`);
    this.name = 'DeadlineError';
  }
}

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function positive(field: string, v: number): number {
  if (!Number.isFinite(v) || v <= 0) throw new GossipflError('config', `transport: ${field} ${v} is not a positive number`);
  return v;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
