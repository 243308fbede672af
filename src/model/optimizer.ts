// Optimizers with explicit, plain-data state, so a peer's optimizer state can be swapped in and
// out of a shared trainer and checkpointed next to its weights.
import { ConfigError } from '../util/errors.js';
import type { ParamLayout } from '../params/index.js';
import type { OptimizerSpec } from '../compute/optimizer-spec.js';

/** The local optimizer: SGD (optional momentum, weight decay) or Adam, with its hyper-parameters. */
export type { OptimizerSpec };

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

/**
 * Extra gradient terms of one local training call, for strategies that change local training:
 * FedProx's proximal term and SCAFFOLD's control-variate correction. Both are added to every
 * step's gradient (after weight decay), before the optimizer update.
 */
export interface LocalStepOptions {
  /** FedProx: adds μ·(w − anchor), the gradient of (μ/2)‖w − anchor‖²; anchor = the model the round started from. */
  readonly proximal?: { readonly mu: number; readonly anchor: Float32Array };
  /** SCAFFOLD: a fixed vector added to every gradient (c − c_i). */
  readonly correction?: Float32Array;
}

/** Throws ConfigError if μ is negative or an anchor / correction does not have one value per parameter. */
export function validateLocalStep(options: LocalStepOptions, size: number): void {
  const { proximal, correction } = options;
  if (proximal) {
    if (!(proximal.mu >= 0) || !Number.isFinite(proximal.mu)) throw new ConfigError(`local step: proximal.mu must be a finite number ≥ 0, got ${proximal.mu}`);
    if (proximal.anchor.length !== size) {
      throw new ConfigError(`local step: proximal.anchor has ${proximal.anchor.length} values, the model ${size}; pass the round's starting model`);
    }
  }
  if (correction && correction.length !== size) {
    throw new ConfigError(`local step: correction has ${correction.length} values, the model ${size}; pass one value per parameter`);
  }
}
