// timing.mode async in the simulator: each simulated peer runs the round driver on its own, as
// a real asynchronous peer does, over a world of one peer; an event scheduler orders them by
// simulated time (./async-network.ts). The run's metrics of round t combine each peer's own
// round t (reached at different simulated times).
import type { RoundMetrics } from '../report/metrics.js';
import type { Params } from '../params/index.js';
import { Trainer } from '../model/trainer.js';
import { globalAverage } from '../aggregation/fedavg.js';
import { makePeer, type Run } from '../peer/run.js';
import type { Peer } from '../peer/peer.js';
import { Adversary, chooseAttackers, flipLabels, refuseAsyncAttack } from '../peer/attacks.js';
import { runRounds } from '../peer/driver.js';
import { PeerWorld } from '../peer/peer-world.js';
import { consensusDistance } from '../peer/consensus.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';
import { SimNetwork } from './memory-transport.js';
import { EventScheduler, SimAsyncNetwork } from './async-network.js';
import type { NetworkModel } from './network.js';

export interface AsyncSimulation {
  readonly metrics: RoundMetrics[];
  readonly bytesSentTotal: number;
  readonly finalModels: Params[];
  readonly merged: Params;
}

/** Runs the run's peers asynchronously in simulated time; `onRound` gets each combined round as soon as every peer has finished it. */
export async function simulateAsync(run: Run, network: NetworkModel, onRound: (m: RoundMetrics) => void, log: (line: string) => void): Promise<AsyncSimulation> {
  const { config, model } = run;
  if (config.heterogeneity.churn.length) throw new ConfigError('heterogeneity.churn with timing.mode async is not simulated yet; use timing.mode sync for churn');
  refuseAsyncAttack(config.attack);
  const P = config.peers;
  const members = Array.from({ length: P }, (_, i) => `p${i}`);
  const peers = members.map((id, i) => makePeer(run, { id, shard: i }));
  // Byzantine peers, chosen and corrupting as in the synchronous simulator and on real peers.
  const adversary = config.attack ? new Adversary(config.attack, config.seed, chooseAttackers(P, config.attack.fraction, config.seed)) : undefined;
  if (adversary && config.attack!.kind === 'label-flip') {
    for (const i of adversary.attackers) flipLabels(peers[i].data.y, run.train.numClasses);
  }
  const netSeed = Rng.derive(config.seed, 'network').nextUint32();
  const net = new SimNetwork(network, netSeed);
  net.setMembers(members);
  const scheduler = new EventScheduler(P);
  const messages = new SimAsyncNetwork(net, network, netSeed, scheduler, members);
  const speedRng = Rng.derive(config.seed, 'speed');
  const speeds = Float64Array.from(members, () => Math.exp(config.heterogeneity.speedSpread * speedRng.normal()));
  const slowDelayMs = Float64Array.from(members, (_, i) => config.timing.slowPeers.find((s) => s.peer === i)?.delayMs ?? 0);
  const trainer = new Trainer(model, config.training.optimizer);
  const shared = serialized(trainer);
  const all = members.map((_, i) => i);
  const perPeer: RoundMetrics[][] = members.map(() => []);
  const combiner = new RoundCombiner(P, onRound);
  try {
    const worlds = peers.map(
      (p, i) =>
        new PeerWorld(run, shared, [p], {
          hub: net,
          seesAll: false,
          roster: () => ({ members, live: all, local: [i], honest: all }),
          ...(adversary ? { beforeTrain: (q: Peer) => adversary.beforeTrain(q), outgoing: (q: Peer, t: number, ps: readonly Peer[]) => adversary.outgoing(q, t, ps) } : {}),
          afterTrain: async (q, steps) => {
            net.advance(q.id, (steps * config.heterogeneity.stepMs) / speeds[i] + slowDelayMs[i]);
            await scheduler.at(i, net.clock(q.id));
          },
          async: { transport: messages.sideFor(p.id), maxStaleness: config.timing.maxStaleness },
          log,
        }),
    );
    await Promise.all(
      worlds.map((world, i) =>
        runRounds(run, world, 'gossip', {
          elapsedSeconds: () => net.clock(members[i]) / 1000,
          afterRound: (t, m) => {
            perPeer[i].push(m);
            combiner.add(t, i, m);
          },
        }).finally(() => scheduler.finish(i)),
      ),
    );
    const finalModels = peers.map((p) => p.params);
    const merged = globalAverage(finalModels);
    // The last round: the merged model and the consensus of where every peer ended.
    const last = combiner.rounds.at(-1);
    if (last && last.mergedAccuracy === null) {
      const e = await trainer.evaluate(merged, run.test);
      last.mergedAccuracy = e.accuracy;
      last.mergedLoss = e.loss;
    }
    if (last) last.consensusDistance = consensusDistance(finalModels, merged);
    return { metrics: combiner.rounds, bytesSentTotal: combiner.bytesSentTotal, finalModels, merged };
  } finally {
    trainer.dispose();
  }
}

/** Each peer's round t, combined into the run's round t once all peers have reported it. */
class RoundCombiner {
  readonly rounds: RoundMetrics[] = [];
  bytesSentTotal = 0;
  private readonly pending = new Map<number, RoundMetrics[]>();

  constructor(
    private readonly peers: number,
    private readonly onRound: (m: RoundMetrics) => void,
  ) {}

  add(t: number, i: number, m: RoundMetrics): void {
    const got = this.pending.get(t) ?? new Array<RoundMetrics>(this.peers);
    got[i] = m;
    this.pending.set(t, got);
    if (got.filter(Boolean).length < this.peers) return;
    this.pending.delete(t);
    const combined = this.combine(got);
    this.rounds.push(combined);
    this.onRound(combined);
  }

  private combine(ms: readonly RoundMetrics[]): RoundMetrics {
    const acc = ms.flatMap((m) => (m.localAccuracyMean === null ? [] : [m.localAccuracyMean]));
    const mean = acc.length ? acc.reduce((a, b) => a + b, 0) / acc.length : null;
    const losses = ms.map((m) => m.trainLoss).filter(Number.isFinite);
    const pre = ms.flatMap((m) => (m.preMergeLocalAccuracyMean == null ? [] : [m.preMergeLocalAccuracyMean]));
    const sent = ms.reduce((n, m) => n + m.bytesSent, 0);
    this.bytesSentTotal += sent;
    const merged = ms.find((m) => m.mergedAccuracy !== null);
    return {
      round: ms[0].round,
      activePeers: ms.length,
      localAccuracyMean: mean,
      localAccuracyStd: mean === null ? null : Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / acc.length),
      localAccuracyMin: acc.length ? Math.min(...acc) : null,
      localAccuracyMax: acc.length ? Math.max(...acc) : null,
      mergedAccuracy: merged?.mergedAccuracy ?? null,
      mergedLoss: merged?.mergedLoss ?? null,
      trainLoss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : Number.NaN,
      // Peers reach round t at different times: there is no one moment to measure it at (the last round has it).
      consensusDistance: Number.NaN,
      bytesSent: sent,
      bytesReceived: ms.reduce((n, m) => n + m.bytesReceived, 0),
      bytesSentTotal: this.bytesSentTotal,
      globalMerge: ms.some((m) => m.globalMerge),
      ...(pre.length ? { preMergeLocalAccuracyMean: pre.reduce((a, b) => a + b, 0) / pre.length } : { preMergeLocalAccuracyMean: null }),
      simSeconds: Math.max(...ms.map((m) => m.simSeconds)),
      wallSeconds: Math.max(...ms.map((m) => m.wallSeconds)),
      perPeer: {
        peer: ms.flatMap((m) => m.perPeer?.peer ?? []),
        trainLoss: ms.flatMap((m) => m.perPeer?.trainLoss ?? []),
        accuracy: ms.flatMap((m) => m.perPeer?.accuracy ?? []),
        loss: ms.flatMap((m) => m.perPeer?.loss ?? []),
        bytesSent: ms.flatMap((m) => m.perPeer?.bytesSent ?? []),
        bytesReceived: ms.flatMap((m) => m.perPeer?.bytesReceived ?? []),
      },
    };
  }
}

/** One Trainer shared by coroutines that may overlap (after a barrier): its calls run one at a time. */
function serialized(trainer: Trainer): Trainer {
  let tail: Promise<unknown> = Promise.resolve();
  const run = <T>(f: () => Promise<T>): Promise<T> => {
    const p = tail.then(f);
    tail = p.catch(() => undefined);
    return p;
  };
  return Object.assign(Object.create(trainer) as Trainer, {
    train: (...args: Parameters<Trainer['train']>) => run(() => trainer.train(...args)),
    evaluate: (...args: Parameters<Trainer['evaluate']>) => run(() => trainer.evaluate(...args)),
  });
}
