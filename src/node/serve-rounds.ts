// The server of a `mode: federated` run between real peers (`gossipfl peer --serve`): the same
// round driver and server round as the simulator's, over a world that holds the server and no
// participant. Each round it sends the global model to the round's sampled clients, waits for
// their uploads and aggregates them with the run's rule; its metrics are the global model's.
import type { RoundMetrics, RunSummary } from '../report/metrics.js';
import type { Trainer } from '../model/trainer.js';
import type { Run } from '../peer/run.js';
import { runRounds } from '../peer/driver.js';
import { PeerWorld } from '../peer/peer-world.js';
import { RunDirectory } from '../report/run-dir.js';
import type { Libp2pTransport } from './transport.js';
import { splitRoles } from './federated-roles.js';

export interface ServeOptions {
  readonly outDir: string;
  readonly onRound?: (m: RoundMetrics) => void;
  readonly signal?: AbortSignal;
}

/** Serves rounds startRound … T−1 and returns the server's summary (it leaves the run at the end). */
export async function serveRounds(run: Run, net: Libp2pTransport, trainer: Trainer, startRound: number, opts: ServeOptions, log: (line: string) => void, wallStart: number): Promise<RunSummary> {
  const { config } = run;
  const self = net.self;
  const dir = new RunDirectory(opts.outDir, { overwrite: true });
  dir.writeConfig(config);
  log(`peer ${self}: serving run "${config.name}" (${config.aggregation?.name ?? "fedavg"}) from round ${startRound + 1}`);
  const world = new PeerWorld(
    run,
    trainer,
    [],
    {
      hub: { setParticipants: () => {}, transportFor: () => net },
      // It holds the global model: the round's merged model is known here.
      seesAll: true,
      roster: (t) => {
        const { clients } = splitRoles(net.beginRound(t), (id) => net.roleOf(id), `in round ${t + 1}`);
        const all = clients.map((_, i) => i);
        return { members: clients, live: all, local: [], honest: all };
      },
      log,
    },
    { id: self, participation: config.federated.participation },
  );
  const { metrics, bytesSentTotal } = await runRounds(run, world, 'server', {
    elapsedSeconds: () => (performance.now() - wallStart) / 1000,
    nextRound: (t) => {
      if (opts.signal?.aborted) return (log(`peer ${self}: stopping the server after round ${t} (interrupted); the clients stop too`), null);
      const alone = net.aloneReason(t, config.rounds - 1);
      if (alone) return (log(`peer ${self}: stopping before round ${t + 1}: ${alone}`), null);
      return t;
    },
    afterRound: (t, m) => {
      dir.appendRound(m);
      opts.onRound?.(m);
      const acc = m.mergedAccuracy;
      log(`round ${t + 1}/${config.rounds}: ${m.activePeers} clients` + (acc === null ? '' : `, global model accuracy ${(acc * 100).toFixed(2)}%`) + `, ${(m.bytesSent / 1e6).toFixed(2)} MB sent`);
    },
  }, startRound);
  const summary = roundsSummary(run, metrics, bytesSentTotal, wallStart, net.members().length - 1);
  dir.writeSummary(summary, { numClasses: run.train.numClasses, histograms: run.partition.histograms });
  await net.leave();
  return summary;
}

/** A real peer's summary.json from its rounds (the server has no local model: its last local accuracy is null). */
export function roundsSummary(run: Run, metrics: readonly RoundMetrics[], bytesSent: number, wallStart: number, peers: number): RunSummary {
  const last = metrics[metrics.length - 1];
  return {
    rounds: run.config.rounds,
    peers,
    localAccuracyMean: last?.localAccuracyMean ?? null,
    mergedAccuracy: last?.mergedAccuracy ?? null,
    bytesSent,
    wallSeconds: (performance.now() - wallStart) / 1000,
    backend: run.backend.name,
    ...(run.backend.device ? { device: run.backend.device } : {}),
    config: run.config,
  };
}
