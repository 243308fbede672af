// FedAvg with server momentum, FedAvg-M. RECONSTRUCTED: the paper's own text and code were
// not available; this is the version stated in the project's algorithm notes.
// The server keeps x (own params) and g (state). Clients run K local steps of size η with
// d = β·∇F_i + (1−β)·g (the local side reads g from this state; it is not done here). Then
//   g_new = (1/(η·S·K)) · Σ_{i∈S} (x − x_i),   S = number of participants
//   x     ← x − γ · g_new
// Contribution weights are not used.
import { paramsFrom } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import { addWeightedDifferences } from './kernels.js';
import type { StatefulAggregationRule } from './types.js';
import { validateInputs } from './validate.js';

/** FedAvgM's memory: the server direction. */
export interface FedAvgMState {
  readonly rule: 'fedavg-m';
  /** The server direction g, null before the first round (clients then use g = 0). */
  readonly g: Float32Array | null;
}

/** Options for FedAvg with server momentum. */
export interface FedAvgMOptions {
  /** γ, the server step size. */
  readonly serverLr: number;
  /** η, the clients' local learning rate. */
  readonly localLr: number;
  /** K, local steps per round. */
  readonly localSteps: number;
}

/** FedAvgM's memory before the first round. */
export function fedAvgMInitialState(): FedAvgMState {
  return { rule: 'fedavg-m', g: null };
}

/** FedAvg with server momentum (FedAvgM). */
export function fedAvgM(options: FedAvgMOptions): StatefulAggregationRule<FedAvgMState> {
  const { serverLr, localLr, localSteps } = options;
  return (_state, own, received, ctx) => {
    validateInputs('fedavg-m', own, received, ctx);
    const S = received.length;
    if (S === 0) throw new AggregationError('fedavg-m: no participants this round (S = 0); skip the server step instead');
    const x = own.data;
    const g = new Float32Array(x.length);
    // g = −(1/(ηSK)) Σ (x_i − x)
    addWeightedDifferences(
      g,
      null,
      x,
      received.map((c) => c.params.data),
      new Float64Array(S).fill(1),
      -1 / (localLr * S * localSteps),
    );
    const out = new Float32Array(x.length);
    for (let k = 0; k < x.length; k++) out[k] = x[k] - serverLr * g[k];
    return { params: paramsFrom(own.layout, out), state: { rule: 'fedavg-m', g } };
  };
}
