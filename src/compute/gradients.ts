// Gradient functions for the kernels gossipfl trains through. tfjs-core's Node build ships
// the autograd engine but no gradient functions: the `@tensorflow/tfjs` umbrella registers
// them, and pulls in layers, converter, data and the WebGL backend (unused, ~80 MB) with them.
// This module registers the few the zoo models, the loss and the batched engine need, written
// from the chain rule; a kernel another package already registered (tfjs-node loads the
// umbrella) is left as it is.
import * as tf from '@tensorflow/tfjs-core';

type Saved = tf.Tensor[];
type Attrs = tf.NamedAttrMap;
type GradFunc = (dy: tf.Tensor | tf.Tensor[], saved: Saved, attrs: Attrs) => Record<string, () => tf.Tensor>;

/** Sums a broadcast gradient back down to the shape of the input it flowed from. */
function reduceTo(g: tf.Tensor, shape: readonly number[]): tf.Tensor {
  const axes = tf.backend_util.getReductionAxes(shape as number[], g.shape);
  const summed = axes.length ? tf.sum(g, axes) : g;
  return tf.reshape(summed, shape as number[]);
}

/** Spreads the gradient of a reduction (sum or mean over `axis`) back over the input's shape. */
function expandReduced(dy: tf.Tensor, x: tf.Tensor, axis: unknown): tf.Tensor {
  const axes = axis == null ? x.shape.map((_, i) => i) : tf.util.parseAxisParam(axis as number | number[], x.shape);
  const kept = tf.backend_util.expandShapeToKeepDim(dy.shape, axes);
  return tf.mul(tf.reshape(dy, kept), tf.ones(x.shape));
}

const one = (dy: tf.Tensor | tf.Tensor[]): tf.Tensor => dy as tf.Tensor;

const gradients: Record<string, { inputsToSave?: string[]; outputsToSave?: boolean[]; saveAllInputs?: boolean; gradFunc: GradFunc }> = {
  Add: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => reduceTo(one(dy), a.shape), b: () => reduceTo(one(dy), b.shape) }),
  },
  Sub: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({ a: () => reduceTo(one(dy), a.shape), b: () => reduceTo(tf.neg(one(dy)), b.shape) }),
  },
  Multiply: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => reduceTo(tf.mul(one(dy), b), a.shape),
      b: () => reduceTo(tf.mul(one(dy), a), b.shape),
    }),
  },
  // d(a/b) = da/b − a·db/b²
  RealDiv: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b]) => ({
      a: () => reduceTo(tf.div(one(dy), b), a.shape),
      b: () => reduceTo(tf.neg(tf.div(tf.mul(one(dy), a), tf.square(b))), b.shape),
    }),
  },
  Neg: { gradFunc: (dy) => ({ x: () => tf.neg(one(dy)) }) },
  Square: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(one(dy), tf.mul(x, 2)) }) },
  Relu: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.mul(one(dy), tf.step(x)) }) },
  // Activations a custom model may use (examples/custom-model.ts uses tanh).
  Tanh: { outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(one(dy), tf.sub(tf.scalar(1), tf.square(y))) }) },
  Sigmoid: { outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(one(dy), tf.mul(y, tf.sub(tf.scalar(1), y))) }) },
  Exp: { outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => tf.mul(one(dy), y) }) },
  Reshape: { inputsToSave: ['x'], gradFunc: (dy, [x]) => ({ x: () => tf.reshape(one(dy), x.shape) }) },
  Identity: { gradFunc: (dy) => ({ x: () => tf.clone(one(dy)) }) },
  Cast: { gradFunc: (dy) => ({ x: () => tf.clone(one(dy)) }) },
  AddN: {
    saveAllInputs: true,
    gradFunc: (dy, saved) => Object.fromEntries(saved.map((_, i) => [String(i), () => tf.clone(one(dy))])),
  },
  Sum: { inputsToSave: ['x'], gradFunc: (dy, [x], attrs) => ({ x: () => expandReduced(one(dy), x, attrs.axis) }) },
  Mean: {
    inputsToSave: ['x'],
    gradFunc: (dy, [x], attrs) => ({
      x: () => {
        const expanded = expandReduced(one(dy), x, attrs.axis);
        return tf.div(expanded, x.size / one(dy).size);
      },
    }),
  },
  // Outputs of an unstack that the loss never read come back as null: they contribute zeros.
  Unpack: {
    inputsToSave: ['value'],
    gradFunc: (dys, [value], attrs) => ({
      value: () => {
        const axis = attrs.axis as number;
        const sliceShape = value.shape.filter((_, i) => i !== axis);
        const parts = (dys as (tf.Tensor | null)[]).map((d) => d ?? tf.zeros(sliceShape));
        return tf.stack(parts, axis);
      },
    }),
  },
  // C = op(A)·op(B); each case is dC times the other factor, transposed to match.
  BatchMatMul: {
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, [a, b], attrs) => {
      const g = one(dy);
      const tA = Boolean(attrs.transposeA);
      const tB = Boolean(attrs.transposeB);
      const da = !tA ? (!tB ? tf.matMul(g, b, false, true) : tf.matMul(g, b)) : !tB ? tf.matMul(b, g, false, true) : tf.matMul(b, g, true, true);
      const db = !tA ? (!tB ? tf.matMul(a, g, true, false) : tf.matMul(g, a, true, false)) : !tB ? tf.matMul(a, g) : tf.matMul(g, a, true, true);
      return { a: () => reduceTo(da, a.shape), b: () => reduceTo(db, b.shape) };
    },
  },
  Conv2D: {
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, [x, filter], attrs) => {
      const dilations = (attrs.dilations ?? 1) as number | [number, number];
      if (!tf.backend_util.tupleValuesAreOne(dilations)) throw new Error('conv2d gradient: only dilation 1 is supported');
      if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC') throw new Error('conv2d gradient: only the NHWC data format is supported');
      const { strides, pad, dimRoundingMode } = attrs as unknown as { strides: [number, number]; pad: 'valid' | 'same'; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
      return {
        x: () => tf.conv2dTranspose(one(dy) as tf.Tensor4D, filter as tf.Tensor4D, x.shape as [number, number, number, number], strides, pad, dimRoundingMode),
        filter: () =>
          tf.engine().runKernel(
            'Conv2DBackpropFilter',
            { x, dy: one(dy) },
            { strides, pad, dataFormat: 'NHWC', ...(dimRoundingMode ? { dimRoundingMode } : {}), filterShape: filter.shape },
          ) as tf.Tensor,
      };
    },
  },
  MaxPool: {
    inputsToSave: ['x'],
    outputsToSave: [true],
    gradFunc: (dy, [x, y], attrs) => ({
      x: () =>
        tf.engine().runKernel(
          'MaxPoolGrad',
          { dy: one(dy), input: x, output: y },
          attrs,
        ) as tf.Tensor,
    }),
  },
};

/** Kernels this module can differentiate (the ones it registers where nothing else has). */
export const DIFFERENTIABLE_KERNELS: readonly string[] = Object.keys(gradients);

/** Registers the gradient functions once; kernels that already have one keep it. */
export function registerGradients(): void {
  for (const [kernelName, config] of Object.entries(gradients)) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({ kernelName, ...config } as unknown as tf.GradConfig);
  }
}
