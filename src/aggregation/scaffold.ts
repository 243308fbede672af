// SCAFFOLD (Karimireddy et al. 2020, "SCAFFOLD: Stochastic Controlled Averaging for Federated
// Learning", Algorithm 1 with control update option II). Server state: the global model x
// (own) and the server control variate c. Client i keeps its control variate c_i and runs K
// local steps y ← y − η_l·(∇F_i(y) + c − c_i): the trainer's `correction` is c − c_i. Then
//   c_i⁺ = c_i − c + (x − y_i)/(K·η_l),   sends Δy_i = y_i − x and Δc_i = c_i⁺ − c_i
// and the server takes
//   x ← x + η_g·(1/|S|)·Σ_{i∈S} Δy_i,   c ← c + (1/N)·Σ_{i∈S} Δc_i   (N = all clients).
// Contributions carry the client's model y_i (params) and Δc_i (control); their weights are
// not used (the paper's plain mean). Option II assumes plain SGD steps of size η_l locally.
import { paramsFrom, type Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import type { StatefulAggregationRule } from './types.js';
import { checkParams, validateInputs } from './validate.js';

/** SCAFFOLD's server memory: the server control variate c (null = 0 before the first round). */
export interface ScaffoldState {
  readonly rule: 'scaffold';
  readonly c: Float32Array | null;
}

/** Server options: η_g, the global step size (the paper's default 1 is FedAvg's step). */
export interface ScaffoldOptions {
  readonly serverLr?: number;
}

/** SCAFFOLD's server memory before the first round. */
export function scaffoldInitialState(): ScaffoldState {
  return { rule: 'scaffold', c: null };
}

/** The server step of SCAFFOLD; needs `ctx.members` (N) and a `control` on every contribution. */
export function scaffold(options: ScaffoldOptions = {}): StatefulAggregationRule<ScaffoldState> {
  const serverLr = options.serverLr ?? 1;
  return (state, own, received, ctx) => {
    validateInputs('scaffold', own, received, ctx);
    const members = ctx?.members;
    if (!members || members.length === 0) throw new AggregationError('scaffold: ctx.members is missing; pass every client of the run (N divides the control update)');
    if (received.length === 0) throw new AggregationError('scaffold: no participants this round; skip the server step instead');
    for (const c of received) {
      if (!c.control) throw new AggregationError(`scaffold: contribution from '${c.from}' has no control (Δc_i); clients send it with their model`);
      checkParams(c.control, own, `control of '${c.from}'`, 'scaffold');
    }
    const x = own.data;
    const n = x.length;
    const S = received.length;
    const N = members.length;
    const out = new Float32Array(n);
    const c = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      let dy = 0;
      let dc = 0;
      for (const r of received) {
        dy += r.params.data[k] - x[k];
        dc += r.control!.data[k];
      }
      out[k] = x[k] + (serverLr * dy) / S;
      c[k] = (state.c ? state.c[k] : 0) + dc / N;
    }
    return { params: paramsFrom(own.layout, out), state: { rule: 'scaffold', c } };
  };
}

/** What a client needs to finish its SCAFFOLD round. */
export interface ScaffoldClientInput {
  /** x, the global model the round started from. */
  readonly global: Float32Array;
  /** y_i, the client's model after its K local steps. */
  readonly local: Float32Array;
  /** c_i before the round (null = 0, a client's first round). */
  readonly clientControl: Float32Array | null;
  /** c, the server control variate the round started with (null = 0). */
  readonly serverControl: Float32Array | null;
  /** η_l and K of the local steps just taken. */
  readonly localLr: number;
  readonly localSteps: number;
}

/** c − c_i: what the trainer adds to every local gradient (the `correction` of a local step). */
export function scaffoldCorrection(serverControl: Float32Array | null, clientControl: Float32Array | null, size: number): Float32Array {
  const out = new Float32Array(size);
  for (let k = 0; k < size; k++) out[k] = (serverControl ? serverControl[k] : 0) - (clientControl ? clientControl[k] : 0);
  return out;
}

/** Option II: c_i⁺ = c_i − c + (x − y_i)/(K·η_l); returns c_i⁺ and Δc_i = c_i⁺ − c_i (to send). */
export function scaffoldClientUpdate(input: ScaffoldClientInput): { clientControl: Float32Array; controlDelta: Float32Array } {
  const { global: x, local: y, clientControl: ci, serverControl: c, localLr, localSteps } = input;
  if (!(localLr > 0) || !(Number.isInteger(localSteps) && localSteps >= 1)) {
    throw new AggregationError(`scaffold: local lr ${localLr} and steps ${localSteps} must be positive (steps an integer)`);
  }
  if (y.length !== x.length) throw new AggregationError(`scaffold: local model has ${y.length} values, the global ${x.length}`);
  const scale = 1 / (localSteps * localLr);
  const next = new Float32Array(x.length);
  const delta = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const old = ci ? ci[k] : 0;
    const updated = old - (c ? c[k] : 0) + (x[k] - y[k]) * scale;
    next[k] = updated;
    delta[k] = updated - old;
  }
  return { clientControl: next, controlDelta: delta };
}

/** Wraps a Float32Array of control values as Params of the model's layout (for a Contribution). */
export function controlParams(like: Params, values: Float32Array): Params {
  return paramsFrom(like.layout, values);
}
