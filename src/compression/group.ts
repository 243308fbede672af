// Group compressors: methods whose encoding needs agreement among the peers that aggregate
// together (ARC-Top-K's row choice, PowerSGD's orthonormalised P̄, GreedyLore's basis choice).
// Each peer calls `begin` and then `step` with every message of the phase it received (its
// own included) until `step` says `done`. The same calls run in one process (runGroupRound,
// for tests and the simulator) or over the network (the node), with a deadline per phase:
// the mean is taken over the messages that arrived. Messages computed from a different shared
// quantity (a peer that missed someone's phase-0 message) carry a different `digest` and are
// left out of the later phase rather than mixed in wrongly.
import type { ParamLayout, Params } from '../params/index.js';
import { paramsFrom } from '../params/index.js';
import { assertFiniteOutput } from './coders.js';
import { GossipflError } from '../util/errors.js';
import { crc32 } from './crc32.js';
import { assertContext, type CompressionContext } from './context.js';
import { WireError } from './errors.js';
import type { Section } from './sections.js';
import { decodeMessage, encodeMessage, expectParams, type DecodeLimits, type MethodName, type MethodParams, type WireMessage } from './wire.js';

/** One message a group compressor receives in a phase. */
export interface GroupMessage {
  /** Index of the peer that sent it (as the transport knows it). */
  readonly sender: number;
  readonly bytes: Uint8Array;
}

/** A message a group round left out, and why. */
export interface GroupExclusion {
  readonly sender: number;
  readonly phase: number;
  readonly reason: string;
}

/** What a group compressor does next: send a phase's message, or finish with the estimate. */
export type GroupStep<S, W> =
  | { readonly kind: 'send'; readonly phase: number; readonly message: Uint8Array; readonly session: W }
  | {
      readonly kind: 'done';
      /** The group-mean estimate of the update. */
      readonly estimate: Params;
      readonly state: S;
      /** Messages left out (invalid, duplicate, or computed from a different shared quantity). */
      readonly excluded: readonly GroupExclusion[];
    };

/** The send step of a group compressor. */
export type GroupSend<W> = Extract<GroupStep<unknown, W>, { kind: 'send' }>;

/** A compressor whose peers run a multi-phase round together (an all-reduce). */
export interface GroupCompressor<S = unknown, W = unknown> {
  readonly kind: 'group';
  readonly name: string;
  /** A peer's state before its first round. */
  initialState(layout: ParamLayout): S;
  /** Starts a round: the message for phase 0 and the in-progress round (plain data). */
  begin(update: Params, state: S, ctx: CompressionContext): GroupSend<W>;
  /** Consumes the phase's messages (own included) and gives the next message or the result. */
  step(session: W, received: readonly GroupMessage[], limits?: DecodeLimits): GroupStep<S, W>;
}

/** What every session carries. */
export interface SessionBase<S> {
  readonly ctx: CompressionContext;
  readonly layout: ParamLayout;
  readonly state: S;
  readonly phase: number;
  readonly excluded: readonly GroupExclusion[];
}

export function phaseMessage(method: MethodName, params: MethodParams, ctx: CompressionContext, phase: number, layout: ParamLayout, sections: Section[]): Uint8Array {
  return encodeMessage({ kind: 'group-phase', method, sender: ctx.sender, round: ctx.round, phase, params, parts: [sections] }, layout);
}

export interface Collected {
  /** Valid messages, one per sender, ascending by sender (so every peer sums in the same order). */
  readonly messages: readonly WireMessage[];
  readonly excluded: GroupExclusion[];
}

/**
 * Validates a phase's messages: each must decode for this layout, method, round and phase,
 * come from the sender it claims, share the method's parameters and (when given) the digest
 * of this peer's own message. The peer's own message must be among them.
 */
export function collectPhase(
  received: readonly GroupMessage[],
  session: SessionBase<unknown>,
  method: MethodName,
  params: MethodParams,
  limits?: DecodeLimits,
): Collected {
  const { ctx, layout, phase } = session;
  const excluded: GroupExclusion[] = [];
  const bySender = new Map<number, WireMessage>();
  for (const r of received) {
    if (bySender.has(r.sender)) {
      excluded.push({ sender: r.sender, phase, reason: 'duplicate message' });
      continue;
    }
    try {
      const msg = decodeMessage(r.bytes, { layout, kind: 'group-phase', method, sender: r.sender, round: ctx.round, phase }, { maxParts: 1, ...limits });
      expectParams(msg, params, ['digest']);
      bySender.set(r.sender, msg);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      excluded.push({ sender: r.sender, phase, reason: err.message });
    }
  }
  const own = bySender.get(ctx.sender);
  if (!own) throw new GossipflError('state', `group round ${ctx.round} phase ${phase}: this peer's own message (sender ${ctx.sender}) is missing or invalid; pass it to step() with the others`);
  const messages: WireMessage[] = [];
  for (const sender of [...bySender.keys()].sort((a, b) => a - b)) {
    const msg = bySender.get(sender)!;
    if (msg.params.digest !== own.params.digest) {
      excluded.push({ sender, phase, reason: `computed from a different shared ${phase === 0 ? 'state' : 'selection'} (digest ${msg.params.digest} vs ${own.params.digest})` });
      continue;
    }
    messages.push(msg);
  }
  return { messages, excluded };
}

/** Mean over messages of layer l's f32 section, accumulated in float64 in sender order. */
export function meanSection(messages: readonly WireMessage[], l: number, count: number): Float64Array {
  const acc = new Float64Array(count);
  for (const msg of messages) {
    const s = msg.parts[0][l];
    if (s.coding !== 'f32' || s.values.length !== count) {
      throw new WireError('section', `sender ${msg.sender} layer ${l}: expected f32 with ${count} values, got ${s.coding}`);
    }
    const v = s.values;
    for (let i = 0; i < count; i++) acc[i] += v[i];
  }
  const inv = 1 / messages.length;
  for (let i = 0; i < count; i++) acc[i] *= inv;
  return acc;
}

/** The finished estimate as Params, refusing one that overflowed float32 (a peer sent values near its limit). */
export function finalEstimate(layout: ParamLayout, estimate: Float32Array): Params {
  assertFiniteOutput(estimate, 'the group estimate');
  return paramsFrom(layout, estimate);
}

export function f32Section(values: Float64Array | Float32Array): Section {
  return { coding: 'f32', values: values instanceof Float32Array ? values : Float32Array.from(values) };
}

export function startContext(update: Params, ctx: CompressionContext): void {
  assertContext(ctx);
  if (update.data.length !== update.layout.size) throw new RangeError(`update has ${update.data.length} values, its layout ${update.layout.size}`);
}

// ---------------------------------------------------------------- in-process driver

/** One peer's input to an in-process group round. */
export interface GroupPeerInput<S> {
  readonly update: Params;
  readonly state: S;
}

/** What an in-process group round produced for every peer. */
export interface GroupRoundResult<S> {
  readonly estimates: Params[];
  readonly states: S[];
  /** bytes[peer][phase]: the size of each message each peer sent. */
  readonly bytes: number[][];
  readonly phases: number;
  readonly excluded: GroupExclusion[][];
}

/**
 * Runs every phase of one round for a set of peers in one process, everyone receiving
 * everyone's messages. Peer i is sender `senders[i]` (default i).
 */
export function runGroupRound<S, W>(
  compressor: GroupCompressor<S, W>,
  peers: readonly GroupPeerInput<S>[],
  ctx: { readonly seed: number; readonly round: number },
  senders: readonly number[] = peers.map((_, i) => i),
): GroupRoundResult<S> {
  let steps: GroupStep<S, W>[] = peers.map((p, i) => compressor.begin(p.update, p.state, { seed: ctx.seed, round: ctx.round, sender: senders[i] }));
  const bytes: number[][] = peers.map(() => []);
  let phases = 0;
  while (steps.some((s) => s.kind === 'send')) {
    if (!steps.every((s) => s.kind === 'send')) throw new Error('runGroupRound: peers finished in different phases');
    const sends = steps as GroupSend<W>[];
    const messages = sends.map((s, i) => ({ sender: senders[i], bytes: s.message }));
    sends.forEach((s, i) => bytes[i].push(s.message.byteLength));
    steps = sends.map((s) => compressor.step(s.session, messages));
    phases++;
  }
  const done = steps as Extract<GroupStep<S, W>, { kind: 'done' }>[];
  return { estimates: done.map((d) => d.estimate), states: done.map((d) => d.state), bytes, phases, excluded: done.map((d) => [...d.excluded]) };
}

// ---------------------------------------------------------------- dense phases

/** Every layer of `data` as an f32 section (a dense exchange). */
export function denseSections(data: Float32Array, layout: ParamLayout): Section[] {
  return layout.tensors.map((t) => f32Section(data.subarray(t.offset, t.offset + t.size)));
}

/** Writes the group mean of layer l (an f32 section of the whole layer) into `out`. */
export function meanLayerInto(messages: readonly WireMessage[], layout: ParamLayout, l: number, out: Float32Array): void {
  const t = layout.tensors[l];
  out.set(meanSection(messages, l, t.size), t.offset);
}

/** M = G + E (a fresh array). */
export function withError(update: Float32Array, error: Float32Array): Float32Array {
  const m = new Float32Array(update.length);
  for (let i = 0; i < m.length; i++) m[i] = update[i] + error[i];
  return m;
}

/**
 * CRC32 over the bytes of the non-null arrays, each preceded by its byte length: the digest a
 * phase message carries of what its sender computed from the previous phase (PowerSGD's P̂,
 * the rows or basis vectors chosen). Peers that averaged different message sets disagree here.
 */
export function digestOf(arrays: readonly (Float64Array | Uint32Array | null)[]): number {
  const present = arrays.filter((a): a is Float64Array | Uint32Array => a !== null);
  const bytes = new Uint8Array(present.reduce((n, a) => n + 4 + a.byteLength, 0));
  const view = new DataView(bytes.buffer);
  let o = 0;
  for (const a of present) {
    view.setUint32(o, a.byteLength, true);
    bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), o + 4);
    o += 4 + a.byteLength;
  }
  return crc32(bytes);
}

/** Phase-0 sections: `compress(view, shape, l)` for the layers a method compresses, the layer itself (dense f32) otherwise. */
export function planSections<T>(
  data: Float32Array,
  layout: ParamLayout,
  plan: readonly (T | undefined)[],
  compress: (view: Float32Array, shape: T, l: number) => Float64Array | Float32Array,
): Section[] {
  return layout.tensors.map((t, l) => {
    const shape = plan[l];
    const view = data.subarray(t.offset, t.offset + t.size);
    return f32Section(shape === undefined ? view : compress(view, shape, l));
  });
}
