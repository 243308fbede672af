// Turns runs into the flat rows the plots draw: one row per (run, round, series). Pure
// functions over plain data, so what each plot shows can be checked exactly.
import type { PartitionSummary, PerPeerMetrics, RoundMetrics } from './metrics.js';

/** A run as the plots need it: its display name and its records (and its summary's config, where known). */
export interface NamedRun {
  name: string;
  metrics: RoundMetrics[];
  partition: PartitionSummary | null;
  summary?: { config?: unknown };
}

export type AccuracySeries = 'local mean' | 'merged';

export interface AccuracyRow {
  run: string;
  round: number;
  /** Cumulative bytes sent at the end of the round. */
  bytes: number;
  series: AccuracySeries;
  accuracy: number;
}

/** The spread of the peers' local accuracies in one round. */
export interface BandRow {
  run: string;
  round: number;
  bytes: number;
  lo: number;
  hi: number;
}

export interface RoundValueRow {
  run: string;
  round: number;
  value: number;
}

export interface MergeRow {
  run: string;
  round: number;
  bytes: number;
}

export interface HistogramRow {
  run: string;
  peer: number;
  /** Class label as text, so the plot treats it as a category. */
  label: string;
  samples: number;
}

/** Rows of local-mean and merged accuracy, skipping rounds where a value was not evaluated. */
export function accuracyRows(runs: NamedRun[]): AccuracyRow[] {
  const rows: AccuracyRow[] = [];
  for (const run of runs) {
    for (const m of run.metrics) {
      const base = { run: run.name, round: m.round, bytes: m.bytesSentTotal };
      if (m.localAccuracyMean !== null) rows.push({ ...base, series: 'local mean', accuracy: m.localAccuracyMean });
      if (m.mergedAccuracy !== null) rows.push({ ...base, series: 'merged', accuracy: m.mergedAccuracy });
    }
  }
  return rows;
}

/**
 * The band around the local mean: min–max over peers where both were recorded, else mean ± one
 * standard deviation clipped to [0, 1], else no band for that round.
 */
export function accuracyBandRows(runs: NamedRun[]): BandRow[] {
  const rows: BandRow[] = [];
  for (const run of runs) {
    for (const m of run.metrics) {
      const band = localBand(m);
      if (band !== null) rows.push({ run: run.name, round: m.round, bytes: m.bytesSentTotal, ...band });
    }
  }
  return rows;
}

function localBand(m: RoundMetrics): { lo: number; hi: number } | null {
  if (m.localAccuracyMin !== null && m.localAccuracyMax !== null) return { lo: m.localAccuracyMin, hi: m.localAccuracyMax };
  if (m.localAccuracyMean !== null && m.localAccuracyStd !== null) {
    return { lo: Math.max(0, m.localAccuracyMean - m.localAccuracyStd), hi: Math.min(1, m.localAccuracyMean + m.localAccuracyStd) };
  }
  return null;
}

/** Consensus distance per round; zeros (right after an exact merge) are left out because the plot's y axis is logarithmic. */
export function consensusRows(runs: NamedRun[]): RoundValueRow[] {
  return runs.flatMap((run) =>
    run.metrics.filter((m) => m.consensusDistance > 0).map((m) => ({ run: run.name, round: m.round, value: m.consensusDistance })),
  );
}

export function trainLossRows(runs: NamedRun[]): RoundValueRow[] {
  return runs.flatMap((run) =>
    run.metrics.filter((m) => Number.isFinite(m.trainLoss)).map((m) => ({ run: run.name, round: m.round, value: m.trainLoss })),
  );
}

/**
 * On a merge round the local mean is measured after the merge (so it equals the merged model's
 * accuracy); what the peers' own models reached before it is recorded separately.
 */
export function preMergeRows(runs: NamedRun[]): Array<MergeRow & { accuracy: number }> {
  return runs.flatMap((run) =>
    run.metrics.flatMap((m) =>
      m.globalMerge && m.preMergeLocalAccuracyMean != null
        ? [{ run: run.name, round: m.round, bytes: m.bytesSentTotal, accuracy: m.preMergeLocalAccuracyMean }]
        : [],
    ),
  );
}

export function mergeRows(runs: NamedRun[]): MergeRow[] {
  return runs.flatMap((run) =>
    run.metrics.filter((m) => m.globalMerge).map((m) => ({ run: run.name, round: m.round, bytes: m.bytesSentTotal })),
  );
}

/** One row per (run, peer, class) with a non-zero count; runs without partition.json give none. */
export function histogramRows(runs: NamedRun[]): HistogramRow[] {
  const rows: HistogramRow[] = [];
  for (const run of runs) {
    if (run.partition === null) continue;
    run.partition.histograms.forEach((counts, peer) => {
      counts.forEach((samples, cls) => {
        if (samples > 0) rows.push({ run: run.name, peer, label: String(cls), samples });
      });
    });
  }
  return rows;
}

/** One peer's own test accuracy in one round (from the optional per-peer record). */
export interface PeerAccuracyRow {
  run: string;
  round: number;
  peer: number;
  accuracy: number;
}

/** One peer's value of one round (from the optional per-peer record). */
export interface PeerValueRow {
  run: string;
  round: number;
  peer: number;
  value: number;
}

/** Per-peer accuracies where the run recorded them; at most `maxPeers` peers per run (the first listed). */
export function perPeerAccuracyRows(runs: NamedRun[], maxPeers = Infinity): PeerAccuracyRow[] {
  return perPeerValueRows(runs, (pp) => pp.accuracy, maxPeers).map(({ value, ...row }) => ({ ...row, accuracy: value }));
}

/** The bytes each peer sent in each round where the run recorded them; at most `maxPeers` peers per run (the first listed). */
export function perPeerBytesRows(runs: NamedRun[], maxPeers = Infinity): PeerValueRow[] {
  return perPeerValueRows(runs, (pp) => pp.bytesSent, maxPeers);
}

/** The spread of the peers' bytes sent in one round: their mean (`value`), min and max. */
export interface SpreadRow extends RoundValueRow {
  lo: number;
  hi: number;
}

/** Mean, min and max over the listed peers of the bytes each sent, for every round that recorded them. */
export function perPeerBytesSpreadRows(runs: NamedRun[]): SpreadRow[] {
  return runs.flatMap((run) =>
    run.metrics.flatMap((m) => {
      const sent = m.perPeer?.bytesSent;
      if (!sent || sent.length === 0) return [];
      const value = sent.reduce((a, b) => a + b, 0) / sent.length;
      return [{ run: run.name, round: m.round, value, lo: Math.min(...sent), hi: Math.max(...sent) }];
    }),
  );
}

function perPeerValueRows(runs: NamedRun[], pick: (pp: PerPeerMetrics) => ReadonlyArray<number | null> | undefined, maxPeers: number): PeerValueRow[] {
  const rows: PeerValueRow[] = [];
  for (const run of runs) {
    const shown = new Set<number>();
    for (const m of run.metrics) {
      const values = m.perPeer && pick(m.perPeer);
      if (!values) continue;
      m.perPeer!.peer.forEach((peer, i) => {
        const value = values[i];
        if (value === null || value === undefined) return;
        if (!shown.has(peer) && shown.size >= maxPeers) return;
        shown.add(peer);
        rows.push({ run: run.name, round: m.round, peer, value });
      });
    }
  }
  return rows;
}

/**
 * Whether a run's config (summary.config) makes its clock more than a count of rounds: a
 * network model that delays messages (network.latencyMs, jitterMs, bandwidthMbps) or stragglers
 * (timing.slowPeers, heterogeneity.speedSpread). Without them every round takes the same
 * simulated time, and accuracy against time is accuracy against rounds.
 */
export function hasSimulatedDelays(config: unknown): boolean {
  const at = (path: string): unknown => path.split('.').reduce<unknown>((v, key) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined), config);
  const positive = (path: string) => {
    const n = at(path);
    return typeof n === 'number' && n > 0;
  };
  const slowPeers = at('timing.slowPeers');
  return (
    positive('network.latencyMs') ||
    positive('network.jitterMs') ||
    positive('network.bandwidthMbps') ||
    positive('heterogeneity.speedSpread') ||
    (Array.isArray(slowPeers) && slowPeers.length > 0)
  );
}

/** The rows with the simulated seconds since the start (`simSeconds`) of their run's round. */
export function withSimSeconds<T extends { run: string; round: number }>(runs: NamedRun[], rows: T[]): Array<T & { seconds: number }> {
  const seconds = new Map(runs.map((run) => [run.name, new Map(run.metrics.map((m) => [m.round, m.simSeconds]))]));
  return rows.map((row) => ({ ...row, seconds: seconds.get(row.run)!.get(row.round)! }));
}

/** A run's privacy cost and what it bought: ε at its last round with one, and the accuracy then. */
export interface EpsilonRow {
  run: string;
  epsilon: number;
  delta: number;
  series: AccuracySeries;
  accuracy: number;
}

/**
 * For each run that recorded ε: the last record's ε with the last evaluated local-mean and
 * merged accuracies (the final numbers of the run).
 */
export function epsilonRows(runs: NamedRun[]): EpsilonRow[] {
  const rows: EpsilonRow[] = [];
  for (const run of runs) {
    const last = [...run.metrics].reverse().find((m) => m.privacy !== undefined);
    if (!last?.privacy) continue;
    const { epsilon, delta } = last.privacy;
    const local = [...run.metrics].reverse().find((m) => m.localAccuracyMean !== null)?.localAccuracyMean;
    const merged = [...run.metrics].reverse().find((m) => m.mergedAccuracy !== null)?.mergedAccuracy;
    if (local != null) rows.push({ run: run.name, epsilon, delta, series: 'local mean', accuracy: local });
    if (merged != null) rows.push({ run: run.name, epsilon, delta, series: 'merged', accuracy: merged });
  }
  return rows;
}

/** Runs whose partitions are identical share one histogram; each group lists its runs' names. */
export function distinctPartitions(runs: NamedRun[]): Array<{ names: string[]; run: NamedRun }> {
  const groups = new Map<string, { names: string[]; run: NamedRun }>();
  for (const run of runs) {
    if (run.partition === null) continue;
    const key = JSON.stringify(run.partition);
    const group = groups.get(key);
    if (group) group.names.push(run.name);
    else groups.set(key, { names: [run.name], run });
  }
  return [...groups.values()];
}
