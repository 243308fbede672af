// Numbers over seeds for the RESULTS.md written from sweeps: mean ± sample std in the units the
// tables use, and paired comparisons of two settings (the same seed gives both the same split,
// initialisation and batches, so their per-seed differences are what noise acts on).
import { stat, tQuantile975 } from '../../src/sweep/aggregate.js';

const mean = (xs: readonly number[]) => stat(xs).mean as number;

/** "91.3% ± 0.3 pts" (mean ± sample std over seeds; one value: just the value). */
export function pctStat(values: readonly number[], digits = 1): string {
  if (values.length === 0) return '—';
  const s = stat(values);
  const m = `${((s.mean as number) * 100).toFixed(digits)}%`;
  return values.length > 1 ? `${m} ± ${((s.std as number) * 100).toFixed(digits)} pts` : m;
}

/** "+29.2 ± 0.7 pts" for differences of accuracies. */
export function ptsStat(values: readonly number[], digits = 1): string {
  if (values.length === 0) return '—';
  const s = stat(values);
  const m = `${(s.mean as number) >= 0 ? '+' : '−'}${Math.abs((s.mean as number) * 100).toFixed(digits)}`;
  return values.length > 1 ? `${m} ± ${((s.std as number) * 100).toFixed(digits)} pts` : `${m} pts`;
}

/** "12.3 ± 1.5" for plain numbers (rounds, MB, seconds). */
export function numStat(values: readonly number[], digits = 1): string {
  if (values.length === 0) return '—';
  const s = stat(values);
  return values.length > 1 ? `${(s.mean as number).toFixed(digits)} ± ${(s.std as number).toFixed(digits)}` : (s.mean as number).toFixed(digits);
}

/** Accuracies per seed as "84.5%, 82.5%, 86.1%". */
export function perSeed(values: readonly number[], digits = 1): string {
  return values.map((v) => `${(v * 100).toFixed(digits)}%`).join(', ');
}

/** A paired comparison of a and b over the same seeds (a[k] and b[k] share seed k). */
export interface Paired {
  /** Mean of a − b. */
  readonly diff: number;
  /** Sample std of the per-seed differences (0 for one seed). */
  readonly std: number;
  /** 95 % t interval of the mean difference; null with one seed. */
  readonly low: number | null;
  readonly high: number | null;
  /** Seeds where a > b. */
  readonly wins: number;
  readonly n: number;
  /** The interval excludes 0: the gap is larger than seed noise explains. */
  readonly clear: boolean;
}

export function paired(a: readonly number[], b: readonly number[]): Paired {
  if (a.length !== b.length || a.length === 0) throw new RangeError(`paired comparison needs two equally long, non-empty lists, got ${a.length} and ${b.length}`);
  const d = a.map((x, k) => x - b[k]);
  const s = stat(d);
  const half = d.length > 1 ? (tQuantile975(d.length - 1) * (s.std as number)) / Math.sqrt(d.length) : null;
  const diff = s.mean as number;
  const low = half === null ? null : diff - half;
  const high = half === null ? null : diff + half;
  return { diff, std: s.std as number, low, high, wins: a.filter((x, k) => x > b[k]).length, n: d.length, clear: low !== null && high !== null && (low > 0 || high < 0) };
}

const pts = (x: number, digits = 1) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(digits)}`;

/** A metric of a setting's runs with the seed of each value. */
export interface SeedValues {
  readonly seeds: readonly number[];
  readonly values: readonly number[];
}

/** The values of both at the seeds both have, in the same order. */
export function alignSeeds(a: SeedValues, b: SeedValues): [number[], number[]] {
  const seeds = a.seeds.filter((x) => b.seeds.includes(x));
  return [seeds.map((x) => a.values[a.seeds.indexOf(x)]), seeds.map((x) => b.values[b.seeds.indexOf(x)])];
}

/**
 * "late − even = −1.6 ± 1.2 pts (95 % interval −4.6 to +1.4); late ahead on 0 of 3 seeds:
 * within seed noise" — accuracies, in points.
 */
export function pairedText(aName: string, a: SeedValues, bName: string, b: SeedValues): string {
  const p = paired(...alignSeeds(a, b));
  const interval = p.low === null ? '' : ` (95 % interval ${pts(p.low)} to ${pts(p.high as number)})`;
  const noise = p.low === null ? 'one seed, so no noise estimate' : p.clear ? 'larger than seed noise' : 'within seed noise';
  return `${aName} − ${bName} = ${pts(p.diff)} ± ${Math.abs(p.std * 100).toFixed(1)} pts over seeds${interval}; ${aName} ahead on ${p.wins} of ${p.n} seed${p.n > 1 ? 's' : ''}: ${noise}`;
}

/** Seeds whose value is ≥ bar, as "3 of 3". */
export function countAtLeast(values: readonly number[], bar: number): string {
  return `${values.filter((v) => v >= bar).length} of ${values.length}`;
}

export { mean };
