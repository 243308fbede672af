// Optimizers with explicit, plain-data state, so a peer's optimizer state can be swapped in and
// out of a shared trainer and checkpointed next to its weights.
import { ConfigError } from '../util/errors.js';
import type { ParamLayout } from '../params/index.js';

/** The local optimizer: SGD (optional momentum, weight decay) or Adam, with its hyper-parameters. */
export type OptimizerSpec =
  | { readonly kind: 'sgd'; readonly lr: number; readonly momentum?: number; readonly weightDecay?: number }
  | {
      readonly kind: 'adam';
      readonly lr: number;
      readonly beta1?: number;
      readonly beta2?: number;
      readonly epsilon?: number;
      readonly weightDecay?: number;
    };

/** Slot buffers, each the size of the model (momentum: [m]; Adam: [m, v]); `step` counts updates. */
export interface OptimizerState {
  step: number;
  readonly slots: Float32Array[];
}

/** How many model-sized slot buffers the optimizer keeps (SGD 0, momentum 1, Adam 2). */
export function slotCount(spec: OptimizerSpec): number {
  if (spec.kind === 'adam') return 2;
  return spec.momentum ? 1 : 0;
}

/** Fresh optimizer state (zeroed slots, step 0) for a model layout; validates the spec first. */
export function initOptimizerState(spec: OptimizerSpec, layout: ParamLayout): OptimizerState {
  validateOptimizer(spec);
  return { step: 0, slots: Array.from({ length: slotCount(spec) }, () => new Float32Array(layout.size)) };
}

/** Throws ConfigError naming the first out-of-range hyper-parameter (lr, momentum, betas, epsilon, weight decay). */
export function validateOptimizer(spec: OptimizerSpec): void {
  if (!(spec.lr > 0) || !Number.isFinite(spec.lr)) throw new ConfigError(`optimizer.lr must be a positive number, got ${spec.lr}`);
  if (spec.weightDecay !== undefined && !(spec.weightDecay >= 0)) {
    throw new ConfigError(`optimizer.weightDecay must be ≥ 0, got ${spec.weightDecay}`);
  }
  if (spec.kind === 'sgd' && spec.momentum !== undefined && !(spec.momentum >= 0 && spec.momentum < 1)) {
    throw new ConfigError(`optimizer.momentum must be in [0, 1), got ${spec.momentum}`);
  }
  if (spec.kind === 'adam') {
    for (const [k, v] of [['beta1', spec.beta1], ['beta2', spec.beta2]] as const) {
      if (v !== undefined && !(v >= 0 && v < 1)) throw new ConfigError(`optimizer.${k} must be in [0, 1), got ${v}`);
    }
  }
}
