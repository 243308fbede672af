// The one round driver: what happens in each round of a run, the same in the simulator and on
// a real peer. A World carries the rounds out for the peers its process holds; the driver
// decides, from the config and the seed alone, who takes part, what each round exchanges, when
// to evaluate, and turns what the world observes into the metrics of the round.
//
// A round t (0-based, of T):
//   1. the world fixes the roster (churn in the simulator, membership on the network);
//   2. participants: gossip, each live member with the configured probability (seeded per
//      member and round); federated, a seeded sample of the live members; MoDeST, its own draw;
//   3. the mode's round: gossip trains k local steps then runs Q gossip steps over the
//      topology (or a random pull under the schedule's budget), or an exact merge of all live
//      members when the schedule says so; federated runs a server round; all-reduce averages
//      the round's change through a group compressor; MoDeST its sampled round;
//   4. metrics: bytes (in total and each local peer's), losses, consensus distance and, every
//      eval.every rounds, at the end and after a merge, the test accuracy of local models and of
//      the merged model; with `privacy`, the (ε, δ) the rounds so far give each peer (src/privacy's
//      RDP accountant).
import type { RunConfig } from './config.js';
import type { RoundMetrics } from '../report/metrics.js';
import type { Run } from './run.js';
import type { Observation, Roster, Traffic, World } from './world.js';
import { Rng } from '../util/rng.js';
import { ConfigError } from '../util/errors.js';
import { privacyAfter } from './local-training.js';

/** How a round of the run exchanges: the config's mode as the driver runs it. */
export type Strategy = 'gossip' | 'server' | 'all-reduce' | 'modest';

/** The strategy of a config's mode. */
export function strategyOf(config: RunConfig): Strategy {
  switch (config.mode) {
    case 'gossip':
      return 'gossip';
    case 'modest':
      return 'modest';
    case 'all-reduce':
      return 'all-reduce';
    case 'federated':
      return 'server';
  }
}

/** What the driver reports through, and the few decisions a real peer adds. */
export interface DriverHooks {
  /** Before round t: the round to run instead (a real peer that fell behind skips ahead), or null to stop. */
  nextRound?(t: number): number | null | Promise<number | null>;
  /** After each round, with its metrics (a real peer checkpoints here). */
  afterRound?(t: number, metrics: RoundMetrics, roster: Roster): void | Promise<void>;
  /** Simulated (or wall) seconds since the start. */
  elapsedSeconds(): number;
}

/** What a whole run of rounds produced. */
export interface RoundsOutcome {
  readonly metrics: RoundMetrics[];
  readonly bytesSentTotal: number;
}

/** Runs rounds firstRound … T−1 of the run on the world. */
export async function runRounds(run: Run, world: World, strategy: Strategy, hooks: DriverHooks, firstRound = 0): Promise<RoundsOutcome> {
  const { config } = run;
  requireMode(world, strategy);
  const wallStart = performance.now();
  const deadlineMs = config.heterogeneity.deadlineMs ?? Number.POSITIVE_INFINITY;
  const metrics: RoundMetrics[] = [];
  let bytesSentTotal = 0;
  for (let t = firstRound; t < config.rounds; t++) {
    const next = hooks.nextRound ? await hooks.nextRound(t) : t;
    if (next === null) break;
    t = next;
    const roster = await world.beginRound(t);
    const plan = run.schedule.plan(t);
    const live = roster.live;
    let participants: readonly number[];
    let globalMerge = false;
    let allEqual = false;
    let preMerge: number | null = null;
    if (strategy === 'modest') {
      participants = await world.modestRound!(t, live, plan.localSteps, deadlineMs);
    } else if (strategy === 'server') {
      participants = sampleFederated(config, t, live);
      await world.serverRound!(t, participants, plan.localSteps, deadlineMs);
    } else if (strategy === 'all-reduce') {
      participants = live;
      await world.allReduce!(t, live, plan.localSteps, deadlineMs);
      allEqual = true;
    } else {
      participants = live.filter((i) => participates(config, t, i));
      await world.train(participants, plan.localSteps);
      if (plan.exactMerge) {
        globalMerge = true;
        allEqual = true;
        const before = await world.observe({ round: t, evaluate: true, evalPeers: evalPeers(config, roster), participants: [] });
        preMerge = meanAccuracy(before);
        await world.exactMerge(t, live, deadlineMs);
      } else {
        for (let q = 0; q < plan.gossipSteps; q++) {
          const mixing = run.mixing.at(roster.members.length, t * plan.gossipSteps + q, plan.budget);
          await world.gossipStep({ round: t, phase: q, mixing, participants, deadlineMs });
        }
      }
    }
    const traffic = world.takeTraffic();
    bytesSentTotal += traffic.sent;
    const evaluate = (t + 1) % config.eval.every === 0 || t === config.rounds - 1 || globalMerge;
    const honest = new Set(roster.honest);
    const honestParticipants = participants.filter((i) => honest.has(i));
    // Peers that only moved bytes (an exact merge's non-trainers) are listed too, so that the
    // per-peer bytes add up to the round's.
    const listed = [...new Set([...honestParticipants, ...[...traffic.byPeer.keys()].filter((i) => honest.has(i))])].sort((a, b) => a - b);
    const obs = await world.observe({ round: t, evaluate, evalPeers: evaluate ? evalPeers(config, roster) : [], participants: listed });
    const privacy = privacyAfter(config, t + 1);
    const m = roundMetrics(t, obs, traffic, honestParticipants, evaluate && allEqual, {
      globalMerge,
      preMergeLocalAccuracyMean: preMerge,
      bytesSent: traffic.sent,
      bytesReceived: traffic.received,
      bytesSentTotal,
      simSeconds: hooks.elapsedSeconds(),
      wallSeconds: (performance.now() - wallStart) / 1000,
      ...(privacy ? { privacy } : {}),
    });
    metrics.push(m);
    await hooks.afterRound?.(t, m, roster);
  }
  return { metrics, bytesSentTotal };
}

function requireMode(world: World, strategy: Strategy): void {
  const need = { gossip: null, server: 'serverRound', 'all-reduce': 'allReduce', modest: 'modestRound' } as const;
  const op = need[strategy];
  if (op && !world[op]) throw new ConfigError(`mode: this engine cannot run ${strategy} rounds; use engine: per-peer`);
}

/** The local honest peers evaluated each round: the first eval.localPeers of them. */
function evalPeers(config: RunConfig, roster: Roster): readonly number[] {
  const local = new Set(roster.local);
  const mine = roster.honest.filter((i) => local.has(i));
  return mine.slice(0, config.eval.localPeers ?? mine.length);
}

/** Gossip: whether live member i trains and exchanges in round t (a seeded draw per member and round). */
export function participates(config: RunConfig, t: number, i: number): boolean {
  const prob = config.heterogeneity.participation;
  return prob >= 1 || Rng.derive(config.seed, 'participation', t, i).next() < prob;
}

/** Federated: the round's seeded sample of the live members. */
export function sampleFederated(config: RunConfig, t: number, live: readonly number[]): number[] {
  const k = Math.max(1, Math.round(config.federated.participation * live.length));
  if (k >= live.length) return [...live];
  const picks = Rng.derive(config.seed, 'sample', t).sample(live.length, k);
  return Array.from(picks)
    .sort((a, b) => a - b)
    .map((j) => live[j]);
}

function meanAccuracy(obs: Observation): number | null {
  const acc = obs.peers.flatMap((p) => (p.accuracy === undefined ? [] : [p.accuracy]));
  return acc.length ? acc.reduce((a, b) => a + b, 0) / acc.length : null;
}

/**
 * The round's metrics from an observation. `allEqual`: every live model is the same after the
 * round (an exact merge, an all-reduce), so a peer that sees only its own model knows the merged one.
 */
function roundMetrics(
  t: number,
  obs: Observation,
  traffic: Traffic,
  participants: readonly number[],
  allEqual: boolean,
  extra: Pick<RoundMetrics, 'globalMerge' | 'preMergeLocalAccuracyMean' | 'bytesSent' | 'bytesReceived' | 'bytesSentTotal' | 'simSeconds' | 'wallSeconds' | 'privacy'>,
): RoundMetrics {
  const local = obs.peers.flatMap((p) => (p.accuracy === undefined ? [] : [p.accuracy]));
  const mean = local.length ? local.reduce((a, b) => a + b, 0) / local.length : null;
  const std = mean === null ? null : Math.sqrt(local.reduce((a, b) => a + (b - mean) ** 2, 0) / local.length);
  const inRound = new Set(participants);
  const losses = obs.peers.filter((p) => inRound.has(p.index) && Number.isFinite(p.trainLoss)).map((p) => p.trainLoss);
  const evaluated = obs.peers.find((p) => p.accuracy !== undefined);
  const merged = obs.merged ?? (allEqual && evaluated ? { accuracy: evaluated.accuracy!, loss: evaluated.loss! } : null);
  return {
    round: t + 1,
    activePeers: participants.length,
    localAccuracyMean: mean,
    localAccuracyStd: std,
    localAccuracyMin: local.length ? Math.min(...local) : null,
    localAccuracyMax: local.length ? Math.max(...local) : null,
    mergedAccuracy: merged?.accuracy ?? null,
    mergedLoss: merged?.loss ?? null,
    trainLoss: losses.length ? losses.reduce((a, b) => a + b, 0) / losses.length : Number.NaN,
    consensusDistance: obs.consensusDistance,
    ...extra,
    perPeer: {
      peer: obs.peers.map((p) => p.index),
      trainLoss: obs.peers.map((p) => p.trainLoss),
      accuracy: obs.peers.map((p) => p.accuracy ?? null),
      loss: obs.peers.map((p) => p.loss ?? null),
      bytesSent: obs.peers.map((p) => traffic.byPeer.get(p.index)?.sent ?? 0),
      bytesReceived: obs.peers.map((p) => traffic.byPeer.get(p.index)?.received ?? 0),
      ...(traffic.server ? { server: { bytesSent: traffic.server.sent, bytesReceived: traffic.server.received } } : {}),
    },
  };
}
