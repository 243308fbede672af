// The in-process simulator: the run's peers in one process, over an in-memory Transport with a
// network model, driven by the same round driver (src/peer/driver.ts) and the same per-peer
// world (src/peer/peer-world.ts) that a real peer runs. What the simulator adds is what only a
// simulation has: simulated compute time and stragglers, churn, and Byzantine peers. With
// `engine: batched` the peers are rows of one stack on the compute device (./batched-world.ts)
// instead of per-peer objects; the round driver and the simulated clocks are the same.
import type { RunConfig } from '../peer/config.js';
import type { RoundMetrics, RunSummary } from '../report/metrics.js';
import { describeModel } from '../model/zoo.js';
import { Trainer } from '../model/trainer.js';
import { cloneParams, type Params } from '../params/index.js';
import { buildRun, makePeer, type Run, type RunPlugins } from '../peer/run.js';
import { runRounds, strategyOf } from '../peer/driver.js';
import { PeerWorld } from '../peer/peer-world.js';
import type { FinalModels, World } from '../peer/world.js';
import type { ModelCodec } from '../peer/gossip.js';
import { Rng } from '../util/rng.js';
import { SimNetwork } from './memory-transport.js';
import { Adversary, chooseAttackers, flipLabels } from '../peer/attacks.js';
import { BatchedWorld, checkBatchedWorld } from './batched-world.js';
import { NanWireNetwork } from './attack-payloads.js';
import { IDEAL_NETWORK, type NetworkModel } from './network.js';
import { ChurnRoster } from '../peer/churn.js';
import { simulateAsync } from './async-sim.js';

/** Callbacks a simulation reports through. */
export interface SimulationHooks {
  /** Called after every round with its metrics. */
  onRound?(metrics: RoundMetrics): void;
  /** One-line log messages (backend choice, rejected messages, churn). */
  log?(line: string): void;
  /** What the result carries at the end (default 'all'; 'merged' leaves finalModels empty). */
  readonly finalModels?: FinalModels;
}

/** Parts a library user brings instead of the ones the config names. */
export type SimulationPlugins = RunPlugins;

/** What a simulation returns: per-round metrics, summary, partition and final models. */
export interface SimulationResult {
  readonly metrics: RoundMetrics[];
  readonly summary: RunSummary;
  readonly partition: { numClasses: number; histograms: number[][] };
  /** Final models of the live honest peers (empty when the hooks asked for finalModels: 'merged'). */
  readonly finalModels: Params[];
  /** The merged model: the server's (federated), the MoDeST holder's, else the average of the live honest models. */
  readonly merged: Params;
}

/** Runs a whole simulation of the config in one process. */
export async function simulate(config: RunConfig, hooks: SimulationHooks = {}, plugins: SimulationPlugins = {}): Promise<SimulationResult> {
  const log = hooks.log ?? (() => {});
  const run = await buildRun(config, plugins, log);
  const wallStart = performance.now();
  if (config.timing.mode === 'async') {
    const r = await simulateAsync(run, networkModel(config), (m) => hooks.onRound?.(m), log);
    return result(run, r.metrics, r.bytesSentTotal, wallStart, { models: r.finalModels, merged: r.merged });
  }
  const sim = buildSimulation(run, log);
  try {
    const { metrics, bytesSentTotal } = await runRounds(run, sim.world, strategyOf(config), {
      elapsedSeconds: () => sim.elapsedMs() / 1000,
      afterRound: (_t, m) => hooks.onRound?.(m),
    });
    return result(run, metrics, bytesSentTotal, wallStart, await sim.world.finalModels(hooks.finalModels));
  } finally {
    sim.dispose();
  }
}

/** The simulation's result from its rounds and final models. */
function result(run: Run, metrics: RoundMetrics[], bytesSentTotal: number, wallStart: number, final: { models: readonly Params[]; merged: Params | null }): SimulationResult {
  const { config } = run;
  const last = metrics[metrics.length - 1];
    const summary: RunSummary = {
      label: config.name,
      rounds: metrics.length,
      peers: config.peers,
      localAccuracyMean: last?.localAccuracyMean ?? null,
      mergedAccuracy: last?.mergedAccuracy ?? null,
      preMergeLocalAccuracyMean: [...metrics].reverse().find((m) => m.globalMerge)?.preMergeLocalAccuracyMean ?? null,
      bytesSent: bytesSentTotal,
      wallSeconds: (performance.now() - wallStart) / 1000,
      backend: run.backend.name,
      ...(run.backend.device ? { device: run.backend.device } : {}),
      config,
    };
    return {
      metrics,
      summary,
      partition: { numClasses: run.test.numClasses, histograms: run.partition.histograms },
      finalModels: [...final.models],
      merged: final.merged ?? cloneParams(run.sharedInit),
    };
}

function networkModel(config: RunConfig): NetworkModel {
  return {
    ...IDEAL_NETWORK,
    latencyMs: config.network.latencyMs,
    jitterMs: config.network.jitterMs,
    loss: config.network.loss,
    ...(config.network.bandwidthMbps ? { bandwidthMbps: config.network.bandwidthMbps } : {}),
  };
}

/** The simulated world of a run: its peers, network, clocks, churn and attackers. */
function buildSimulation(run: Run, log: (line: string) => void): { world: World; elapsedMs(): number; dispose(): void } {
  const { config, model } = run;
  const { seed } = config;
  // Refused before anything is built (the CLI's pre-flight ran the same check before --out).
  if (config.engine === 'batched') checkBatchedWorld(config, run);
  const members = Array.from({ length: config.peers }, (_, i) => `p${i}`);
  const attackers = config.attack ? chooseAttackers(config.peers, config.attack.fraction, seed) : new Set<number>();
  const network = networkModel(config);
  const netSeed = Rng.derive(seed, 'network').nextUint32();
  const net =
    config.attack?.kind === 'nan' ? new NanWireNetwork(network, netSeed, new Set([...attackers].map((i) => members[i])), model.layout) : new SimNetwork(network, netSeed);
  const server = config.mode === 'federated' ? { id: 'server', participation: config.federated.participation } : undefined;
  net.setMembers(server ? [...members, server.id] : members);
  const speedRng = Rng.derive(seed, 'speed');
  const speeds = Float64Array.from(members, () => Math.exp(config.heterogeneity.speedSpread * speedRng.normal()));
  const slowDelayMs = Float64Array.from(members, (_, i) => config.timing.slowPeers.find((s) => s.peer === i)?.delayMs ?? 0);
  // A peer's local steps take simulated time: steps at its speed, plus a straggler's delay.
  const computeTime = (i: number, steps: number) => net.advance(members[i], (steps * config.heterogeneity.stepMs) / speeds[i] + slowDelayMs[i]);
  const roster = new ChurnRoster(members, config.heterogeneity.churn, seed, attackers, log);
  let clockMs = 0;
  const elapsedMs = () => {
    const live = roster.current();
    clockMs = live.reduce((m, i) => Math.max(m, net.clock(members[i])), clockMs);
    if (server) clockMs = Math.max(clockMs, net.clock(server.id));
    return clockMs;
  };
  const startRound = (live: readonly number[]) => {
    // Every live peer starts the round when the slowest finished the last one.
    for (const i of live) net.setClock(members[i], clockMs);
  };
  if (config.engine === 'batched') {
    const world = new BatchedWorld(run, {
      beginRound: (t) => startRound(roster.at(t).live),
      afterTrain: (peers, steps) => peers.forEach((i) => computeTime(i, steps)),
    });
    log(`engine: batched (${world.kernels} kernels, ${config.peers} peers as one stack)`);
    return { world, elapsedMs, dispose: () => world.dispose() };
  }
  const peers = members.map((id, i) => makePeer(run, { id, shard: i }));
  if (config.attack?.kind === 'label-flip') {
    for (const i of attackers) flipLabels(peers[i].data.y, run.train.numClasses);
  }
  const adversary = config.attack ? new Adversary(config.attack, seed, attackers) : undefined;
  // Last, so that a config error above leaves no tfjs variables behind.
  const trainer = new Trainer(model, config.training.optimizer);
  const world = new PeerWorld(
    run,
    trainer,
    peers,
    {
      hub: net,
      seesAll: true,
      roster: (t) => {
        const r = roster.at(t);
        startRound(r.live);
        return r;
      },
      beforeTrain: (p) => adversary?.beforeTrain(p),
      afterTrain: (p, steps) => computeTime(p.index, steps),
      outgoing: (p, t, participants) => (adversary ? adversary.outgoing(p, t, participants) : p.params),
      log,
    },
    server,
  );
  return { world, elapsedMs, dispose: () => trainer.dispose() };
}

export { describeModel };
export type { ModelCodec };
