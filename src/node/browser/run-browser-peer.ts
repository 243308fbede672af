// One peer of a run in a browser tab: the round driver, codecs, aggregation and topology of a
// Node peer, over the same Libp2pTransport (membership, validation, liveness), on a node that
// dials Node peers over WebSockets. What differs from runPeer: no files (no checkpoint, key or run
// directory; the tab's identity lasts as long as the tab) and the data is the user's own file.
import { createHash } from 'node:crypto';
import type { RunConfig } from '../../peer/config.js';
import type { RoundMetrics } from '../../report/metrics.js';
import type { Dataset } from '../../data/dataset.js';
import { Trainer } from '../../model/trainer.js';
import { layoutFingerprint } from '../../params/index.js';
import { buildRun, makePeer } from '../../peer/run.js';
import { runRounds, strategyOf } from '../../peer/driver.js';
import { PeerWorld } from '../../peer/peer-world.js';
import { ConfigError } from '../../util/errors.js';
import { Libp2pTransport } from '../transport.js';
import { payloadBounds } from '../transport-options.js';
import { configHash } from '../config-hash.js';
import { codecValidator } from '../validate-update.js';
import { createBrowserNode } from './browser-node.js';
import { linksOf, type Link } from './webrtc-links.js';

/** Pause after the start set is complete, before round 0 (runPeer's default). */
const START_GRACE_MS = 2_000;

/** What a tab's peer needs: the run's config, where to join, and its own data. */
export interface BrowserPeerOptions {
  readonly config: RunConfig;
  /** WebSocket multiaddrs of Node peers of the run (`/ip4/…/tcp/<port>/ws/p2p/<id>`). */
  readonly bootstrap: readonly string[];
  /** The run's pre-shared key file text, if the run has one. */
  readonly pskText?: string;
  /** STUN or TURN server URLs for WebRTC between tabs (default none: see BrowserNodeOptions). */
  readonly iceServers?: readonly string[];
  /** The user's samples (train) and the part held back to score the models (test); default: the config's data, if the tab can build it (synthetic). */
  readonly data?: { readonly train: Dataset; readonly test: Dataset };
  /** How long to wait for config.peers members (ms; default 120000: people open tabs slowly). */
  readonly startTimeoutMs?: number;
  readonly onListening?: (peerId: string) => void;
  readonly onRound?: (m: RoundMetrics, peer: TabRound) => void;
  readonly log?: (line: string) => void;
  /** Aborting stops the peer at the next round boundary and leaves the run. */
  readonly signal?: AbortSignal;
}

/** What a tab reports of itself at the end of a round. */
export interface TabRound {
  readonly loss: number;
  readonly members: number;
  /** Its open connections now: to Node peers over WebSockets or the relay, to other tabs over WebRTC (or the relay where WebRTC failed). */
  readonly links: readonly Link[];
}

/** How a tab's run ended, and a hash of the model it holds at the end. */
export interface BrowserPeerResult {
  /** Rounds this tab took part in (a late joiner starts after round 1). */
  readonly rounds: number;
  /** The last round's metrics (null: it left before any round ended). */
  readonly last: RoundMetrics | null;
  readonly bytesSentTotal: number;
  readonly backend: string;
  /** SHA-256 (hex) of the final parameters' bytes: equal on every peer after an exact final merge. */
  readonly paramsSha256: string;
  readonly peerId: string;
}

/** Runs one tab's peer to the end of the run (or until aborted). */
export async function runBrowserPeer(opts: BrowserPeerOptions): Promise<BrowserPeerResult> {
  const { config } = opts;
  const log = opts.log ?? ((line: string) => console.log(line));
  const strategy = strategyOf(config);
  if (strategy === 'server') throw new ConfigError('mode federated needs a server process, which real peers do not run; use gossip or all-reduce');
  if (config.attack) throw new ConfigError('attack: a tab does not play a Byzantine peer on purpose; study attacks in the simulator');
  if (config.timing.mode === 'async') throw new ConfigError('timing.mode async: a tab keeps to synchronous rounds for now; run the mixed run with timing.mode sync');
  const wallStart = performance.now();
  const run = await buildRun(config, opts.data ? { data: opts.data } : {}, log);
  const { model } = run;
  const trainer = new Trainer(model, config.training.optimizer);
  const node = await createBrowserNode({
    bootstrap: opts.bootstrap,
    log,
    ...(opts.pskText !== undefined ? { pskText: opts.pskText } : {}),
    ...(opts.iceServers ? { iceServers: opts.iceServers } : {}),
  });
  let net: Libp2pTransport | undefined;
  try {
    // MoDeST members with no role in a round pass it at once: they may be rounds apart by design.
    const unpaced = strategy === 'modest';
    net = await Libp2pTransport.start(node, {
      identity: { runId: config.name, modelFingerprint: sha256Hex(layoutFingerprint(model.layout)).slice(0, 16), configHash: configHash(config) },
      validate: codecValidator(model.layout),
      ...payloadBounds(model.layout.size, config.peers),
      suspectAfterRounds: config.heterogeneity.suspectAfterRounds,
      log,
      ...(unpaced ? { maxRoundsAhead: config.rounds } : {}),
    });
    const transport = net;
    opts.onListening?.(node.peerId);
    log(`peer ${node.peerId} joined through ${opts.bootstrap.join(' ')}`);
    const start = await transport.waitForMembers(config.peers, opts.startTimeoutMs ?? 120_000);
    if (start.startRound === 0) {
      // Start grace, as on a Node peer: the last to see the full set must hear the others'
      // not-yet-started announcements before they begin round 0, or it takes itself for a late joiner.
      await new Promise((resolve) => setTimeout(resolve, START_GRACE_MS));
    }
    const firstRound = start.startRound;
    const index = start.members.indexOf(node.peerId);
    const peer = makePeer(run, { id: node.peerId, shard: index, firstRound, ...(opts.data ? { data: run.train } : {}) });
    log(`peer ${node.peerId}: ${peer.sampleCount} samples, ${start.members.length} members, starting at round ${firstRound + 1}`);
    const world = new PeerWorld(run, trainer, [peer], {
      hub: { setParticipants: () => {}, transportFor: () => transport },
      seesAll: false,
      roster: (t) => {
        const members = transport.beginRound(t);
        const all = members.map((_, i) => i);
        return { members, live: all, local: [members.indexOf(node.peerId)], honest: all };
      },
      log,
    });
    const { metrics, bytesSentTotal } = await runRounds(run, world, strategy, {
      elapsedSeconds: () => (performance.now() - wallStart) / 1000,
      nextRound: (t) => {
        if (opts.signal?.aborted) return (log(`peer ${node.peerId}: stopping after round ${t} (the tab asked to leave)`), null);
        const ahead = unpaced ? null : transport.confirmedRoundAhead(t);
        if (ahead !== null && ahead > t && ahead < config.rounds) return ahead;
        const alone = transport.aloneReason(t, config.rounds - 1);
        if (alone) return (log(`peer ${node.peerId}: stopping before round ${t + 1}: ${alone}`), null);
        return t;
      },
      afterRound: (_t, m, roster) => {
        world.takeNotes();
        opts.onRound?.(m, { loss: peer.lastLoss, members: roster.members.length, links: linksOf(node.libp2p) });
      },
    }, firstRound);
    await transport.leave();
    const data = peer.params.data;
    const backend = run.backend.device ? `${run.backend.name} (${run.backend.device})` : run.backend.name;
    return { rounds: metrics.length, last: metrics.at(-1) ?? null, bytesSentTotal, backend, paramsSha256: sha256Hex(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)), peerId: node.peerId };
  } finally {
    trainer.dispose();
    if (net) await net.close();
    await node.stop();
  }
}

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
