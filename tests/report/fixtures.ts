// Synthetic run directories written as real files, shaped like what the simulator writes:
// accuracy rising towards a plateau, loss falling, consensus distance shrinking and dropping
// to zero after each global merge.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../../src/util/rng.js';
import type { PartitionSummary, RoundMetrics, RunSummary } from '../../src/report/metrics.js';

export interface SyntheticRun {
  rounds: number;
  peers: number;
  seed: number;
  /** A global merge at the end of every `mergeEvery` rounds (0 = never). */
  mergeEvery?: number;
  /** Evaluate every `evalEvery` rounds. */
  evalEvery?: number;
  bytesPerRound?: number;
  label?: string;
  numClasses?: number;
  /** Record each peer's accuracy in `perPeer` on evaluated rounds. */
  perPeer?: boolean;
  /** With perPeer: record each peer's bytes too, peer p sending (p + 1) shares of the round's bytes. */
  perPeerBytes?: boolean;
  /** Record privacy ε growing as √round up to this value at the last round (δ = 1e-5). */
  epsilon?: number;
  /** Extra keys of summary.config (how the run was set up). */
  config?: Record<string, unknown>;
  /** Seed of partition.json (default: the run's seed). */
  partitionSeed?: number;
}

export function syntheticMetrics(run: SyntheticRun): RoundMetrics[] {
  const rng = new Rng(run.seed);
  const evalEvery = run.evalEvery ?? 1;
  const bytesPerRound = run.bytesPerRound ?? 250_000;
  const records: RoundMetrics[] = [];
  let total = 0;
  let distance = 1;
  for (let round = 1; round <= run.rounds; round++) {
    const merge = run.mergeEvery !== undefined && run.mergeEvery > 0 && round % run.mergeEvery === 0;
    // As the simulator does: evaluate on merge rounds too, where the local models then equal
    // the merged one and their accuracy before the merge is recorded separately.
    const evaluated = round % evalEvery === 0 || round === run.rounds || merge;
    const mean = 0.9 - 0.7 * Math.exp(-round / 8) + 0.01 * rng.next();
    const merged = Math.min(1, mean + 0.03);
    // After a merge every peer holds the merged model: local accuracies all equal the merged one.
    const local = merge ? merged : mean;
    const spread = merge ? 0 : 0.15 * Math.exp(-round / 15);
    total += bytesPerRound;
    distance = merge ? 0 : (distance === 0 ? 0.02 : distance * 0.85) * (1 + 0.1 * rng.next());
    records.push({
      round,
      activePeers: run.peers,
      localAccuracyMean: evaluated ? local : null,
      localAccuracyStd: evaluated ? spread / 2 : null,
      localAccuracyMin: evaluated ? local - spread : null,
      localAccuracyMax: evaluated ? Math.min(1, local + spread / 2) : null,
      mergedAccuracy: evaluated ? merged : null,
      mergedLoss: evaluated ? 0.3 : null,
      trainLoss: 2.3 * Math.exp(-round / 10) + 0.2 + 0.05 * rng.next(),
      consensusDistance: distance,
      bytesSent: bytesPerRound,
      bytesReceived: bytesPerRound,
      bytesSentTotal: total,
      globalMerge: merge,
      preMergeLocalAccuracyMean: merge ? mean : null,
      simSeconds: round * 1.5,
      wallSeconds: round * 0.2,
      ...(run.perPeer && evaluated
        ? {
            perPeer: {
              peer: Array.from({ length: run.peers }, (_, p) => p),
              trainLoss: Array.from({ length: run.peers }, () => 0.5),
              // Spread evenly over [local − spread, local + spread/2], the recorded min and max.
              accuracy: Array.from({ length: run.peers }, (_, p) => local - spread + (1.5 * spread * p) / Math.max(1, run.peers - 1)),
              loss: Array.from({ length: run.peers }, () => 0.4),
              ...(run.perPeerBytes ? { bytesSent: shares(bytesPerRound, run.peers), bytesReceived: shares(bytesPerRound, run.peers) } : {}),
            },
          }
        : {}),
      ...(run.epsilon !== undefined ? { privacy: { epsilon: run.epsilon * Math.sqrt(round / run.rounds), delta: 1e-5 } } : {}),
    });
  }
  return records;
}

/** `total` split over `peers` as 1, 2, …, peers shares (whole bytes; the last peer takes the rounding). */
function shares(total: number, peers: number): number[] {
  const unit = total / ((peers * (peers + 1)) / 2);
  const out = Array.from({ length: peers }, (_, p) => Math.floor(unit * (p + 1)));
  out[peers - 1] += total - out.reduce((a, b) => a + b, 0);
  return out;
}

export function syntheticPartition(peers: number, numClasses: number, seed: number): PartitionSummary {
  const rng = new Rng(seed);
  const histograms = Array.from({ length: peers }, (_, p) =>
    Array.from({ length: numClasses }, (_, c) => (c === p % numClasses ? 200 : 0) + Math.floor(rng.next() * 40)),
  );
  return { numClasses, histograms };
}

/** Writes metrics.jsonl, summary.json and partition.json into `dir` and returns the records. */
export function writeSyntheticRun(dir: string, run: SyntheticRun): RoundMetrics[] {
  mkdirSync(dir, { recursive: true });
  const metrics = syntheticMetrics(run);
  writeFileSync(join(dir, 'metrics.jsonl'), metrics.map((m) => JSON.stringify(m)).join('\n') + '\n');
  const last = metrics[metrics.length - 1];
  const summary: RunSummary = {
    rounds: run.rounds,
    peers: run.peers,
    localAccuracyMean: last.localAccuracyMean,
    preMergeLocalAccuracyMean: [...metrics].reverse().find((m) => m.globalMerge)?.preMergeLocalAccuracyMean ?? null,
    mergedAccuracy: last.mergedAccuracy,
    bytesSent: last.bytesSentTotal,
    wallSeconds: last.wallSeconds,
    backend: 'cpu',
    ...(run.label !== undefined ? { label: run.label } : {}),
    config: { peers: run.peers, rounds: run.rounds, seed: run.seed, ...run.config },
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  writeFileSync(join(dir, 'partition.json'), JSON.stringify(syntheticPartition(run.peers, run.numClasses ?? 10, run.partitionSeed ?? run.seed)));
  return metrics;
}
