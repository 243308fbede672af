// One real peer: the same per-round algorithm as the simulator (train → gossip exchange or exact
// merge → aggregate), over a Libp2pTransport, with a checkpoint after every round and the same
// metrics.jsonl as the simulator.
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import type { RunConfig } from '../peer/config.js';
import type { RoundMetrics, RunSummary } from '../report/metrics.js';
import { initBackend } from '../compute/backend.js';
import { buildModel } from '../model/zoo.js';
import { Trainer, type TrainResult } from '../model/trainer.js';
import { initOptimizerState } from '../model/optimizer.js';
import { loadDataSource, partition, subset } from '../data/index.js';
import { buildSchedule } from '../schedule/spec.js';
import { buildAggregation } from '../aggregation/build.js';
import { layoutFingerprint, sub } from '../params/index.js';
import { Peer } from '../peer/peer.js';
import { gossipExchange, exactMerge } from '../peer/gossip.js';
import { buildCodec, checkCompressionFits, gossipWire } from '../peer/codec.js';
import { groupAllReduce } from '../peer/allreduce.js';
import { RoundMixing } from '../peer/round-mixing.js';
import { asyncGossipStep } from '../peer/async-gossip.js';
import type { AggregationRule } from '../aggregation/types.js';
import { RunDirectory } from '../sim/run-dir.js';
import { Rng } from '../util/rng.js';
import { ConfigError, GossipflError } from '../util/errors.js';
import { createGossipflNode, type GossipflNode } from './create-node.js';
import type { NodeOptions } from './options.js';
import { Libp2pTransport } from './transport.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { codecValidator } from './validate-update.js';

/** What runPeer needs: the run config, node options and callbacks. */
export interface PeerRunOptions {
  readonly config: RunConfig;
  readonly node: NodeOptions;
  /** Folder for metrics.jsonl, summary.json, checkpoint.bin (and the key file by default). */
  readonly outDir: string;
  /** Which shard of the run's partition this peer trains on: index i of n (n = config.peers). Default: its position among the start members. */
  readonly dataShard?: { readonly index: number; readonly count: number };
  /** How long to wait for config.peers members at start-up (ms). */
  readonly startTimeoutMs?: number;
  /** Pause after the start set is complete, before round 0 (ms; default 2000). */
  readonly startGraceMs?: number;
  /** Exchange deadline when the config sets none (ms). */
  readonly defaultDeadlineMs?: number;
  /** Called with the node's id and addresses once it listens. */
  readonly onListening?: (peerId: string, addresses: readonly string[]) => void;
  /** Called after every round with its metrics. */
  readonly onRound?: (m: RoundMetrics) => void;
  /** One-line log messages (default: stderr). */
  readonly log?: (line: string) => void;
  /** Aborting stops the peer cleanly at the next round boundary (Ctrl-C). */
  readonly signal?: AbortSignal;
}

/** Hash of what peers must agree on to train together (everything but names and the backend). */
export function configHash(config: RunConfig): string {
  const { name: _name, backend: _backend, eval: _eval, ...shared } = config;
  return createHash('sha256').update(JSON.stringify(shared)).digest('hex').slice(0, 16);
}

/** Runs one peer of a run over libp2p to the end; returns its summary. */
export async function runPeer(opts: PeerRunOptions): Promise<RunSummary> {
  const { config } = opts;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Real peers have no server: mode federated means a serverless all-reduce of the round's
  // changes through a group compressor (PowerSGD, ARC-Top-K, GreedyLore) among all members.
  const allReduce = config.mode === 'federated';
  if (config.mode === 'modest') {
    throw new ConfigError('gossipfl peer: mode modest (decentralized sampling) runs in the simulator only so far; use mode gossip or federated between real peers');
  }
  const wallStart = performance.now();
  const { train, test } = loadDataSource(config.data, config.seed);
  const model = buildModel(config.model, train.featureShape, train.numClasses);
  const backend = await initBackend(config.backend, { convGradients: model.needsConvGradients }, log);
  const trainer = new Trainer(model, config.training.optimizer);
  const codec = buildCodec(config.compression, model.layout, config.seed);
  const aggregator = buildAggregation(config.aggregation ?? { name: 'gossip' });
  if (allReduce && !codec.group) {
    throw new ConfigError(
      `gossipfl peer: mode federated between real peers is a serverless all-reduce and needs a group compressor (compression.method powersgd, powersgd-plus, arc-top-k or greedylore); for whole models use mode: gossip with topology complete`,
    );
  }
  if (!allReduce) checkCompressionFits('gossip', aggregator.spec.name, codec, config.compression.errorFeedback);
  // Asynchronous rounds: each peer at its own pace, mixing the latest model of each neighbour
  // (parseConfig has refused the configs that cannot run so).
  const async = config.timing.mode === 'async';
  const deadlineMs = config.heterogeneity.deadlineMs ?? opts.defaultDeadlineMs ?? 30_000;
  const schedule = buildSchedule(config.schedule, config.rounds);
  const checkpointFile = join(opts.outDir, 'checkpoint.bin');
  const node: GossipflNode = await createGossipflNode({ keyFile: join(opts.outDir, 'peer.key'), ...opts.node });
  let transport: Libp2pTransport | undefined;
  try {
    removeStaleTemps(checkpointFile);
    const checkpoint = loadCheckpoint(checkpointFile, model.layout);
    if (checkpoint && checkpoint.peerId !== node.peerId) {
      throw new GossipflError('state', `${checkpointFile} belongs to peer ${checkpoint.peerId}, this node is ${node.peerId}; use the same --key or another --out`);
    }
    transport = await Libp2pTransport.start(node, {
      identity: { runId: config.name, modelFingerprint: hashText(layoutFingerprint(model.layout)), configHash: configHash(config) },
      // Everything but the sender's index (checked in the exchange, which knows the round's members).
      validate: codecValidator(model.layout),
      maxPayloadBytes: model.layout.size * 4 + 64 * 1024,
      log,
      // Async: the only in-step exchanges are exact merges behind a barrier, which may come many
      // rounds after the last one this peer's exchange inbox saw.
      ...(async ? { asyncGossip: { maxStaleness: config.timing.maxStaleness, sendTimeoutMs: deadlineMs }, maxRoundsAhead: config.rounds } : {}),
    });
    opts.onListening?.(node.peerId, node.addresses());
    log(`peer ${node.peerId} listening on ${node.addresses().join(' ')}`);
    // A peer resuming from its checkpoint rejoins a running run: one other member is enough (the
    // full start set may never come back after a crash of several peers).
    const start = await transport.waitForMembers(checkpoint ? 2 : config.peers, opts.startTimeoutMs ?? 60_000);
    if (start.startRound === 0 && !checkpoint) {
      // Start grace: the last peer to see the full set must hear the others' not-yet-started
      // announcements before they begin round 0, or it would take itself for a late joiner.
      await new Promise((resolve) => setTimeout(resolve, opts.startGraceMs ?? 2_000));
    }
    const firstRound = Math.max(start.startRound, checkpoint ? checkpoint.round + 1 : 0);
    const shard = opts.dataShard ?? { index: start.members.indexOf(node.peerId), count: config.peers };
    if (shard.count !== config.peers || shard.index < 0 || shard.index >= shard.count) {
      throw new ConfigError(`--data-shard ${shard.index}/${shard.count}: need i/n with n = peers (${config.peers}) and 0 ≤ i < n`);
    }
    const parts = partition(train, config.data.partition, config.peers, Rng.derive(config.seed, 'partition').nextUint32());
    const shared = model.init(Rng.derive(config.seed, 'init').nextUint32());
    const peer = new Peer({
      id: node.peerId,
      index: shard.index,
      params: checkpoint?.params ?? (config.training.init === 'shared' ? shared : model.init(Rng.derive(config.seed, 'init', shard.index).nextUint32())),
      optimizer: checkpoint?.optimizer ?? initOptimizerState(config.training.optimizer, model.layout),
      data: subset(train, parts.indices[shard.index], `${train.name}/shard${shard.index}`),
      batchSize: config.training.batchSize,
      // A restarted peer must not replay the batches it already used: the stream is seeded by round.
      batchSeed: Rng.derive(config.seed, 'batches', shard.index, firstRound).nextUint32(),
    });
    log(
      `peer ${node.peerId}: shard ${shard.index}/${shard.count} (${peer.sampleCount} samples), ${start.members.length} members, ` +
        (checkpoint ? `resuming after round ${checkpoint.round + 1} from ${checkpointFile}` : `starting at round ${firstRound + 1}`),
    );
    const dir = new RunDirectory(opts.outDir, { overwrite: true, append: checkpoint !== undefined });
    let aggState = aggregator.initialState();
    let bytesSentTotal = 0;
    let last: RoundMetrics | undefined;
    const mixings = new RoundMixing(config.topology, config.seed);
    const rule: AggregationRule = (own, got, ctx) => {
      const r = aggregator.aggregate(aggState, own, got, ctx);
      aggState = r.state;
      return r.params;
    };
    const slowDelayMs = config.timing.slowPeers.find((s) => s.peer === shard.index)?.delayMs ?? 0;
    // Async: updates that arrive before the first round are kept from the start set's neighbours.
    if (async) transport.setAsyncSenders(inNeighbours(mixings, start.members, node.peerId, firstRound));
    for (let t = firstRound; t < config.rounds; t++) {
      // Catch up: a peer that restarted or fell behind skips to the round the others are in
      // (it can add nothing to rounds they have finished, and its late messages would be stale).
      // Not in async mode, where peers are meant to run at their own pace.
      const ahead = transport.highestRoundHeard();
      if (!async && ahead > t + 1 && ahead < config.rounds) {
        log(`peer ${node.peerId}: the others are at round ${ahead + 1}; skipping ahead from round ${t + 1}`);
        t = ahead;
      }
      if (opts.signal?.aborted) {
        log(`peer ${node.peerId}: stopping after round ${t} (interrupted); checkpoint in ${checkpointFile}`);
        break;
      }
      const members = transport.beginRound(t);
      const me = members.indexOf(node.peerId);
      const plan = schedule.plan(t);
      const roundStart = { layout: peer.params.layout, data: peer.params.data.slice() };
      const trained = async ? await trainYielding(peer, trainer, plan.localSteps) : await peer.train(trainer, plan.localSteps);
      // A straggler on purpose (timing.slowPeers), for studying slow peers.
      if (slowDelayMs > 0) await sleep(slowDelayMs);
      let sent = 0;
      let received = 0;
      let missing = 0;
      let staleness: readonly number[] | undefined;
      if (allReduce) {
        // Everyone started the round from the same model (the last all-reduce's result), so
        // adding the group's mean change keeps all members equal: serverless FedAvg.
        const reference = roundStart;
        const delta = { layout: peer.params.layout, data: sub(new Float32Array(peer.params.data.length), peer.params.data, reference.data) };
        const indexOf = new Map(members.map((id, k) => [id, k]));
        const o = await groupAllReduce(
          delta,
          peer.compression,
          { round: t, group: members, indexOf, self: node.peerId, deadlineMs },
          transport,
          codec,
        );
        peer.compression = o.state;
        const next = new Float32Array(reference.data);
        for (let i = 0; i < next.length; i++) next[i] += o.estimate.data[i];
        peer.params = { layout: peer.params.layout, data: next };
        sent = o.bytesSent;
        received = o.bytesReceived;
        for (const e of o.excluded) log(`round ${t + 1}: left out a phase-${e.phase} message of member ${e.sender}: ${e.reason}`);
      } else if (plan.exactMerge) {
        // Async peers meet here: an exact merge stays a synchronous barrier.
        if (async) await transport.waitForRound(t, opts.signal);
        peer.params = await exactMerge(
          peer.params,
          { round: t, members, selfIndex: me, group: members, deadlineMs },
          transport,
          codec.exact,
        );
        sent = (members.length - 1) * (model.layout.size * 4);
      } else if (async) {
        for (let q = 0; q < plan.gossipSteps; q++) {
          const mixing = mixings.at(members.length, t * plan.gossipSteps + q, null);
          transport.setAsyncSenders(Array.from(mixing.row(me).peers, (j) => members[j]));
          const o = asyncGossipStep(
            peer.params,
            { round: t, phase: q, members, selfIndex: me, row: mixing.row(me), sendTo: mixing.outNeighbours(me), maxStaleness: config.timing.maxStaleness },
            transport,
            gossipWire(codec, peer.params, aggState),
            rule,
          );
          peer.params = o.params;
          missing += o.absent.length;
          if (q === 0) staleness = o.staleness;
          for (const r of o.rejected) log(`round ${t + 1}: refused an update from ${r.from}: ${r.reason}`);
        }
        ({ sent, received } = transport.takeAsyncTraffic());
      } else {
        for (let q = 0; q < plan.gossipSteps; q++) {
          const mixing = mixings.at(members.length, t * plan.gossipSteps + q, plan.budget);
          const outcome = await gossipExchange(
            peer.params,
            {
              round: t,
              phase: q,
              members,
              selfIndex: me,
              row: mixing.row(me),
              sendTo: mixing.outNeighbours(me),
              deadlineMs,
            },
            transport,
            gossipWire(codec, peer.params, aggState),
            rule,
          );
          peer.params = outcome.params;
          sent += outcome.bytesSent;
          received += outcome.bytesReceived;
          missing += outcome.missing.length;
          for (const r of outcome.rejected) log(`round ${t + 1}: refused an update from ${r.from}: ${r.reason}`);
        }
      }
      saveCheckpoint(checkpointFile, { round: t, params: peer.params, optimizer: peer.optimizer, peerId: node.peerId });
      bytesSentTotal += sent;
      const evaluate = (t + 1) % config.eval.every === 0 || t === config.rounds - 1 || plan.exactMerge;
      const acc = evaluate ? (await trainer.evaluate(peer.params, test)).accuracy : null;
      last = {
        round: t + 1,
        activePeers: members.length,
        localAccuracyMean: acc,
        localAccuracyStd: acc === null ? null : 0,
        localAccuracyMin: acc,
        localAccuracyMax: acc,
        // After an exact merge every peer holds the merged model.
        mergedAccuracy: plan.exactMerge || allReduce ? acc : null,
        mergedLoss: null,
        trainLoss: trained.loss,
        consensusDistance: Number.NaN,
        bytesSent: sent,
        bytesReceived: received,
        bytesSentTotal,
        globalMerge: plan.exactMerge,
        simSeconds: (performance.now() - wallStart) / 1000,
        wallSeconds: (performance.now() - wallStart) / 1000,
      };
      dir.appendRound(last);
      opts.onRound?.(last);
      log(
        `round ${t + 1}/${config.rounds}: loss ${trained.loss.toFixed(3)}` +
          (acc === null ? '' : `, accuracy ${(acc * 100).toFixed(2)}%`) +
          `, ${members.length} members${missing ? `, ${missing} missing` : ''}` +
          (staleness ? `, mixed ${staleness.length} (staleness ${staleness.join(' ') || '-'})` : '') +
          `, ${(sent / 1e6).toFixed(2)} MB sent`,
      );
    }
    const summary: RunSummary = {
      rounds: config.rounds,
      peers: transport.members().length,
      localAccuracyMean: last?.localAccuracyMean ?? null,
      mergedAccuracy: last?.mergedAccuracy ?? null,
      bytesSent: bytesSentTotal,
      wallSeconds: (performance.now() - wallStart) / 1000,
      backend: backend.name,
      ...(backend.device ? { device: backend.device } : {}),
      config,
    };
    dir.writeSummary(summary, { numClasses: train.numClasses, histograms: [parts.histograms[shard.index]] });
    await transport.leave();
    return summary;
  } finally {
    trainer.dispose();
    if (transport) await transport.close();
    await node.stop();
  }
}

/** Temp files of checkpoint writes that a kill interrupted (never read; see writeFileAtomic). */
function removeStaleTemps(file: string): void {
  const dir = dirname(file);
  if (!existsSync(dir)) return;
  const prefix = `.${basename(file)}.`;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
  }
}

/**
 * Local steps one at a time with a turn of the event loop after each: on the CPU and WASM
 * backends a round of training never leaves the thread, and an asynchronous peer (which never
 * waits on the network) would otherwise send and receive nothing until its last round.
 */
async function trainYielding(peer: Peer, trainer: Trainer, steps: number): Promise<TrainResult> {
  let lossSum = 0;
  let samples = 0;
  for (let i = 0; i < steps; i++) {
    const r = await peer.train(trainer, 1);
    lossSum += r.loss;
    samples += r.samples;
    await new Promise((resolve) => setImmediate(resolve));
  }
  peer.lastLoss = steps ? lossSum / steps : 0;
  return { loss: peer.lastLoss, steps, samples };
}

/** The ids of the peers `self` averages in round `round` (a static topology: async mode). */
function inNeighbours(mixings: RoundMixing, members: readonly string[], self: string, round: number): string[] {
  const mixing = mixings.at(members.length, round, null);
  return Array.from(mixing.row(members.indexOf(self)).peers, (j) => members[j]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
