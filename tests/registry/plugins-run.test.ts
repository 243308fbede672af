// A plug-in of every kind, registered by name (dataset, model, topology, aggregation rule) and
// named in a config like a built-in, runs the same in the simulator and between real libp2p peers
// (memory transport, one process): every round's losses and accuracies agree bit for bit.
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseConfig, type RunConfigInput } from '../../src/peer/config.js';
import { simulate } from '../../src/sim/simulator.js';
import { runRealPeers } from '../parity/real-peers.js';
import { defineRule, aggregationRegistry } from '../../src/aggregation/registry.js';
import { stateless } from '../../src/aggregation/aggregator.js';
import { defineStaticGraph, topologyRegistry } from '../../src/topology/registry.js';
import { graphFromNeighbours } from '../../src/topology/graph.js';
import { datasetRegistry, defineDataset } from '../../src/data/registry.js';
import { makeDataset } from '../../src/data/dataset.js';
import { defineModel, modelRegistry } from '../../src/model/registry.js';
import { initParams, type Model, type ModelSpec } from '../../src/model/zoo.js';
import { tf } from '../../src/compute/tf.js';
import { cloneParams, makeLayout } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';

/** How often the plug-in rule aggregated, per run. */
let merges = 0;

const undo = [
  datasetRegistry.register(
    defineDataset({
      name: 'blobs',
      summary: 'three seeded Gaussian blobs in 6 dimensions',
      classes: 3,
      shape: [6],
      schema: z.strictObject({ dataset: z.literal('blobs'), perClass: z.number().int().min(1).default(40) }),
      load: (s, seed) => {
        const part = (name: string, stream: string) => {
          const rng = Rng.derive(seed, 'blobs', stream);
          const n = 3 * s.perClass;
          const x = new Float32Array(n * 6);
          const y = new Uint8Array(n);
          for (let i = 0; i < n; i++) {
            y[i] = i % 3;
            for (let d = 0; d < 6; d++) x[i * 6 + d] = (d % 3 === y[i] ? 1.5 : 0) + (rng.next() - 0.5);
          }
          return makeDataset({ name, x, y, featureShape: [6], numClasses: 3 });
        };
        return { train: part('blobs/train', 'train'), test: part('blobs/test', 'test') };
      },
    }),
  ),
  modelRegistry.register(
    defineModel({
      name: 'tanh-net',
      summary: 'one tanh hidden layer',
      inputs: 'any',
      schema: z.strictObject({ kind: z.literal('tanh-net'), width: z.number().int().min(1).default(5) }),
      build: (s, inputShape, numClasses): Model => {
        const d = inputShape.reduce((a, b) => a * b, 1);
        const layout = makeLayout([
          { name: 'hidden/kernel', shape: [d, s.width], role: 'weight' },
          { name: 'hidden/bias', shape: [s.width], role: 'bias' },
          { name: 'out/kernel', shape: [s.width, numClasses], role: 'weight' },
          { name: 'out/bias', shape: [numClasses], role: 'bias' },
        ]);
        return {
          // Model.spec is typed as the zoo's specs; a plug-in's own spec is cast.
          spec: s as unknown as ModelSpec,
          inputShape: [...inputShape],
          numClasses,
          layout,
          needsConvGradients: false,
          init: (seed) => initParams(layout, seed),
          logits: ([w1, b1, w2, b2], x) => tf.add(tf.matMul(tf.tanh(tf.add(tf.matMul(x, w1 as tf.Tensor2D), b1)) as tf.Tensor2D, w2 as tf.Tensor2D), b2) as tf.Tensor2D,
        };
      },
    }),
  ),
  topologyRegistry.register(
    defineStaticGraph({
      kind: 'static',
      name: 'directed-cycle',
      summary: 'peer i hears from i + 1 only',
      random: false,
      needsDegree: false,
      schema: z.strictObject({ name: z.literal('directed-cycle') }),
      graph: (s) => ({ graph: graphFromNeighbours(s.peers, true, (i) => [(i + 1) % s.peers]) }),
    }),
  ),
  aggregationRegistry.register(
    defineRule({
      name: 'half-step',
      summary: 'move half-way to the neighbours\' mean',
      modes: ['gossip'],
      faults: 'none',
      schema: z.strictObject({ name: z.literal('half-step'), step: z.number().gt(0).max(1).default(0.5) }),
      build: (s) =>
        stateless(s, (own, received) => {
          merges++;
          const next = cloneParams(own);
          for (const { params } of received) for (let i = 0; i < next.data.length; i++) next.data[i] += (s.step * (params.data[i] - own.data[i])) / received.length;
          return next;
        }),
    }),
  ),
];
afterAll(() => undo.forEach((f) => f()));

const input = {
  name: 'registered plug-ins',
  seed: 5,
  peers: 3,
  rounds: 3,
  backend: 'cpu',
  data: { dataset: 'blobs', partition: { kind: 'iid' } },
  model: { kind: 'tanh-net', width: 4 },
  training: { batchSize: 8, optimizer: { kind: 'sgd', lr: 0.2 } },
  topology: { name: 'directed-cycle' },
  aggregation: { name: 'half-step', step: 0.5 },
  schedule: { localSteps: 2 },
  eval: { every: 1 },
} as unknown as RunConfigInput;

describe('plug-ins registered by name', () => {
  it('run in the simulator and between real peers with bit-identical rounds', async () => {
    const config = parseConfig(input);
    expect(config.data).toEqual({ dataset: 'blobs', perClass: 40, partition: { kind: 'iid' } });
    merges = 0;
    const sim = await simulate(config);
    const simMerges = merges;
    merges = 0;
    const peers = (await runRealPeers(parseConfig(input))).metrics;
    // Every peer mixes once a round with the plug-in rule, in both runs.
    expect(simMerges).toBe(9);
    expect(merges).toBe(9);
    expect(sim.metrics).toHaveLength(3);
    sim.metrics.forEach((s, r) =>
      peers.forEach((metrics, k) => {
        expect(Object.is(metrics[r].trainLoss, s.perPeer!.trainLoss[k])).toBe(true);
        expect(metrics[r].localAccuracyMean).toBe(s.perPeer!.accuracy[k]);
      }),
    );
    // The blobs are separable: the plug-in model learns them.
    expect(sim.metrics[2].localAccuracyMean).toBeGreaterThan(0.6);
  }, 120_000);
});
