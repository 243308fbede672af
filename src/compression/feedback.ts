// Error feedback around any pointwise coder. Sender memory and the receiver's copy of the
// sender's running estimate h are explicit plain-data states, so they can be checkpointed.
//
//   EF14     p = g + e; c = C(p); e ← p − c                      receivers decode c
//   EF21     c = C(g − h); h ← h + c                             receivers keep h per sender
//   EF21-M   v ← (1−η)v + ηg; c = C(v − h); h ← h + c            first message: h = v = g, dense
//   EControl Δ = C(ηe + g − h); ĥ = C(g − h); h ← h + ĥ;         receivers get h_old + Δ
//            e ← e + g − h_old − Δ                               (RECONSTRUCTED; two parts)
//
// EF21-type receivers must see every message of a sender in order: each message carries the
// number of messages its sender has folded into h (`sequence`), and a receiver whose count
// differs (a message was lost) gets a WireError('sequence') instead of a silently wrong h.
import type { ParamLayout } from '../params/index.js';
import { axpy, paramsFrom } from '../params/index.js';
import { identityCoder, type LayerCoder } from './coders.js';
import type { CompressionContext } from './context.js';
import { WireError } from './errors.js';
import { checkUpdate, decodePart, encodePart, pointwiseCompressor, readUpdate, updateMessage, type PointwiseCompressor } from './pointwise.js';
import type { WireMessage } from './wire.js';

/** An error-feedback variant. */
export type ErrorFeedbackKind = 'ef14' | 'ef21' | 'ef21-m' | 'econtrol';
/** The `errorFeedback` parameter on the wire. */
export const ERROR_FEEDBACK_IDS: Readonly<Record<ErrorFeedbackKind, number>> = { ef14: 1, ef21: 2, 'ef21-m': 3, econtrol: 4 };

/** EF14's memory: the compression error carried to the next round. */
export interface Ef14State {
  readonly error: Float32Array;
}

/** EF21's memory: the estimate h that sender and receivers share. */
export interface Ef21State {
  readonly h: Float32Array;
  /** Messages folded into h so far. */
  readonly sequence: number;
}

/** EF21-M's memory: EF21's plus the momentum v. */
export interface Ef21MState extends Ef21State {
  readonly v: Float32Array;
}

/** EControl's memory: EF21's plus the error carried over. */
export interface EControlState extends Ef21State {
  readonly error: Float32Array;
}

/** A receiver's copy of one sender's h (EF21, EF21-M, EControl). */
export type TrackedEstimate = Ef21State;

function checkEta(eta: number): void {
  if (!(eta > 0 && eta <= 1)) throw new RangeError(`error feedback: eta must be in (0, 1], got ${eta}`);
}

function newTracked(layout: ParamLayout): TrackedEstimate {
  return { h: new Float32Array(layout.size), sequence: 0 };
}

function checkSequence(msg: WireMessage, receiver: TrackedEstimate, ctx: CompressionContext): void {
  const seq = msg.params.sequence;
  if (seq !== receiver.sequence) {
    throw new WireError('sequence', `sender ${ctx.sender} is at message ${seq}, this receiver has folded ${receiver.sequence}: a message was lost or replayed; both sides must restart error feedback`);
  }
}

function plus(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] + b[i];
  return out;
}

function minus(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/**
 * Copies what receivers see into the caller's output and returns that array. The compressed
 * step may be decoded into the output before (one model-sized array fewer): this overwrites it.
 */
function deliver(out: Float32Array, values: Float32Array): Float32Array {
  out.set(values);
  return out;
}

/** EF14 error feedback around a coder: adds the last error before compressing. */
export function ef14(coder: LayerCoder): PointwiseCompressor<Ef14State, null> {
  const extra = { errorFeedback: ERROR_FEEDBACK_IDS.ef14 };
  return pointwiseCompressor<Ef14State, null>({
    name: `${coder.method}+ef14`,
    initialState: (layout) => ({ error: new Float32Array(layout.size) }),
    initialReceiverState: () => null,
    encodeTo(update, state, ctx, out) {
      checkUpdate(update, ctx);
      const p = plus(update.data, state.error);
      const { sections, decoded } = encodePart(coder, p, update.layout, ctx, 0, out);
      return {
        message: updateMessage(coder, ctx, update.layout, [sections], extra),
        state: { error: minus(p, decoded) },
        decoded: paramsFrom(update.layout, decoded),
      };
    },
    decodeTo(message, layout, ctx, receiver, out, limits) {
      const msg = readUpdate(coder, message, layout, ctx, extra, [], 1, limits);
      return { update: paramsFrom(layout, decodePart(coder, msg.parts[0], layout, ctx, 0, out)), receiver };
    },
  });
}

/** EF21 error feedback around a coder: sends the compressed change of a shared estimate. */
export function ef21(coder: LayerCoder): PointwiseCompressor<Ef21State, TrackedEstimate> {
  const extra = { errorFeedback: ERROR_FEEDBACK_IDS.ef21 };
  return pointwiseCompressor<Ef21State, TrackedEstimate>({
    name: `${coder.method}+ef21`,
    initialState: newTracked,
    initialReceiverState: newTracked,
    encodeTo(update, state, ctx, out) {
      checkUpdate(update, ctx);
      const { sections, decoded } = encodePart(coder, minus(update.data, state.h), update.layout, ctx, 0, out);
      const h = plus(state.h, decoded);
      return {
        message: updateMessage(coder, ctx, update.layout, [sections], { ...extra, sequence: state.sequence }),
        state: { h, sequence: state.sequence + 1 },
        decoded: paramsFrom(update.layout, deliver(out, h)),
      };
    },
    decodeTo(message, layout, ctx, receiver, out, limits) {
      const msg = readUpdate(coder, message, layout, ctx, extra, ['sequence'], 1, limits);
      checkSequence(msg, receiver, ctx);
      const h = plus(receiver.h, decodePart(coder, msg.parts[0], layout, ctx, 0, out));
      return { update: paramsFrom(layout, deliver(out, h)), receiver: { h, sequence: receiver.sequence + 1 } };
    },
  });
}

/** EF21 with momentum eta (EF21-M) around a coder. */
export function ef21m(coder: LayerCoder, eta: number): PointwiseCompressor<Ef21MState, TrackedEstimate> {
  checkEta(eta);
  const extra = { errorFeedback: ERROR_FEEDBACK_IDS['ef21-m'], eta };
  return pointwiseCompressor<Ef21MState, TrackedEstimate>({
    name: `${coder.method}+ef21-m`,
    initialState: (layout) => ({ ...newTracked(layout), v: new Float32Array(layout.size) }),
    initialReceiverState: newTracked,
    encodeTo(update, state, ctx, out) {
      checkUpdate(update, ctx);
      const { layout } = update;
      const params = { ...extra, sequence: state.sequence };
      if (state.sequence === 0) {
        // The first message sets h = v = g, sent dense so both sides start from the same h.
        // The identity coder reconstructs g itself, bit for bit, into `out`.
        const { sections, decoded } = encodePart(identityCoder, update.data, layout, ctx, 0, out);
        const g = update.data.slice();
        return {
          message: updateMessage(coder, ctx, layout, [sections], { ...params, init: 1 }),
          state: { v: g, h: g.slice(), sequence: 1 },
          decoded: paramsFrom(layout, decoded),
        };
      }
      const v = new Float32Array(layout.size);
      for (let i = 0; i < v.length; i++) v[i] = (1 - eta) * state.v[i] + eta * update.data[i];
      const { sections, decoded } = encodePart(coder, minus(v, state.h), layout, ctx, 0, out);
      const h = plus(state.h, decoded);
      return {
        message: updateMessage(coder, ctx, layout, [sections], params),
        state: { v, h, sequence: state.sequence + 1 },
        decoded: paramsFrom(layout, deliver(out, h)),
      };
    },
    decodeTo(message, layout, ctx, receiver, out, limits) {
      const msg = readUpdate(coder, message, layout, ctx, extra, ['sequence', 'init'], 1, limits);
      checkSequence(msg, receiver, ctx);
      const init = msg.params.init ?? 0;
      if (init !== (receiver.sequence === 0 ? 1 : 0)) {
        throw new WireError('sequence', `EF21-M message ${receiver.sequence} from sender ${ctx.sender} has init=${init}; only the first message is the dense start`);
      }
      const h = init ? decodePart(identityCoder, msg.parts[0], layout, ctx) : plus(receiver.h, decodePart(coder, msg.parts[0], layout, ctx, 0, out));
      return { update: paramsFrom(layout, deliver(out, h)), receiver: { h, sequence: receiver.sequence + 1 } };
    },
  });
}

/** EControl error feedback around a coder, with step eta. */
export function econtrol(coder: LayerCoder, eta: number): PointwiseCompressor<EControlState, TrackedEstimate> {
  checkEta(eta);
  const extra = { errorFeedback: ERROR_FEEDBACK_IDS.econtrol, eta };
  return pointwiseCompressor<EControlState, TrackedEstimate>({
    name: `${coder.method}+econtrol`,
    initialState: (layout) => ({ ...newTracked(layout), error: new Float32Array(layout.size) }),
    initialReceiverState: newTracked,
    encodeTo(update, state, ctx, out) {
      checkUpdate(update, ctx);
      const { layout } = update;
      const g = update.data;
      const n = layout.size;
      const shifted = new Float32Array(n);
      for (let i = 0; i < n; i++) shifted[i] = eta * state.error[i] + g[i] - state.h[i];
      const delta = encodePart(coder, shifted, layout, ctx, 0, out);
      const hStep = encodePart(coder, minus(g, state.h), layout, ctx, 1);
      const error = new Float32Array(n);
      // Δ was decoded into `out`, which becomes the estimate h + Δ value by value.
      const estimate = out;
      for (let i = 0; i < n; i++) {
        const d = delta.decoded[i];
        error[i] = state.error[i] + g[i] - state.h[i] - d;
        estimate[i] = state.h[i] + d;
      }
      return {
        message: updateMessage(coder, ctx, layout, [delta.sections, hStep.sections], { ...extra, sequence: state.sequence }),
        state: { error, h: plus(state.h, hStep.decoded), sequence: state.sequence + 1 },
        decoded: paramsFrom(layout, estimate),
      };
    },
    decodeTo(message, layout, ctx, receiver, out, limits) {
      const msg = readUpdate(coder, message, layout, ctx, extra, ['sequence'], 2, limits);
      checkSequence(msg, receiver, ctx);
      // Δ is decoded into `out` and becomes h + Δ in place (float addition commutes: the same bits as h + Δ).
      const update = axpy(decodePart(coder, msg.parts[0], layout, ctx, 0, out), 1, receiver.h);
      const hStep = decodePart(coder, msg.parts[1], layout, ctx, 1);
      return { update: paramsFrom(layout, update), receiver: { h: plus(receiver.h, hStep), sequence: receiver.sequence + 1 } };
    },
  });
}
