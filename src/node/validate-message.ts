// Admission of what arrives from the network, gossip or stream: decode, then run, sender,
// position and the codec's `validate` hook, before an exchange sees an update. Malformed →
// gossipsub Reject and a (rate-limited) log line; stale or misplaced → Ignore.
import { TopicValidatorResult, type Message } from '@libp2p/gossipsub';
import { MERGE_PHASE } from '../peer/gossip.js';
import { errorMessage } from './direct.js';
import type { LatestInbox } from './latest-inbox.js';
import { privateEnvelope, type InboundVerdict, type TransportCore, type ValidateResult } from './transport-options.js';
import { decodeMessage, type AckMessage, type AnnounceMessage, type NodeMessage, type UpdateMessage } from './wire.js';

/** What became of one message (without the envelope facts of InboundVerdict). */
export type Verdict = { readonly result: 'accept' | 'ignore' | 'reject' | 'forward'; readonly reason: string };

export const ACCEPTED: Verdict = { result: 'accept', reason: '' };

/** Checks every inbound message and hands admitted ones on. */
export class MessageValidator {
  constructor(
    private readonly core: TransportCore,
    /** Asynchronous gossip only: where gossip-phase updates go instead of the per-round inbox. */
    private readonly latestInbox: LatestInbox | undefined,
    /** Decides on an announcement of this run (membership news). */
    private readonly onAnnounce: (from: string, ann: AnnounceMessage) => Verdict,
  ) {}

  /** gossipsub's topic validator. */
  onGossip(msg: Message): TopicValidatorResult {
    // StrictSign makes gossipsub drop unsigned messages before us; refuse any that slip through.
    const from = msg.type === 'signed' ? msg.from.toString() : 'an unsigned sender';
    const { kind, verdict } = msg.type === 'signed' ? this.judgeGossip(from, msg.data) : { kind: 'malformed' as const, verdict: reject('unsigned message') };
    this.core.options.onVerdict?.({ via: 'gossip', from, kind, ...verdict });
    switch (verdict.result) {
      case 'reject':
        return TopicValidatorResult.Reject;
      case 'ignore':
        return TopicValidatorResult.Ignore;
      default:
        return TopicValidatorResult.Accept;
    }
  }

  /** The update protocol's handler: the verdict as an ack. */
  onDirectUpdate(from: string, msg: UpdateMessage): AckMessage {
    const v = this.admitUpdate(from, msg);
    this.core.options.onVerdict?.({ via: 'stream', from, kind: 'update', ...v });
    const status = v.result === 'accept' ? 'accepted' : v.result === 'reject' ? 'rejected' : 'ignored';
    return { kind: 'ack', status, reason: v.reason };
  }

  private judgeGossip(from: string, data: Uint8Array): { kind: InboundVerdict['kind']; verdict: Verdict } {
    const { refusals, membership, options } = this.core;
    let decoded: NodeMessage;
    try {
      decoded = decodeMessage(data);
    } catch (err) {
      refusals.refuse('malformed gossip message', `gossip message from ${from} rejected: ${errorMessage(err)}`);
      return { kind: 'malformed', verdict: reject(errorMessage(err)) };
    }
    switch (decoded.kind) {
      case 'announce':
        return { kind: 'announce', verdict: this.onAnnounce(from, decoded) };
      case 'leave':
        if (decoded.runId !== options.identity.runId) return { kind: 'leave', verdict: { result: 'ignore', reason: `leave for run "${decoded.runId}"` } };
        if (!membership.isAccepted(from)) {
          refusals.refuse('leave from a non-member', `leave from ${from} ignored: not a member of the run`);
          return { kind: 'leave', verdict: { result: 'ignore', reason: 'not a member' } };
        }
        membership.onLeave(from, decoded.lastRound);
        this.core.log(`member ${from} leaves after round ${decoded.lastRound}`);
        return { kind: 'leave', verdict: ACCEPTED };
      case 'update':
        return { kind: 'update', verdict: this.admitUpdate(from, decoded) };
      case 'ack':
        refusals.refuse('ack on the run topic', `gossip message from ${from} rejected: an ack has no place on the run topic`);
        return { kind: 'ack', verdict: reject('an ack has no place on the run topic') };
    }
  }

  /** The checks every update passes, whichever way it came; delivers it to the inbox when admitted. */
  private admitUpdate(from: string, msg: UpdateMessage): Verdict {
    const { refusals, membership, options, o, inbox, liveness, self } = this.core;
    const where = `update from ${from} (round ${msg.round} phase ${msg.phase})`;
    if (msg.runId !== options.identity.runId) {
      refusals.refuse('update for another run', `${where} rejected: it is for run "${msg.runId}", not "${options.identity.runId}"`);
      return { result: 'reject', reason: `wrong run id ${msg.runId}` };
    }
    if (!membership.isAccepted(from)) {
      const why = membership.refusal(from) ?? 'it has not announced itself';
      refusals.refuse('update from a non-member', `${where} ignored: not a member of the run (${why})`);
      return { result: 'ignore', reason: 'not a member' };
    }
    // Any recent update from a suspected member, even one too late for its exchange: it is alive.
    if (msg.round + 1 >= membership.activeRound && liveness.heard(from)) this.core.log(`member ${from} sends again: waiting for it again`);
    if (msg.payload.byteLength > o.maxPayloadBytes) {
      refusals.refuse('update too large', `${where} rejected: payload of ${msg.payload.byteLength} bytes exceeds maxPayloadBytes ${o.maxPayloadBytes}`);
      return { result: 'reject', reason: 'payload too large' };
    }
    const forOthers = msg.to.length > 0 && !msg.to.includes(self);
    if (!forOthers && this.latestInbox && msg.phase !== MERGE_PHASE) return this.admitLatest(this.latestInbox, from, msg, where);
    const place = forOthers ? 'forward' : inbox.classify(msg.round, msg.phase, from);
    // Addressed to others as well: a message too late or too early for this peer is still relayed
    // to them when valid (an exact merge's model reaches every member through peers at other
    // rounds; gossipsub stops at the first relay that ignores it).
    const alsoForOthers = msg.to.length > 1; // direct streams carry no recipients: nothing to relay
    const relay = (): Verdict => (alsoForOthers && this.checkUpdate(from, msg, where) === null ? { result: 'forward', reason: `${place} here, addressed to others too` } : { result: 'ignore', reason: place });
    if (place === 'duplicate') return { result: 'ignore', reason: place };
    if (place === 'stale' || place === 'unexpected') return relay();
    if (place === 'overflow') {
      // A valid update far ahead is what a peer that fell behind sees: evidence of the sender's round.
      const valid = this.checkUpdate(from, msg, where) === null;
      if (valid) membership.onUpdate(from, msg.round);
      refusals.refuse('update too far ahead', `${where} dropped: too far ahead or the early-update buffer is full`);
      return valid && alsoForOthers ? { result: 'forward', reason: 'too far ahead here, addressed to others too' } : { result: 'ignore', reason: place };
    }
    // Checked before forwarding too: gossipsub must not relay junk addressed to someone else.
    const refused = this.checkUpdate(from, msg, where);
    if (refused) return refused;
    if (forOthers) return { result: 'forward', reason: 'not addressed to us' };
    const got = inbox.offer(privateEnvelope(from, msg));
    if (got === 'overflow') {
      refusals.refuse('update too far ahead', `${where} dropped: the early-update buffer is full`);
      return { result: 'ignore', reason: got };
    }
    membership.onUpdate(from, msg.round);
    return ACCEPTED;
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
      check = this.core.options.validate(msg.payload, from, { round: msg.round, phase: msg.phase });
    } catch (err) {
      check = { ok: false, reason: `validate threw: ${errorMessage(err)}` };
    }
    if (check.ok) return null;
    if (check.stale) return { result: 'ignore', reason: `stale: ${check.reason}` };
    this.core.refusals.refuse('invalid update', `${where} rejected: ${check.reason}`);
    return { result: 'reject', reason: check.reason };
  }
}

function reject(reason: string): Verdict {
  return { result: 'reject', reason };
}
