// Federated rounds run from the library parts, for studies the round driver cannot run yet:
// rules that need local-training hooks (FedProx, SCAFFOLD) and central differential privacy.
// Every client trains from the global model with the real Trainer (its LocalStepOptions carry
// the rule's needs), the registered rule aggregates, and the run is written as a run directory
// (metrics.jsonl, summary.json, partition.json) that `gossipfl report` reads.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildAggregation,
  controlParams,
  scaffoldClientUpdate,
  scaffoldCorrection,
  type AggregationSpec,
  type AggregationState,
  type Contribution,
} from '../../src/aggregation/index.js';
import { batchIterator, loadMnist, partitionDirichlet, subset } from '../../src/data/index.js';
import { initOptimizerState, type LocalStepOptions } from '../../src/model/optimizer.js';
import { Trainer } from '../../src/model/trainer.js';
import { buildModel, initParams } from '../../src/model/zoo.js';
import { paramsFrom, type Params } from '../../src/params/index.js';
import { addGaussianNoise, centralNoiseStd, clipUpdate, runPrivacy, type PrivacySpec } from '../../src/privacy/index.js';
import type { RoundMetrics, RunSummary } from '../../src/report/metrics.js';
import { Rng } from '../../src/util/rng.js';

/** One run: the rule, the seed and the setting; `privacy` adds central DP (clip, unweighted mean, noise). */
export interface ServerRun {
  readonly spec: AggregationSpec;
  readonly seed: number;
  readonly dir: string;
  readonly peers: number;
  readonly rounds: number;
  readonly localSteps: number;
  readonly train: number;
  readonly test: number;
  readonly evalEvery: number;
  readonly alpha: number;
  readonly lr: number;
  readonly batch: number;
  readonly hidden?: readonly number[];
  readonly privacy?: PrivacySpec;
}

/** Runs the federated rounds and writes the run directory; returns the per-round metrics. */
export async function runServerRounds(run: ServerRun): Promise<RoundMetrics[]> {
  const { train, test } = loadMnist({ trainSize: run.train, testSize: run.test, seed: run.seed });
  const split = partitionDirichlet(train, run.peers, run.seed, run.alpha);
  const shards = split.indices.map((ids, p) => subset(train, ids, `peer${p}`));
  const model = buildModel({ kind: 'mlp', hidden: [...(run.hidden ?? [128])] }, train.featureShape, train.numClasses);
  const optimizer = { kind: 'sgd' as const, lr: run.lr };
  const trainer = new Trainer(model, optimizer, 'tfjs');
  const batches = shards.map((ds, p) => batchIterator(ds, run.batch, run.seed * 1000 + p));
  const agg = buildAggregation(run.spec);
  const members = shards.map((_, p) => `peer${p}`);
  const noiseRng = Rng.derive(run.seed, 'dp-noise');
  const size = model.layout.size;
  let state: AggregationState = agg.initialState();
  let global = initParams(model.layout, run.seed);
  const clientControls: Array<Float32Array | null> = shards.map(() => null);
  const metrics: RoundMetrics[] = [];
  const t0 = performance.now();
  let bytes = 0;
  for (let round = 1; round <= run.rounds; round++) {
    const serverControl = state !== null && state.rule === 'scaffold' ? state.c : null;
    const received: Contribution[] = [];
    let lossSum = 0;
    for (let p = 0; p < shards.length; p++) {
      const local = paramsFrom(model.layout, global.data.slice());
      const needs = agg.training;
      const options: LocalStepOptions = {
        ...(needs?.proximalMu !== undefined ? { proximal: { mu: needs.proximalMu, anchor: global.data } } : {}),
        ...(needs?.controlVariates ? { correction: scaffoldCorrection(serverControl, clientControls[p], size) } : {}),
      };
      // A fresh optimizer state per round: plain SGD has none, as SCAFFOLD's option II assumes.
      const r = await trainer.train(local, initOptimizerState(optimizer, model.layout), () => batches[p].next(), run.localSteps, options);
      lossSum += r.loss;
      let control: Params | undefined;
      if (needs?.controlVariates) {
        const u = scaffoldClientUpdate({ global: global.data, local: local.data, clientControl: clientControls[p], serverControl, localLr: run.lr, localSteps: run.localSteps });
        clientControls[p] = u.clientControl;
        control = controlParams(global, u.controlDelta);
      }
      const params = run.privacy ? clippedModel(global, local, run.privacy.clipNorm) : local;
      // Central DP averages unweighted: a sample-count weight would change one peer's sensitivity.
      received.push({ from: members[p], params, weight: run.privacy ? 1 : shards[p].n, ...(control ? { control } : {}) });
      bytes += 4 * size * (control ? 2 : 1);
    }
    const out = agg.aggregate(state, global, received, { round, members });
    state = out.state;
    global = run.privacy
      ? paramsFrom(model.layout, addGaussianNoise(out.params.data, centralNoiseStd(run.privacy.clipNorm, run.privacy.noiseMultiplier, received.length), noiseRng))
      : out.params;
    const evaluated = round % run.evalEvery === 0 || round === run.rounds;
    const ev = evaluated ? await trainer.evaluate(global, test) : null;
    metrics.push({
      round,
      activePeers: run.peers,
      localAccuracyMean: null,
      localAccuracyStd: null,
      localAccuracyMin: null,
      localAccuracyMax: null,
      mergedAccuracy: ev ? ev.accuracy : null,
      mergedLoss: ev ? ev.loss : null,
      trainLoss: lossSum / shards.length,
      consensusDistance: 0,
      bytesSent: 4 * size * (agg.training?.controlVariates ? 2 : 1) * run.peers,
      bytesReceived: 0,
      bytesSentTotal: bytes,
      globalMerge: false,
      simSeconds: 0,
      wallSeconds: (performance.now() - t0) / 1000,
      // σ = 0 clips only: no guarantee to record (ε would be ∞).
      ...(run.privacy && run.privacy.noiseMultiplier > 0 ? { privacy: { epsilon: runPrivacy(run.privacy, round, 1).epsilon, delta: run.privacy.delta } } : {}),
    });
  }
  trainer.dispose();
  writeRunDir(run, metrics, train.numClasses, split.histograms, bytes);
  return metrics;
}

/** global + clip(local − global, C): the client's clipped update, as a model. */
function clippedModel(global: Params, local: Params, clipNorm: number): Params {
  const u = new Float32Array(global.data.length);
  for (let k = 0; k < u.length; k++) u[k] = local.data[k] - global.data[k];
  const c = clipUpdate(u, clipNorm).update;
  for (let k = 0; k < u.length; k++) c[k] += global.data[k];
  return paramsFrom(global.layout, c);
}

function writeRunDir(run: ServerRun, metrics: RoundMetrics[], numClasses: number, histograms: number[][], bytes: number): void {
  mkdirSync(run.dir, { recursive: true });
  writeFileSync(join(run.dir, 'metrics.jsonl'), metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
  const last = metrics[metrics.length - 1];
  const summary: RunSummary = {
    rounds: run.rounds,
    peers: run.peers,
    localAccuracyMean: null,
    mergedAccuracy: last.mergedAccuracy,
    bytesSent: bytes,
    wallSeconds: last.wallSeconds,
    backend: 'wasm',
    config: {
      mode: 'federated',
      seed: run.seed,
      aggregation: run.spec,
      data: { partition: { kind: 'dirichlet', alpha: run.alpha } },
      schedule: { localSteps: run.localSteps },
      training: { lr: run.lr, batchSize: run.batch },
      ...(run.privacy ? { privacy: run.privacy } : {}),
    },
  };
  writeFileSync(join(run.dir, 'summary.json'), JSON.stringify(summary, null, 2));
  writeFileSync(join(run.dir, 'partition.json'), JSON.stringify({ numClasses, histograms }));
}
