// A custom model trained by 8 simulated peers. A gossipfl Model is plain data plus two
// functions: a layout of named tensors in one flat weight buffer, a seeded `init`, and `logits`,
// the forward pass written with tfjs ops over the weights in layout order. The trainer
// differentiates `logits`, so no backward pass is needed.
//
// This one is a "wide and deep" classifier that is not in the zoo:
//   logits = W_out · tanh(W_deep · x + b_deep) + W_wide · x + b_out
//
//   npx tsx examples/custom-model.ts [--quick]
import { parseArgs } from 'node:util';
import { initParams, makeLayout, parseConfig, simulate, tf, type Model, type ModelSpec } from '../src/index.js'; // in your project: 'gossipfl'

/** A wide-and-deep classifier for flat inputs of `features` values. */
function wideAndDeep(features: number, hidden: number, classes: number): Model {
  const layout = makeLayout([
    { name: 'deep/kernel', shape: [features, hidden], role: 'weight' },
    { name: 'deep/bias', shape: [hidden], role: 'bias' },
    { name: 'wide/kernel', shape: [features, classes], role: 'weight' },
    { name: 'out/kernel', shape: [hidden, classes], role: 'weight' },
    { name: 'out/bias', shape: [classes], role: 'bias' },
  ]);
  return {
    // Model.spec admits only the zoo's kinds for now; this one describes itself.
    spec: { kind: 'custom', name: `wide-and-deep ${hidden}` } as unknown as ModelSpec,
    inputShape: [features],
    numClasses: classes,
    layout,
    needsConvGradients: false,
    init: (seed) => initParams(layout, seed), // He-uniform kernels, Glorot for the last, zero biases
    logits: ([deepW, deepB, wideW, outW, outB], x) => {
      const deep = tf.tanh(tf.add(tf.matMul(x, deepW as tf.Tensor2D), deepB));
      return tf.add(tf.add(tf.matMul(deep, outW as tf.Tensor2D), tf.matMul(x, wideW as tf.Tensor2D)), outB);
    },
  };
}

const { values: args } = parseArgs({ options: { quick: { type: 'boolean' } } });
const quick = args.quick ?? false; // a tiny setting, for CI
const config = parseConfig({
  name: 'custom model: wide and deep',
  peers: 8,
  rounds: quick ? 2 : 20,
  backend: quick ? 'cpu' : 'auto',
  data: { dataset: 'mnist', train: quick ? 400 : 8000, test: quick ? 200 : 2000, partition: { kind: 'dirichlet', alpha: 0.5 } },
  topology: { name: 'exponential' },
  schedule: { localSteps: quick ? 2 : 10, merge: { final: true } },
  eval: { every: quick ? 1 : 5 },
});
const model = wideAndDeep(28 * 28, 32, 10);
const result = await simulate(config, { onRound: (m) => console.log(`round ${m.round}: train loss ${m.trainLoss.toFixed(3)}`) }, { model });
const s = result.summary;
console.log(`${model.layout.size} weights per peer; merged model accuracy ${((s.mergedAccuracy ?? 0) * 100).toFixed(1)}% after ${s.rounds} rounds`);
