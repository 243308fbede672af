// One real peer: the same per-round algorithm as the simulator (train → gossip exchange or exact
// merge → aggregate), over a Libp2pTransport, with a checkpoint after every round and the same
// metrics.jsonl as the simulator.
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import type { RunConfig } from '../peer/config.js';
import type { RunSummary } from '../report/metrics.js';
import type { RoundMetrics } from '../report/metrics.js';
import { Trainer } from '../model/trainer.js';
import { layoutFingerprint } from '../params/index.js';
import { buildRun, makePeer, type Run, type RunPlugins } from '../peer/run.js';
import { runRounds, strategyOf } from '../peer/driver.js';
import { PeerWorld } from '../peer/peer-world.js';
import type { Peer } from '../peer/peer.js';
import type { Transport } from '../peer/transport.js';
import { Adversary, chooseAttackers, flipLabels, refuseAsyncAttack } from '../peer/attacks.js';
import { poisoningTransport } from '../peer/attack-payloads.js';
import { RunDirectory } from '../report/run-dir.js';
import { REPORT_FILE, writeRunReport } from '../report/write-report.js';
import { METRICS_FILE } from '../report/read-run.js';
import { configHash } from './config-hash.js';
import { ConfigError, GossipflError } from '../util/errors.js';
import { createGossipflNode, type GossipflNode } from './create-node.js';
import type { NodeOptions } from './options.js';
import { Libp2pTransport } from './transport.js';
import { payloadBounds } from './transport-options.js';
import { gossipNeighbours } from './topology-neighbours.js';
import { checkOutDir, checkpointBytesUpperBound } from './preflight.js';
import { loadCheckpoint, restoreMemory, saveCheckpoint } from './checkpoint.js';
import { codecValidator } from './validate-update.js';
import { clientShard, requireServerDownloads, splitRoles } from './federated-roles.js';
import { roundsSummary, serveRounds } from './serve-rounds.js';
import { ChurnFollower } from './churn-follower.js';
import { churnPlan } from '../peer/churn.js';
import { aggregationRegistry, rulesWhere } from '../aggregation/registry.js';
import { orList } from '../peer/local-training.js';

/** What runPeer needs: the run config, node options and callbacks. */
export interface PeerRunOptions {
  readonly config: RunConfig;
  readonly node: NodeOptions;
  /** Folder for metrics.jsonl, config.json, summary.json, partition.json, report.html, checkpoint.bin (and the key file by default). */
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
  /** A custom model, topology or aggregation rule, as `simulate` takes them (every peer of the run must use the same). */
  readonly plugins?: RunPlugins;
  /** Serve a `mode: federated` run: aggregate the clients' uploads and send the global model (trains nothing). */
  readonly serve?: boolean;
}

/**
 * Runs one peer of a run over libp2p to the end; returns its summary. Its run folder then holds
 * report.html too, as simulate's does (written after the node stopped, so no other peer waits for it).
 */
export async function runPeer(opts: PeerRunOptions): Promise<RunSummary> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const summary = await runOverNetwork(opts, log);
  // A peer stopped before its first round ended (interrupted, or alone) has no round to plot.
  if (readFileSync(join(opts.outDir, METRICS_FILE), 'utf8').trim() === '') {
    log(`no round finished: no ${REPORT_FILE} in ${opts.outDir}`);
    return summary;
  }
  const report = await writeRunReport(opts.outDir);
  for (const warning of report.warnings) log(`report: ${warning}`);
  return summary;
}

async function runOverNetwork(opts: PeerRunOptions, log: (line: string) => void): Promise<RunSummary> {
  const { config } = opts;
  const strategy = strategyOf(config);
  const serving = opts.serve === true;
  if (serving && strategy !== 'server') {
    throw new ConfigError(`--serve: only a mode: federated run has a server (this config has mode: ${config.mode}); leave --serve out`);
  }
  const wallStart = performance.now();
  const run = await buildRun(config, opts.plugins, log);
  if (strategy === 'server') refuseUnservable(run);
  if (config.heterogeneity.churn.length && (config.timing.mode === 'async' || strategy === 'modest')) {
    throw new ConfigError('heterogeneity.churn: real peers follow the churn schedule in synchronous rounds (gossip, all-reduce, federated); study it with async or MoDeST rounds in the simulator, or remove heterogeneity.churn');
  }
  const { model, codec } = run;
  if (config.attack?.kind === 'alie') {
    throw new ConfigError('attack.kind alie needs the honest models of each round, which a real peer does not see; study it in the simulator (gossipfl simulate) or pick another attack');
  }
  // Asynchronous rounds: each peer at its own pace, mixing the latest model of each neighbour
  // (parseConfig has refused the configs that cannot run so).
  const async = config.timing.mode === 'async';
  if (async) refuseAsyncAttack(config.attack);
  // Peers that may be many rounds apart by design: async peers, and MoDeST members with no role
  // in a round (they pass it at once). They keep messages of any later round and never skip
  // ahead (a skipped round could be one where the peer must train or aggregate).
  const unpaced = async || strategy === 'modest';
  const deadlineMs = config.heterogeneity.deadlineMs ?? opts.defaultDeadlineMs ?? 30_000;
  const checkpointFile = join(opts.outDir, 'checkpoint.bin');
  const trainer = new Trainer(model, config.training.optimizer);
  checkOutDir(opts.outDir, checkpointBytesUpperBound(model.layout.size)); // before joining: writable, room for checkpoints
  const node: GossipflNode = await createGossipflNode({ keyFile: join(opts.outDir, 'peer.key'), ...opts.node });
  let transport: Libp2pTransport | undefined;
  try {
    removeStaleTemps(checkpointFile);
    // A server keeps no checkpoint (its aggregation state is not saved): it always starts afresh.
    const checkpoint = serving ? undefined : loadCheckpoint(checkpointFile, model.layout);
    if (checkpoint && checkpoint.peerId !== node.peerId) {
      throw new GossipflError('state', `${checkpointFile} belongs to peer ${checkpoint.peerId}, this node is ${node.peerId}; use the same --key or another --out`);
    }
    transport = await Libp2pTransport.start(node, {
      identity: { runId: config.name, modelFingerprint: hashText(layoutFingerprint(model.layout)), configHash: configHash(config) },
      // Everything but the sender's index (checked in the exchange, which knows the round's members).
      validate: codecValidator(model.layout),
      ...payloadBounds(model.layout.size, config.peers),
      suspectAfterRounds: config.heterogeneity.suspectAfterRounds,
      // Gossip keeps connections to the topology's neighbours (dialled a round ahead), not to every member.
      ...(strategy === 'gossip' ? { neighbours: gossipNeighbours(run, node.peerId) } : {}),
      ...(serving ? { role: 'server' as const } : {}),
      log,
      // Async: the only in-step exchanges are exact merges behind a barrier, which may come many
      // rounds after the last one this peer's exchange inbox saw.
      ...(async ? { asyncGossip: { maxStaleness: config.timing.maxStaleness, sendTimeoutMs: deadlineMs } } : {}),
      ...(unpaced ? { maxRoundsAhead: config.rounds } : {}),
    });
    const net = transport;
    opts.onListening?.(node.peerId, node.addresses());
    log(`peer ${node.peerId} listening on ${node.addresses().join(' ')}`);
    // A peer resuming from its checkpoint rejoins a running run: one other member is enough (the
    // full start set may never come back after a crash of several peers).
    // A federated run's start set is its clients and its server.
    const federated = strategy === 'server';
    const start = await net.waitForMembers(checkpoint ? 2 : config.peers + (federated ? 1 : 0), opts.startTimeoutMs ?? 60_000);
    const startRoles = federated ? splitRoles(start.members, (id) => net.roleOf(id), 'at the start') : undefined;
    if (start.startRound === 0 && !checkpoint) {
      // Start grace: the last peer to see the full set must hear the others' not-yet-started
      // announcements before they begin round 0, or it would take itself for a late joiner.
      await new Promise((resolve) => setTimeout(resolve, opts.startGraceMs ?? 2_000));
    }
    if (serving) return await serveRounds(run, net, trainer, start.startRound, opts, log, wallStart);
    const firstRound = Math.max(start.startRound, checkpoint ? checkpoint.round + 1 : 0);
    const shard = startRoles
      ? { index: clientShard(startRoles, node.peerId, config.peers, opts.dataShard, !checkpoint), count: config.peers }
      : (opts.dataShard ?? { index: start.members.indexOf(node.peerId), count: config.peers });
    if (shard.count !== config.peers || shard.index < 0 || shard.index >= shard.count) {
      throw new ConfigError(`--data-shard ${shard.index}/${shard.count}: need i/n with n = peers (${config.peers}) and 0 ≤ i < n`);
    }
    const peer = makePeer(run, { id: node.peerId, shard: shard.index, firstRound, ...(checkpoint ? { resume: checkpoint } : {}) });
    log(
      `peer ${node.peerId}: shard ${shard.index}/${shard.count} (${peer.sampleCount} samples), ${start.members.length} members, ` +
        (checkpoint ? `resuming after round ${checkpoint.round + 1} from ${checkpointFile}` : `starting at round ${firstRound + 1}`),
    );
    const dir = new RunDirectory(opts.outDir, { overwrite: true, append: checkpoint !== undefined });
    // The effective config (file, --set overrides, --backend, defaults), as simulate writes it.
    dir.writeConfig(config);
    const slowDelayMs = config.timing.slowPeers.find((s) => s.peer === shard.index)?.delayMs ?? 0;
    // Async: updates that arrive before the first round are kept from the start set's neighbours.
    if (async) net.setAsyncSenders(inNeighbours(run, start.members, node.peerId, firstRound));
    // A Byzantine member on purpose (config.attack), as in the simulator: the same seeded choice of attackers by shard.
    const adversary = config.attack ? new Adversary(config.attack, config.seed, chooseAttackers(config.peers, config.attack.fraction, config.seed)) : undefined;
    const attacking = adversary?.attackers.has(shard.index) ?? false;
    if (attacking) log(`peer ${node.peerId}: Byzantine on purpose (attack ${config.attack!.kind})`);
    if (attacking && config.attack!.kind === 'label-flip') flipLabels(peer.data.y, run.train.numClasses);
    const clientNet: Transport = startRoles ? requireServerDownloads(net, startRoles.server) : net;
    const wire: Transport = attacking && config.attack!.kind === 'nan' ? poisoningTransport(clientNet, model.layout) : clientNet;
    const churn = config.heterogeneity.churn.length
      ? new ChurnFollower(churnPlan(config, shard.index), net, shard.index, log, config.rounds, opts.startTimeoutMs ?? 60_000, opts.signal)
      : undefined;
    const world = new PeerWorld(run, trainer, [peer], {
      hub: { setParticipants: () => {}, transportFor: () => wire },
      ...(adversary ? { beforeTrain: (p: Peer) => adversary.beforeTrain(p), outgoing: (p: Peer, t: number, ps: readonly Peer[]) => adversary.outgoing(p, t, ps) } : {}),
      seesAll: false,
      roster: (t) => {
        const all = net.beginRound(t);
        // Federated: the driver's members are the clients (the server is not one of them).
        const members = federated ? splitRoles(all, (id) => net.roleOf(id), `in round ${t + 1}`).clients : all;
        const me = members.indexOf(node.peerId);
        const everyone = members.map((_, i) => i);
        return { members, live: everyone, local: [me], honest: everyone };
      },
      // A straggler on purpose (timing.slowPeers), for studying slow peers.
      afterTrain: () => (slowDelayMs > 0 ? sleep(slowDelayMs) : undefined),
      ...(async ? { async: { transport: net, maxStaleness: config.timing.maxStaleness, yieldBetweenSteps: true } } : {}),
      log,
    }, startRoles ? { id: startRoles.server, participation: config.federated.participation, here: false } : undefined);
    if (checkpoint) restoreMemory(world, peer.id, checkpoint, checkpointFile, log);
    const { metrics, bytesSentTotal } = await runRounds(run, world, strategy, {
      elapsedSeconds: () => (performance.now() - wallStart) / 1000,
      nextRound: async (t) => {
        if (opts.signal?.aborted) {
          log(`peer ${node.peerId}: stopping after round ${t} (interrupted); checkpoint in ${checkpointFile}`);
          return null;
        }
        // The config's churn schedule for this peer's shard: leave, sit out, rejoin (or stop).
        const churned = churn ? await churn.before(t) : t;
        if (churned !== t) return churned;
        // Catch up: a peer that restarted or fell behind skips to the round the others are in
        // (it can add nothing to rounds they have finished, and its late messages would be stale).
        const ahead = unpaced ? null : net.confirmedRoundAhead(t);
        const next = ahead !== null && ahead > t && ahead < config.rounds ? ahead : t;
        if (next > t) log(`peer ${node.peerId}: the others are at round ${next + 1}; skipping ahead from round ${t + 1}`);
        // Nobody left to train with in the round it goes to (the others finished, or dropped this
        // peer and it them): stop with a summary instead of a round alone.
        const alone = net.aloneReason(next, config.rounds - 1);
        if (alone) return (log(`peer ${node.peerId}: stopping before round ${next + 1}: ${alone}`), null);
        return next;
      },
      afterRound: (t, m, roster) => {
        saveCheckpoint(checkpointFile, { round: t, params: peer.params, optimizer: peer.optimizer, peerId: node.peerId, state: world.peerMemory(peer.id) });
        dir.appendRound(m);
        opts.onRound?.(m);
        const notes = world.takeNotes();
        const acc = m.localAccuracyMean;
        log(
          `round ${t + 1}/${config.rounds}: loss ${peer.lastLoss.toFixed(3)}` +
            (acc === null ? '' : `, accuracy ${(acc * 100).toFixed(2)}%`) +
            `, ${roster.members.length} members${notes.missing ? `, ${notes.missing} missing` : ''}` +
            (notes.staleness ? `, mixed ${notes.staleness.length} (staleness ${notes.staleness.join(' ') || '-'})` : '') +
            `, ${(m.bytesSent / 1e6).toFixed(2)} MB sent`,
        );
      },
    }, firstRound);
    const conns = net.connectionStats();
    log(`peer ${node.peerId}: connected to ${conns.meanAtRounds.toFixed(1)} peers per round (mean; max ${conns.maxAtRounds}, ${conns.maxSeen} at most ever, ${conns.dialsOnDemand} dialled on demand, ${conns.closed} closed as unneeded)`);
    const summary: RunSummary = { ...roundsSummary(run, metrics, bytesSentTotal, wallStart, net.members().length - (federated ? 1 : 0)), connections: { ...conns } };
    // The run's whole split, as simulate and the server write it (every peer draws the same partition).
    dir.writeSummary(summary, { numClasses: run.train.numClasses, histograms: run.partition.histograms });
    await net.leave();
    return summary;
  } finally {
    trainer.dispose();
    if (transport) await transport.close();
    await node.stop();
  }
}

/** Server rounds between real peers carry the global model down and pointwise-compressed changes up; the rest runs in the simulator only. */
function refuseUnservable(run: Run): void {
  if (run.codec.group) {
    throw new ConfigError(`compression.method ${run.config.compression.method}: a group compressor in mode federated runs in the simulator only; between real peers use mode: all-reduce for it, or a pointwise method with the server`);
  }
  // Read from the rule's entry, so a plug-in rule with control variates is refused too.
  const rule = run.config.aggregation?.name ?? 'fedavg';
  if (aggregationRegistry.get(rule).localTraining === 'control-variates') {
    throw new ConfigError(`aggregation.name ${rule}: its control deltas travel to the server in the simulator only; between real peers use ${orList(rulesWhere((e) => e.modes.includes('federated') && e.localTraining !== 'control-variates'))}`);
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

/** The ids of the peers `self` averages in round `round` (a static topology: async mode). */
function inNeighbours(run: Run, members: readonly string[], self: string, round: number): string[] {
  const mixing = run.mixing.at(members.length, round, null);
  return Array.from(mixing.row(members.indexOf(self)).peers, (j) => members[j]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function hashText(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
