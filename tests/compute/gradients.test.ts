import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../src/compute/tf.js';
import { DIFFERENTIABLE_KERNELS } from '../../src/compute/gradients.js';
import { Rng } from '../../src/util/rng.js';

type F = (...xs: tf.Tensor[]) => tf.Scalar;

/** Central differences of f at the given inputs, one element at a time (tiny tensors only). */
function numericGrads(f: F, inputs: { shape: number[]; values: Float32Array }[], h = 1e-2): Float64Array[] {
  const evalAt = (vals: Float32Array[]) =>
    tf.tidy(() => f(...vals.map((v, i) => tf.tensor(v, inputs[i].shape))).dataSync()[0]);
  return inputs.map((input, which) => {
    const out = new Float64Array(input.values.length);
    for (let k = 0; k < out.length; k++) {
      const plus = inputs.map((x) => x.values.slice());
      const minus = inputs.map((x) => x.values.slice());
      plus[which][k] += h;
      minus[which][k] -= h;
      out[k] = (evalAt(plus) - evalAt(minus)) / (2 * h);
    }
    return out;
  });
}

function check(f: F, shapes: number[][], seed: number): void {
  const rng = new Rng(seed);
  const inputs = shapes.map((shape) => ({ shape, values: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.normal()) }));
  const analytic = tf.tidy(() => tf.grads(f)(inputs.map((x) => tf.tensor(x.values, x.shape))).map((g) => g.dataSync() as Float32Array));
  const numeric = numericGrads(f, inputs);
  analytic.forEach((g, i) => {
    expect(g.length).toBe(numeric[i].length);
    g.forEach((v, k) => expect(Math.abs(v - numeric[i][k])).toBeLessThan(2e-3 * (1 + Math.abs(numeric[i][k]))));
  });
}

describe('gradient functions registered without the tfjs umbrella', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('registers a gradient for every kernel it lists', () => {
    for (const k of DIFFERENTIABLE_KERNELS) expect(tf.getGradient(k), k).toBeDefined();
  });

  it('differentiates broadcast add, sub, mul, div, neg, square through sum and mean', () => {
    check((a, b) => tf.sum(tf.square(tf.sub(tf.add(a, b), tf.mul(a, b)))) as tf.Scalar, [[2, 3], [3]], 1);
    check((a, b) => tf.sum(tf.mean(tf.neg(tf.div(a, tf.add(tf.square(b), 1))), 1)) as tf.Scalar, [[2, 3], [2, 1]], 2);
    check((a) => tf.sum(tf.mean(tf.square(a), [0, 2])) as tf.Scalar, [[2, 3, 2]], 3);
  });

  it('differentiates matMul with every transpose, batched and broadcast', () => {
    for (const [tA, tB] of [[false, false], [false, true], [true, false], [true, true]]) {
      const sa = tA ? [2, 4, 3] : [2, 3, 4];
      const sb = tB ? [2, 5, 4] : [2, 4, 5];
      check((a, b, c) => tf.sum(tf.square(tf.add(tf.matMul(a as tf.Tensor3D, b as tf.Tensor3D, tA, tB), c))) as tf.Scalar, [sa, sb, [1, 1, 5]], 4);
    }
    check((a, b) => tf.sum(tf.square(tf.matMul(a as tf.Tensor2D, b as tf.Tensor2D))) as tf.Scalar, [[3, 4], [4, 2]], 5);
  });

  it('differentiates relu, reshape, clone, cast, addN, unstack with an unused slice', () => {
    check((a) => tf.sum(tf.square(tf.relu(tf.reshape(tf.clone(a), [3, 2])))) as tf.Scalar, [[2, 3]], 6);
    check((a, b) => tf.sum(tf.square(tf.addN([a, b, tf.cast(a, 'float32')]))) as tf.Scalar, [[2, 2], [2, 2]], 7);
    check((a) => tf.sum(tf.square(tf.unstack(a, 1)[0])) as tf.Scalar, [[2, 3]], 8);
  });

  it('differentiates tanh, sigmoid and exp (activations of custom models)', () => {
    check((a) => tf.sum(tf.square(tf.tanh(a))) as tf.Scalar, [[2, 3]], 11);
    check((a) => tf.sum(tf.mul(tf.sigmoid(a), a)) as tf.Scalar, [[2, 3]], 12);
    check((a) => tf.sum(tf.exp(tf.mul(a, 0.5))) as tf.Scalar, [[3]], 13);
  });

  it('differentiates conv2d (valid and same padding) and max pooling', () => {
    check((x, w) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'valid'))) as tf.Scalar, [[1, 5, 5, 2], [3, 3, 2, 2]], 9);
    check((x, w) => tf.sum(tf.square(tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same'))) as tf.Scalar, [[1, 4, 4, 1], [2, 2, 1, 3]], 10);
    check((x) => tf.sum(tf.square(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'))) as tf.Scalar, [[1, 4, 4, 2]], 11);
  });

  it('differentiates the softmax cross-entropy the trainer uses', () => {
    const y = tf.oneHot(tf.tensor1d([2, 0], 'int32'), 3);
    check((z) => tf.mean(tf.neg(tf.sum(tf.mul(tf.logSoftmax(z), y), 1))) as tf.Scalar, [[2, 3]], 12);
  });
});
