// The model zoo, written as plain functions of a weight list: the weights live in a Params
// buffer (src/params), the forward pass is a handful of tfjs ops. No tfjs-layers: it would
// own the weights, add per-layer overhead, and hide the flat layout the rest of gossipfl uses.
import type { tf as TF } from '../compute/tf.js';
import { tf } from '../compute/tf.js';
import { makeLayout, type ParamLayout, type Params, type TensorDecl } from '../params/index.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';
import { modelRegistry } from './registry.js';

/** A tfjs tensor (the type the model functions take and return). */
export type Tensor = TF.Tensor;

/** Which zoo model to build: logistic regression, an MLP with hidden widths, or a LeNet-style CNN. */
export type ModelSpec =
  | { readonly kind: 'logreg' }
  | { readonly kind: 'mlp'; readonly hidden: readonly number[] }
  | {
      readonly kind: 'cnn';
      /** Output channels of the two 5×5 convolutions (LeNet-5: 6 and 16). */
      readonly channels?: readonly [number, number];
      /** Widths of the dense layers after the convolutions (LeNet-5: 120 and 84). */
      readonly hidden?: readonly number[];
    };

/** A model as functions of a flat weight buffer: its layout, a seeded init and the forward pass (logits). Implement it to bring your own model. */
export interface Model {
  readonly spec: ModelSpec;
  /** Shape of one input sample, e.g. [28, 28, 1] for images or [d] for vectors. */
  readonly inputShape: readonly number[];
  readonly numClasses: number;
  readonly layout: ParamLayout;
  /** True if training needs convolution gradients (not every backend has them). */
  readonly needsConvGradients: boolean;
  /** Fresh weights from a seed (He-uniform for ReLU layers, Glorot-uniform for the output, zero biases). */
  init(seed: number): Params;
  /** Logits [batch, numClasses] for inputs [batch, featureSize]; `w` in layout order. */
  logits(w: readonly Tensor[], x: TF.Tensor2D): TF.Tensor2D;
}

/** A short human-readable name of a model spec, e.g. "MLP 128". */
export function describeModel(spec: ModelSpec): string {
  switch (spec.kind) {
    case 'logreg':
      return 'logistic regression';
    case 'mlp':
      return `MLP ${spec.hidden.join('-') || '(no hidden layer)'}`;
    case 'cnn':
      return `CNN conv${(spec.channels ?? [6, 16]).join('/')} dense ${(spec.hidden ?? [120, 84]).join('-')}`;
    default:
      // A registered plug-in model: its entry's summary (an unknown kind is a ConfigError).
      return modelRegistry.get((spec as unknown as { kind: string }).kind).summary;
  }
}

/** Models built here: their forward pass is known, so compiled kernels (the WebGPU path) may replace it. */
const zooModels = new WeakSet<Model>();

/** True for a model that buildModel made (not a user's own Model implementation). */
export function isZooModel(model: Model): boolean {
  return zooModels.has(model);
}

/**
 * Builds the model a spec names (a zoo model, or one registered in the model registry) for
 * samples of `inputShape` and `numClasses` classes; throws ConfigError for an unknown kind or
 * shapes it cannot take.
 */
export function buildModel(spec: ModelSpec | { readonly kind: string }, inputShape: readonly number[], numClasses: number): Model {
  if (!(numClasses >= 2)) throw new ConfigError(`model: numClasses must be ≥ 2, got ${numClasses}`);
  const entry = modelRegistry.get(spec.kind);
  const model = entry.build(spec as never, inputShape, numClasses);
  if (entry.zoo) zooModels.add(model);
  return model;
}

/** Dense layers: x → [W_i x + b_i, ReLU]* → W_out x + b_out. */
export function denseModel(
  spec: ModelSpec,
  inputShape: readonly number[],
  featureSize: number,
  hidden: readonly number[],
  numClasses: number,
): Model {
  const widths = [featureSize, ...hidden, numClasses];
  const decls: TensorDecl[] = [];
  for (let l = 0; l + 1 < widths.length; l++) {
    decls.push({ name: `dense${l}/kernel`, shape: [widths[l], widths[l + 1]], role: 'weight' });
    decls.push({ name: `dense${l}/bias`, shape: [widths[l + 1]], role: 'bias' });
  }
  const layout = makeLayout(decls);
  const layers = widths.length - 1;
  return {
    spec,
    inputShape: [...inputShape],
    numClasses,
    layout,
    needsConvGradients: false,
    init: (seed) => initParams(layout, seed),
    logits: (w, x) => {
      let h: Tensor = x;
      for (let l = 0; l < layers; l++) {
        h = tf.add(tf.matMul(h as TF.Tensor2D, w[2 * l] as TF.Tensor2D), w[2 * l + 1]);
        if (l + 1 < layers) h = tf.relu(h);
      }
      return h as TF.Tensor2D;
    },
  };
}

/** LeNet-style: conv5×5 (same) → ReLU → maxpool 2 → conv5×5 (valid) → ReLU → maxpool 2 → dense. */
export function cnnModel(spec: Extract<ModelSpec, { kind: 'cnn' }>, inputShape: readonly number[], numClasses: number): Model {
  if (inputShape.length !== 3) {
    throw new ConfigError(`model: a CNN needs image inputs [height, width, channels], got [${inputShape.join(', ')}]`);
  }
  const [height, width, inChannels] = inputShape;
  const [c1, c2] = spec.channels ?? [6, 16];
  const hidden = spec.hidden ?? [120, 84];
  // conv1 'same' keeps H×W; pool halves; conv2 'valid' removes 4; pool halves.
  const h2 = Math.floor((Math.floor(height / 2) - 4) / 2);
  const w2 = Math.floor((Math.floor(width / 2) - 4) / 2);
  if (h2 < 1 || w2 < 1) throw new ConfigError(`model: images of ${height}×${width} are too small for the LeNet-style CNN (need ≥ 12×12)`);
  const flat = h2 * w2 * c2;
  const decls: TensorDecl[] = [
    { name: 'conv0/kernel', shape: [5, 5, inChannels, c1], role: 'weight' },
    { name: 'conv0/bias', shape: [c1], role: 'bias' },
    { name: 'conv1/kernel', shape: [5, 5, c1, c2], role: 'weight' },
    { name: 'conv1/bias', shape: [c2], role: 'bias' },
  ];
  const widths = [flat, ...hidden, numClasses];
  for (let l = 0; l + 1 < widths.length; l++) {
    decls.push({ name: `dense${l}/kernel`, shape: [widths[l], widths[l + 1]], role: 'weight' });
    decls.push({ name: `dense${l}/bias`, shape: [widths[l + 1]], role: 'bias' });
  }
  const layout = makeLayout(decls);
  const denseLayers = widths.length - 1;
  return {
    spec,
    inputShape: [...inputShape],
    numClasses,
    layout,
    needsConvGradients: true,
    init: (seed) => initParams(layout, seed),
    logits: (w, x) => {
      const batch = x.shape[0];
      let h: Tensor = tf.reshape(x, [batch, height, width, inChannels]);
      h = tf.relu(tf.add(tf.conv2d(h as TF.Tensor4D, w[0] as TF.Tensor4D, 1, 'same'), w[1]));
      h = tf.maxPool(h as TF.Tensor4D, 2, 2, 'valid');
      h = tf.relu(tf.add(tf.conv2d(h as TF.Tensor4D, w[2] as TF.Tensor4D, 1, 'valid'), w[3]));
      h = tf.maxPool(h as TF.Tensor4D, 2, 2, 'valid');
      h = tf.reshape(h, [batch, flat]);
      for (let l = 0; l < denseLayers; l++) {
        h = tf.add(tf.matMul(h as TF.Tensor2D, w[4 + 2 * l] as TF.Tensor2D), w[5 + 2 * l]);
        if (l + 1 < denseLayers) h = tf.relu(h);
      }
      return h as TF.Tensor2D;
    },
  };
}

/**
 * Seeded initialisation in plain TypeScript (not tfjs's random ops), so the same seed gives the
 * same weights on every backend. Kernels: He-uniform (limit √(6/fan_in)) for layers followed by
 * ReLU, Glorot-uniform (limit √(6/(fan_in+fan_out))) for the last layer; biases zero.
 */
export function initParams(layout: ParamLayout, seed: number): Params {
  const data = new Float32Array(layout.size);
  const rng = Rng.derive(seed, 'init');
  const kernels = layout.tensors.filter((t) => t.role === 'weight');
  const last = kernels[kernels.length - 1];
  for (const t of kernels) {
    const fanOut = t.shape[t.shape.length - 1];
    const fanIn = t.size / fanOut;
    const limit = t === last ? Math.sqrt(6 / (fanIn + fanOut)) : Math.sqrt(6 / fanIn);
    for (let i = 0; i < t.size; i++) data[t.offset + i] = (2 * rng.next() - 1) * limit;
  }
  return { layout, data };
}
