// Mean and spread over seeds: pure functions from the runs of each setting to the numbers the
// combined report shows (a table of final metrics, bands of per-round series).
import type { RoundMetrics, RunSummary } from '../report/metrics.js';

/** Mean and spread of one metric over a setting's seeds. */
export interface Stat {
  /** Seeds that had a value (a metric may be absent in some runs, e.g. before a merge). */
  readonly n: number;
  readonly mean: number | null;
  /** Sample standard deviation (n − 1 in the denominator); 0 for one value. */
  readonly std: number | null;
  /** Half-width of the 95 % confidence interval of the mean (Student t, n − 1 degrees of freedom); null below two values. */
  readonly ci95: number | null;
  readonly min: number | null;
  readonly max: number | null;
  readonly values: readonly number[];
}

/** One finished run as the aggregation reads it. */
export interface CellResult {
  readonly seed: number;
  readonly metrics: readonly RoundMetrics[];
  readonly summary: RunSummary;
}

/** A setting's final metrics over its seeds. */
export interface SettingSummary {
  readonly id: string;
  readonly name: string;
  readonly seeds: readonly number[];
  readonly metrics: Readonly<Record<string, Stat>>;
}

/** One point of a band: a round's mean and spread over the seeds that evaluated it. */
export interface BandPoint {
  readonly round: number;
  readonly mean: number;
  readonly std: number;
  readonly n: number;
}

// t quantiles t(0.975, df) for df = 1..30; above, the normal 1.96 is within 2 %.
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

/** The 0.975 quantile of Student's t with `df` degrees of freedom (df ≥ 1). */
export function tQuantile975(df: number): number {
  if (!Number.isInteger(df) || df < 1) throw new RangeError(`degrees of freedom must be an integer ≥ 1, got ${df}`);
  return df <= T975.length ? T975[df - 1] : 1.96;
}

/** Mean, sample std, 95 % interval, min and max of some values. */
export function stat(values: readonly number[]): Stat {
  const n = values.length;
  if (n === 0) return { n, mean: null, std: null, ci95: null, min: null, max: null, values };
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  return { n, mean, std, ci95: n > 1 ? (tQuantile975(n - 1) * std) / Math.sqrt(n) : null, min: Math.min(...values), max: Math.max(...values), values };
}

const SUMMARY_KEYS = ['mergedAccuracy', 'localAccuracyMean', 'preMergeLocalAccuracyMean', 'bytesSent', 'wallSeconds'] as const;

/**
 * A run's final value of `metric`: the summary's field for the summary's metrics, else the
 * last round's field that holds a number (e.g. trainLoss, consensusDistance, localAccuracyStd).
 */
export function finalValue(run: CellResult, metric: string): number | null {
  if ((SUMMARY_KEYS as readonly string[]).includes(metric)) {
    const v = (run.summary as unknown as Record<string, unknown>)[metric];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  for (let k = run.metrics.length - 1; k >= 0; k--) {
    const v = (run.metrics[k] as unknown as Record<string, unknown>)[metric];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
  }
  return null;
}

/** Whether `metric` names a final metric the aggregation can read. */
export function isKnownMetric(metric: string): boolean {
  const roundKeys: readonly (keyof RoundMetrics)[] = ['localAccuracyMean', 'localAccuracyStd', 'localAccuracyMin', 'localAccuracyMax', 'mergedAccuracy', 'mergedLoss', 'trainLoss', 'consensusDistance', 'bytesSentTotal', 'simSeconds'];
  return (SUMMARY_KEYS as readonly string[]).includes(metric) || (roundKeys as readonly string[]).includes(metric);
}

/** A setting's final metrics over its runs. */
export function summarizeSetting(id: string, name: string, runs: readonly CellResult[], metrics: readonly string[]): SettingSummary {
  const out: Record<string, Stat> = {};
  for (const m of metrics) out[m] = stat(runs.flatMap((r) => (finalValue(r, m) === null ? [] : [finalValue(r, m) as number])));
  return { id, name, seeds: runs.map((r) => r.seed), metrics: out };
}

/** Per-round mean and std of `metric` over the runs, at each round where at least one run has a value. */
export function band(runs: readonly CellResult[], metric: keyof RoundMetrics): BandPoint[] {
  const byRound = new Map<number, number[]>();
  for (const r of runs) {
    for (const m of r.metrics) {
      const v = m[metric];
      if (typeof v !== 'number' || !Number.isFinite(v)) continue;
      let list = byRound.get(m.round);
      if (!list) byRound.set(m.round, (list = []));
      list.push(v);
    }
  }
  return [...byRound.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([round, values]) => {
      const s = stat(values);
      return { round, mean: s.mean as number, std: s.std as number, n: s.n };
    });
}
