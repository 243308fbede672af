// The rules' local-training parts and differential privacy through the round driver (simulator,
// per-peer world): FedProx's proximal term, SCAFFOLD's control variates, D²'s corrected gossip,
// clipping and noise, and the (ε, δ) in the round metrics — each against steps computed here.
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/compute/backend.js';
import { buildAggregation, type AggregationState, type Aggregator } from '../../src/aggregation/build.js';
import { controlParams, scaffoldClientUpdate, scaffoldCorrection } from '../../src/aggregation/scaffold.js';
import { d2Correction, d2Mix } from '../../src/aggregation/d2.js';
import type { Contribution } from '../../src/aggregation/types.js';
import { fedAvg } from '../../src/aggregation/fedavg.js';
import { parseConfig, type RunConfig, type RunConfigInput } from '../../src/peer/config.js';
import { buildRun, makePeer, type Run } from '../../src/peer/run.js';
import { Trainer } from '../../src/model/trainer.js';
import { cloneParams, paramsFrom, type Params } from '../../src/params/index.js';
import { addGaussianNoise, clipUpdate, runPrivacy } from '../../src/privacy/index.js';
import { simulate } from '../../src/sim/simulator.js';
import { Rng } from '../../src/util/rng.js';
import { ConfigError } from '../../src/util/errors.js';

const base = (over: Partial<RunConfigInput>): RunConfigInput => ({
  seed: 7,
  peers: 2,
  rounds: 1,
  backend: 'cpu',
  mode: 'federated',
  data: { dataset: 'synthetic', train: 120, test: 60, features: 5, classes: 3, partition: { kind: 'iid' } },
  model: { kind: 'logreg' },
  training: { batchSize: 4, optimizer: { kind: 'sgd', lr: 0.3 } },
  schedule: { localSteps: 2 },
  eval: { every: 1 },
  ...over,
});

/** The run's parts and its peers, built as the simulator builds them (same shards, init and batches). */
async function parts(config: RunConfig): Promise<{ run: Run; peers: ReturnType<typeof makePeer>[]; trainer: Trainer }> {
  const run = await buildRun(config);
  const peers = Array.from({ length: config.peers }, (_, i) => makePeer(run, { id: `p${i}`, shard: i }));
  return { run, peers, trainer: new Trainer(run.model, config.training.optimizer) };
}

const sub = (a: Float32Array, b: Float32Array) => a.map((v, k) => v - b[k]);

describe('local-training hooks through the round driver', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('FedProx: two peers, two steps each = softmax-regression SGD with μ(w − w_round) added, computed by hand, then FedAvg', async () => {
    const mu = 0.5;
    const config = parseConfig(base({ aggregation: { name: 'fedprox', mu } }));
    const out = await simulate(config);
    const plain = await simulate(parseConfig(base({ aggregation: { name: 'fedavg' } })));
    // The same peer's two minibatches, and the hand-written steps in float64.
    const { run, peers } = await parts(config);
    const F = 5;
    const C = 3;
    const lr = 0.3;
    const anchor = Float64Array.from(run.sharedInit.data); // dense0/kernel [F, C] then dense0/bias [C]
    const expected = new Float64Array(anchor.length);
    const total = peers[0].sampleCount + peers[1].sampleCount;
    for (const p of peers) {
    const w = Float64Array.from(anchor);
    for (let step = 0; step < 2; step++) {
      const b = p.batches.next();
      const g = new Float64Array(w.length);
      for (let s = 0; s < b.size; s++) {
        const z = Array.from({ length: C }, (_, c) => {
          let v = w[F * C + c];
          for (let f = 0; f < F; f++) v += b.x[s * F + f] * w[f * C + c];
          return v;
        });
        const m = Math.max(...z);
        const e = z.map((v) => Math.exp(v - m));
        const sum = e.reduce((a, x) => a + x, 0);
        for (let c = 0; c < C; c++) {
          const d = (e[c] / sum - (b.labels[s] === c ? 1 : 0)) / b.size;
          for (let f = 0; f < F; f++) g[f * C + c] += b.x[s * F + f] * d;
          g[F * C + c] += d;
        }
      }
      for (let k = 0; k < w.length; k++) w[k] -= lr * (g[k] + mu * (w[k] - anchor[k]));
    }
    for (let k = 0; k < w.length; k++) expected[k] += (p.sampleCount / total) * w[k];
    }
    const got = out.merged.data;
    for (let k = 0; k < expected.length; k++) expect(got[k]).toBeCloseTo(expected[k], 5);
    // The proximal term acts from the second step on: not FedAvg's model.
    expect(Math.max(...Array.from(got, (v, k) => Math.abs(v - plain.merged.data[k])))).toBeGreaterThan(1e-4);
  });

  it('SCAFFOLD: two peers, two rounds = the paper’s client and server steps from the library parts, bit for bit, controls on the wire', async () => {
    const config = parseConfig(base({ peers: 2, rounds: 2, aggregation: { name: 'scaffold' }, schedule: { localSteps: 3 }, data: { dataset: 'synthetic', train: 120, test: 60, features: 5, classes: 3, partition: { kind: 'dirichlet', alpha: 0.3 } } }));
    const out = await simulate(config);
    const { run, peers, trainer } = await parts(config);
    const agg = buildAggregation({ name: 'scaffold' });
    let state: AggregationState = agg.initialState();
    let global = cloneParams(run.sharedInit);
    const ci: Array<Float32Array | null> = [null, null];
    const seen: Array<{ c: Float32Array | null; ci: Array<Float32Array | null> }> = [];
    for (let round = 0; round < 2; round++) {
      const c = state !== null && state.rule === 'scaffold' ? state.c : null;
      seen.push({ c, ci: [...ci] });
      const received: Contribution[] = [];
      for (const [i, p] of peers.entries()) {
        const local = cloneParams(global);
        await trainer.train(local, p.optimizer, p.batches.next, 3, { correction: scaffoldCorrection(c, ci[i], local.data.length) });
        const u = scaffoldClientUpdate({ global: global.data, local: local.data, clientControl: ci[i], serverControl: c, localLr: 0.3, localSteps: 3 });
        ci[i] = u.clientControl;
        // The server rebuilds the model as global + the uploaded change, in float32.
        const model = paramsFrom(global.layout, global.data.map((g, k) => g + Math.fround(local.data[k] - g)));
        received.push({ from: p.id, params: model, weight: p.sampleCount, control: controlParams(global, u.controlDelta) });
      }
      const r = agg.aggregate(state, global, received, { round, members: peers.map((p) => p.id) });
      state = r.state;
      global = r.params;
    }
    trainer.dispose();
    expect(out.merged.data).toEqual(global.data);
    // Round 2 ran with c ≠ 0 and c_i ≠ 0: the controls were carried over.
    expect(seen[1].c!.some((v) => v !== 0)).toBe(true);
    expect(seen[1].ci.every((x) => x !== null && x.some((v) => v !== 0))).toBe(true);
    // c = mean of the c_i (full participation, N = 2, both start at 0).
    const cAfter = (state as { c: Float32Array }).c;
    for (let k = 0; k < cAfter.length; k++) expect(cAfter[k]).toBeCloseTo((ci[0]![k] + ci[1]![k]) / 2, 6);
    // Each client uploads its change and its Δc_i: per round two more model-sized messages than FedAvg.
    const fedavg = await simulate(parseConfig({ ...base({ peers: 2, rounds: 2, schedule: { localSteps: 3 } }), aggregation: { name: 'fedavg' } }));
    const modelBytes = fedavg.metrics[0].bytesSent / 4; // download and upload of two clients
    expect(out.metrics[0].bytesSent).toBe(fedavg.metrics[0].bytesSent + 2 * modelBytes);
  });

  it('D² in gossip: two peers, two rounds = ψ + x − ψ_prev sent, mixed with (I + W)/2', async () => {
    const input = base({ peers: 2, rounds: 2, mode: 'gossip', topology: { name: 'complete' }, aggregation: { name: 'd2' }, schedule: { localSteps: 2 } });
    const config = parseConfig(input);
    const out = await simulate(config);
    const { run, peers, trainer } = await parts(config);
    const mix = d2Mix();
    let x = peers.map((p) => cloneParams(p.params));
    let last: Float32Array[] = x.map((p) => p.data.slice());
    for (let round = 0; round < 2; round++) {
      const sent: Params[] = [];
      for (const [i, p] of peers.entries()) {
        const psi = cloneParams(x[i]);
        await trainer.train(psi, p.optimizer, p.batches.next, 2);
        sent.push(paramsFrom(psi.layout, d2Correction(psi.data, x[i].data, last[i])));
        last[i] = psi.data.slice();
      }
      const mixing = run.mixing.at(2, round, null);
      x = sent.map((own, i) => {
        const row = mixing.row(i);
        const received = Array.from(row.peers, (j, k) => ({ from: `p${j}`, params: sent[j], weight: row.weights[k] }));
        return mix(own, received);
      });
    }
    trainer.dispose();
    out.finalModels.forEach((m, i) => expect(m.data).toEqual(x[i].data));
    // Hand-checked: the lazy mixing of two peers with W_01 = 1/2 moves each 1/4 of the way.
    const l = run.sharedInit.layout;
    const one = paramsFrom(l, new Float32Array(l.size).fill(1));
    const five = paramsFrom(l, new Float32Array(l.size).fill(5));
    expect(mix(one, [{ from: 'b', params: five, weight: 0.5 }]).data[0]).toBe(2);
    expect(d2Mix({ lazy: false })(one, [{ from: 'b', params: five, weight: 0.5 }]).data[0]).toBe(3);
    expect(Array.from(d2Correction(Float32Array.of(3, 1), Float32Array.of(2, 2), Float32Array.of(0.5, 4)))).toEqual([4.5, -1]);
  });

  it('central DP: the server adds N(0, (σC/m)²) to the unweighted mean of the clipped updates; ε in every round’s metrics', async () => {
    const privacy = { mode: 'central' as const, clipNorm: 0.05, noiseMultiplier: 1.3, delta: 1e-5 };
    const input = base({ peers: 2, rounds: 2, privacy, data: { dataset: 'synthetic', train: 120, test: 60, features: 5, classes: 3, partition: { kind: 'dirichlet', alpha: 0.3 } } });
    const config = parseConfig(input);
    const out = await simulate(config);
    const { run, peers, trainer } = await parts(config);
    let global = cloneParams(run.sharedInit);
    let clippedSome = false;
    for (let round = 0; round < 2; round++) {
      const mean = new Float64Array(global.data.length);
      for (const p of peers) {
        const local = cloneParams(global);
        await trainer.train(local, p.optimizer, p.batches.next, 2);
        const c = clipUpdate(sub(local.data, global.data), privacy.clipNorm);
        clippedSome ||= c.scale < 1;
        // As the server sees it: global + clipped update, then the float32 mean of the two models.
        const model = global.data.map((g, k) => g + c.update[k]);
        for (let k = 0; k < mean.length; k++) mean[k] += model[k];
      }
      const avg = Float32Array.from(mean, (v) => v / 2);
      global = paramsFrom(global.layout, addGaussianNoise(avg, (privacy.noiseMultiplier * privacy.clipNorm) / 2, Rng.derive(config.seed, 'dp-noise', round)));
    }
    trainer.dispose();
    expect(clippedSome).toBe(true);
    expect(out.merged.data).toEqual(global.data);
    out.metrics.forEach((m, t) => expect(m.privacy).toEqual({ epsilon: runPrivacy(privacy, t + 1, 1).epsilon, delta: 1e-5 }));
    // σ = 0 clips but promises nothing: no ε recorded.
    const clipOnly = await simulate(parseConfig({ ...input, privacy: { ...privacy, noiseMultiplier: 0 } }));
    expect(clipOnly.metrics.every((m) => m.privacy === undefined)).toBe(true);
  });

  it('local DP: a peer keeps and sends x_s + clip(u) + N(0, (σC)²), seeded by run seed, round and shard', async () => {
    const privacy = { mode: 'local' as const, clipNorm: 0.1, noiseMultiplier: 0.8, delta: 1e-5 };
    const config = parseConfig(base({ privacy }));
    const out = await simulate(config);
    const { run, peers, trainer } = await parts(config);
    const x0 = run.sharedInit.data;
    const received: Contribution[] = [];
    for (const [i, p] of peers.entries()) {
      const local = cloneParams(run.sharedInit);
      await trainer.train(local, p.optimizer, p.batches.next, 2);
      const c = clipUpdate(sub(local.data, x0), privacy.clipNorm);
      const noisy = addGaussianNoise(c.update, privacy.noiseMultiplier * privacy.clipNorm, Rng.derive(config.seed, 'dp-noise', 0, i));
      const kept = x0.map((g, k) => g + noisy[k]);
      // The server rebuilds global + (kept − global) in float32 and averages by sample count.
      received.push({ from: p.id, params: paramsFrom(run.sharedInit.layout, x0.map((g, k) => g + Math.fround(kept[k] - g))), weight: p.sampleCount });
    }
    trainer.dispose();
    expect(out.merged.data).toEqual(fedAvg(run.sharedInit, received).data);
    // Local mode: q = 1 and the accountant's multiplier σ/2 (sensitivity 2C).
    expect(out.metrics[0].privacy!.epsilon).toBe(runPrivacy(privacy, 1).epsilon);
  });

  it('MoDeST keeps each aggregator’s rule memory across rounds (FedAdam’s moments are not reset)', async () => {
    const config = parseConfig(base({ peers: 2, rounds: 3, mode: 'modest', modest: { trainers: 2, aggregators: 2 }, aggregation: { name: 'fedadam', serverLr: 0.05 } }));
    const inner = buildAggregation(config.aggregation!);
    const steps: number[] = [];
    const recording: Aggregator = {
      ...inner,
      aggregate: (state, own, received, ctx) => {
        steps.push((state as { step: number }).step);
        return inner.aggregate(state, own, received, ctx);
      },
    };
    await simulate(config, {}, { aggregation: recording });
    // Two aggregators per round, each on its own memory: steps 0, 0, then 1, 1, then 2, 2.
    expect(steps).toEqual([0, 0, 1, 1, 2, 2]);
  });

  it('summary.rounds counts the rounds trained', async () => {
    const r = await simulate(parseConfig(base({ rounds: 3 })));
    expect(r.summary.rounds).toBe(r.metrics.length);
  });

  it('refuses what the hooks cannot do, naming the key', () => {
    const refuse = (over: Partial<RunConfigInput>, pattern: RegExp) => expect(() => parseConfig(base(over))).toThrow(pattern);
    refuse({ mode: 'gossip', topology: { name: 'ring' }, aggregation: { name: 'fedprox', mu: 0.1 } }, /mode: federated.*aggregation: d2/);
    refuse({ mode: 'modest', aggregation: { name: 'scaffold' } }, /keeps the server control variate c: use mode: federated/);
    refuse({ aggregation: { name: 'scaffold' }, training: { batchSize: 4, optimizer: { kind: 'adam', lr: 0.01 } } }, /training.optimizer/);
    refuse({ aggregation: { name: 'scaffold' }, compression: { method: 'powersgd', rank: 1 } }, /pointwise compression.method/);
    refuse({ aggregation: { name: 'median' }, privacy: { mode: 'central', clipNorm: 1, noiseMultiplier: 1 } }, /use aggregation fedavg or fedprox/);
    refuse({ aggregation: { name: 'd2' } }, /gossip rule/);
    expect(() => parseConfig(base({ aggregation: { name: 'scaffold' }, privacy: { mode: 'local', clipNorm: 1, noiseMultiplier: 1 } }))).toThrow(ConfigError);
  });
});
