// A seeded fuzzer that drives a live node (see live-pair.ts) over gossipsub and over the direct
// update protocol with mutated valid messages, structurally valid but wrong ones, and random
// bytes. While it runs, the victim keeps opening real gossip exchanges for the rounds the
// fuzzer targets; every exchange must end with nothing received and the model unchanged.
import type { Stream } from '@libp2p/interface';
import { Rng } from '../../src/util/rng.js';
import { concatBytes, encodeMessage as encodeNodeMessage, type UpdateMessage } from '../../src/node/wire.js';
import { framePrefix } from '../../src/node/frame.js';
import { UPDATE_PROTOCOL } from '../../src/node/direct.js';
import { gossipExchange, wholeModels } from '../../src/peer/gossip.js';
import { gossipMix } from '../../src/aggregation/gossip.js';
import { poisonPayload } from '../../src/peer/attack-payloads.js';
import { makeLayout, type Params } from '../../src/params/index.js';
import { buildCodec } from '../../src/peer/codec.js';
import type { InboundVerdict } from '../../src/node/transport.js';
import { ackOf, type Ack } from './streams.js';
import { IDENTITY, LAYOUT, cloneParams, sameBits, seededModel, type LivePair } from './live-pair.js';

export interface FuzzOptions {
  readonly messages: number;
  readonly seed: number;
  /** Messages in flight before waiting for the victim's verdicts. */
  readonly batch?: number;
  /** How long each of the victim's exchanges stays open (ms). */
  readonly exchangeMs?: number;
  /** The victim's first exchange round (after the rounds of an earlier fuzz on the same pair). Default 1. */
  readonly firstRound?: number;
  readonly onProgress?: (sent: number) => void;
}

export interface FuzzReport {
  readonly sent: { readonly gossip: number; readonly stream: number };
  /** Victim verdicts (gossip) and acks (stream) by outcome and reason class. */
  readonly reasons: Map<string, number>;
  /** Messages the victim took (should be none). */
  readonly accepted: number;
  /** Streams that ended without an ack (the victim aborted them). */
  readonly unanswered: number;
  /** Exchanges the victim ran during the fuzz, and how many of them received something or changed the model. */
  readonly exchanges: number;
  readonly exchangesChanged: number;
  /** The first round the fuzz did not use. */
  readonly nextRound: number;
  readonly seconds: number;
}

/** A reason with its numbers and ids blanked, so refusals group by kind. */
export function reasonClass(reason: string): string {
  return reason
    .replace(/\b(12D3Koo|Qm)\w+/g, '<peer>')
    .replace(/0x[0-9a-f]+/gi, '<hex>')
    .replace(/-?\d+(\.\d+)?/g, 'N')
    .slice(0, 120);
}

// ------------------------------------------------------------------ mutations

/** One seeded mutation of `seed` that is guaranteed to differ from it. */
export function mutate(seed: Uint8Array, rng: Rng): Uint8Array {
  let out: Uint8Array;
  const n = seed.length;
  switch (rng.int(8)) {
    case 0: {
      out = seed.slice();
      for (let k = 1 + rng.int(8); k > 0; k--) if (n) out[rng.int(n)] ^= 1 << rng.int(8);
      break;
    }
    case 1: {
      out = seed.slice();
      for (let k = 1 + rng.int(16); k > 0; k--) if (n) out[rng.int(n)] = rng.int(256);
      break;
    }
    case 2:
      out = seed.slice(0, rng.int(Math.max(1, n)));
      break;
    case 3:
      out = concatBytes([seed, randomBytes(rng, 1 + rng.int(64))]);
      break;
    case 4: {
      const at = rng.int(n + 1);
      out = concatBytes([seed.subarray(0, at), randomBytes(rng, 1 + rng.int(32)), seed.subarray(at)]);
      break;
    }
    case 5: {
      // A 32-bit field set to a boundary value (lengths, rounds, counts).
      out = seed.slice();
      if (n >= 4) {
        const at = rng.int(n - 3);
        const v = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe][rng.int(6)];
        new DataView(out.buffer).setUint32(at, v, rng.next() < 0.5);
      }
      break;
    }
    case 6: {
      // A chunk duplicated in place.
      const a = rng.int(n + 1);
      const b = Math.min(n, a + 1 + rng.int(64));
      out = concatBytes([seed.subarray(0, b), seed.subarray(a, b), seed.subarray(b)]);
      break;
    }
    default: {
      // A chunk removed.
      const a = rng.int(n + 1);
      const b = Math.min(n, a + 1 + rng.int(64));
      out = concatBytes([seed.subarray(0, a), seed.subarray(b)]);
      break;
    }
  }
  if (out.length === n && Buffer.from(out).equals(Buffer.from(seed))) {
    out = n ? seed.slice() : Uint8Array.of(0);
    if (n) out[rng.int(n)] ^= 0x80;
  }
  return out;
}

export function randomBytes(rng: Rng, length: number): Uint8Array {
  const b = new Uint8Array(length);
  for (let i = 0; i < length; i++) b[i] = rng.int(256);
  return b;
}

// ------------------------------------------------------------------ inputs

/** What the attacker could send for round r if it were honest: the seeds that mutations start from. */
interface Seeds {
  /** The codec bytes of a valid update for (round, phase 0) from the attacker. */
  readonly payload: Uint8Array;
  /** A valid node-wire update carrying it, addressed to the victim. */
  readonly envelope: Uint8Array;
}

function seedsFor(pair: LivePair, round: number, model: Params): Seeds {
  const payload = pair.codec.model.encode(model, { round, phase: 0, sender: pair.attackerIndex });
  const msg: UpdateMessage = { kind: 'update', runId: IDENTITY.runId, round, phase: 0, to: [pair.victim.node.peerId], payload };
  return { payload, envelope: encodeNodeMessage(msg) };
}

/** A model of another shape, for payloads that are valid for the wrong layout. */
const OTHER_LAYOUT = makeLayout([{ name: 'other', shape: [7, 3] }]);
const OTHER_CODEC = buildCodec({ method: 'identity' }, OTHER_LAYOUT, 1);

/** Valid node-wire envelopes around payloads that are well formed but wrong in one way each. */
function structured(pair: LivePair, round: number, model: Params, rng: Rng): Uint8Array {
  const { attackerIndex: sender, victim } = pair;
  const env = (over: Partial<UpdateMessage>): Uint8Array =>
    encodeNodeMessage({ kind: 'update', runId: IDENTITY.runId, round, phase: 0, to: [victim.node.peerId], payload: seedsFor(pair, round, model).payload, ...over });
  switch (rng.int(9)) {
    case 0: // the payload says another round than its envelope
      return env({ payload: pair.codec.model.encode(model, { round: round + 1, phase: 0, sender }) });
    case 1: // another phase
      return env({ payload: pair.codec.model.encode(model, { round, phase: 1, sender }) });
    case 2: // NaN values behind a valid CRC
      return env({ payload: poisonPayload(seedsFor(pair, round, model).payload, LAYOUT) });
    case 3: // a valid update for a different model
      return env({ payload: OTHER_CODEC.model.encode({ layout: OTHER_LAYOUT, data: new Float32Array(OTHER_LAYOUT.size) }, { round, phase: 0, sender }) });
    case 4: // another run
      return env({ runId: `${IDENTITY.runId}-other` });
    case 5: // far in the future
      return env({ round: round + 50 + rng.int(1000) });
    case 6: // addressed to someone else, with a broken payload: must not be relayed
      return env({ to: ['12D3KooWSomeoneElse'], payload: mutate(seedsFor(pair, round, model).payload, rng) });
    case 7: // empty payload
      return env({ payload: new Uint8Array(0) });
    default: // a payload mutated inside a valid envelope (reaches the codec check)
      return env({ payload: mutate(seedsFor(pair, round, model).payload, rng) });
  }
}

/** One fuzz input for the victim's round `round`. */
function input(pair: LivePair, round: number, model: Params, seeds: Seeds, rng: Rng): Uint8Array {
  const r = rng.next();
  if (r < 0.4) return mutate(seeds.envelope, rng);
  if (r < 0.7) return structured(pair, round, model, rng);
  if (r < 0.85) return randomBytes(rng, 1 + rng.int(2048));
  // Random bytes behind a plausible header ("GF", version 1, kind 1..4).
  return concatBytes([Uint8Array.of(0x47, 0x46, 1, 1 + rng.int(4)), randomBytes(rng, rng.int(1024))]);
}

// ------------------------------------------------------------------ sending

/** Writes one frame (optionally with a lying length prefix) and resolves with the victim's ack, or null if the stream ended without one. */
async function sendFrame(pair: LivePair, body: Uint8Array, rng: Rng): Promise<Ack> {
  const lie = rng.next() < 0.05;
  const prefix = lie ? framePrefix(rng.next() < 0.5 ? 0xffff_ffff : body.length + 1 + rng.int(1000)) : framePrefix(body.length);
  let stream: Stream;
  try {
    stream = await pair.attacker.node.libp2p.dialProtocol(pair.victim.node.libp2p.peerId, UPDATE_PROTOCOL);
  } catch (err) {
    throw new Error(`fuzz: cannot open an update stream to the victim: ${(err as Error).message}`);
  }
  const ack = ackOf(stream);
  stream.send(prefix);
  stream.send(body);
  await stream.close().catch(() => undefined);
  const got = await ack;
  stream.abort(new Error('done'));
  return got;
}

export async function fuzzLiveNode(pair: LivePair, o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const rng = Rng.derive(o.seed, 'fuzz');
  const batch = o.batch ?? 32;
  const reasons = new Map<string, number>();
  const count = (key: string) => reasons.set(key, (reasons.get(key) ?? 0) + 1);
  const model = seededModel(o.seed);
  const attackerModel = seededModel(o.seed + 1);
  const before = cloneParams(model);
  const { victim, attacker } = pair;
  const members = [victim.node.peerId, attacker.node.peerId].sort();
  let sentGossip = 0;
  let sentStream = 0;
  let accepted = 0;
  let unanswered = 0;
  let exchanges = 0;
  let exchangesChanged = 0;
  // The pair is started with the attacker's periodic announcements off, so every gossip verdict about it from here on is about a fuzz input.
  const gossip0 = pair.gossipVerdictsFrom(attacker.node.peerId);
  const gossipVerdicts = () => pair.gossipVerdictsFrom(attacker.node.peerId) - gossip0;
  const onVerdict = (v: InboundVerdict): void => {
    if (v.via !== 'gossip' || v.from !== attacker.node.peerId) return;
    if (v.result === 'accept') accepted++;
    count(`gossip ${v.result} ${v.kind}: ${reasonClass(v.reason)}`);
  };
  pair.verdictListeners.add(onVerdict);

  let round = o.firstRound ?? 1;
  for (; sentGossip + sentStream < o.messages; round++) {
    const seeds = seedsFor(pair, round, attackerModel);
    let open = true;
    const exchange = gossipExchange(
      model,
      {
        round,
        phase: 0,
        members,
        selfIndex: pair.victimIndex,
        row: { self: 0.5, peers: Uint32Array.of(pair.attackerIndex), weights: Float64Array.of(0.5) },
        sendTo: [],
        deadlineMs: o.exchangeMs ?? 1500,
      },
      victim.transport,
      wholeModels(pair.codec.model, model),
      gossipMix,
    ).finally(() => (open = false));
    while (open && sentGossip + sentStream < o.messages) {
      const n = Math.min(batch, o.messages - sentGossip - sentStream);
      const gossipBefore = gossipVerdicts();
      let gossipHere = 0;
      const streams: Promise<void>[] = [];
      for (let k = 0; k < n; k++) {
        const bytes = input(pair, round, attackerModel, seeds, rng);
        if (rng.next() < 0.5) {
          await attacker.node.libp2p.services.pubsub.publish(attacker.transport.topic, bytes);
          gossipHere++;
        } else {
          streams.push(
            sendFrame(pair, bytes, rng).then((ack) => {
              if (ack === null) {
                unanswered++;
                count('stream: closed without an ack');
              } else {
                if (ack.status === 'accepted') accepted++;
                count(`stream ${ack.status}: ${reasonClass(ack.reason)}`);
              }
            }),
          );
        }
      }
      await Promise.all(streams);
      sentStream += streams.length;
      sentGossip += gossipHere;
      await waitFor(() => gossipVerdicts() >= gossipBefore + gossipHere, 20_000, () => `the victim's verdicts on ${gossipHere} gossip messages (got ${gossipVerdicts() - gossipBefore})`);
      o.onProgress?.(sentGossip + sentStream);
    }
    const outcome = await exchange;
    exchanges++;
    if (outcome.received > 0 || !sameBits(outcome.params, before)) exchangesChanged++;
  }
  pair.verdictListeners.delete(onVerdict);
  return { sent: { gossip: sentGossip, stream: sentStream }, reasons, accepted, unanswered, exchanges, exchangesChanged, nextRound: round, seconds: (performance.now() - t0) / 1000 };
}

/**
 * After the fuzz: one honest exchange in `round` (attacker → victim, a valid update). Returns
 * whether the victim received it and mixed it exactly (½ own + ½ received, as its row says).
 */
export async function stillWorks(pair: LivePair, round: number, seed: number): Promise<boolean> {
  const own = seededModel(seed);
  const theirs = seededModel(seed + 1);
  const members = [pair.victim.node.peerId, pair.attacker.node.peerId].sort();
  const payload = pair.codec.model.encode(theirs, { round, phase: 0, sender: pair.attackerIndex });
  // Sent and taken (buffered for the round) before the victim's exchange opens: after the fuzz
  // the victim no longer waits for this sender (it delivered nothing for many rounds and claimed
  // rounds far ahead), but an update that is there is still mixed.
  const taken = () => pair.verdicts.some((v) => v.from === pair.attacker.node.peerId && v.kind === 'update' && v.result === 'accept');
  await pair.attacker.transport.exchange({ round, phase: 0, payload, sendTo: [pair.victim.node.peerId], expectFrom: [], deadlineMs: 10_000 });
  await waitFor(taken, 10_000, () => 'the victim to take the honest update');
  const outcome = await gossipExchange(
    own,
    { round, phase: 0, members, selfIndex: pair.victimIndex, row: { self: 0.5, peers: Uint32Array.of(pair.attackerIndex), weights: Float64Array.of(0.5) }, sendTo: [], deadlineMs: 10_000 },
    pair.victim.transport,
    wholeModels(pair.codec.model, own),
    gossipMix,
  );
  const expected = gossipMix(own, [{ from: pair.attacker.node.peerId, params: theirs, weight: 0.5 }], { round, members });
  return outcome.received === 1 && sameBits(outcome.params, expected);
}

async function waitFor(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`fuzz: timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
