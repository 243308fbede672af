// Communication budget schedules r(p): how much a peer communicates in a round as a function
// of training progress p ∈ [0, 1]. r is the expected number of other peers a peer pulls from
// in the round (the random-r pull of "A Single Merging Suffices"): 0 is no communication,
// 0.2 one pull every fifth round on average, n − 1 everybody.
//
// A round's progress is p = t / T for 0-based round t of T (the fraction of rounds already
// done), so p runs over 0, 1/T, …, (T−1)/T.
//
// Shapes (every budget is linear in its r-values, so scaling a spec scales its curve):
//   fixed(r)                     r(p) = r
//   truncate(rStart, rEnd, p1)   r(p) = rStart for p < p1, rEnd for p ≥ p1
//   window(rBase, rEnd, p1, w)   r(p) = rEnd for p1 ≤ p < p1 + w (and at p = 1 when p1 + w ≥ 1), rBase elsewhere
//   linear(r0, r1)               r(p) = r0 + (r1 − r0)·p
//   cosine(r0, r1)               r(p) = r0 + (r1 − r0)·(1 − cos(π·p))/2
import { ConfigError } from '../util/errors.js';

/** A communication budget curve r(p), one shape per variant. */
export type BudgetSpec =
  | { readonly shape: 'fixed'; readonly r: number }
  | { readonly shape: 'truncate'; readonly rStart: number; readonly rEnd: number; readonly p1: number }
  | { readonly shape: 'window'; readonly rBase: number; readonly rEnd: number; readonly p1: number; readonly w: number }
  | { readonly shape: 'linear'; readonly r0: number; readonly r1: number }
  | { readonly shape: 'cosine'; readonly r0: number; readonly r1: number };

function budgetValue(name: string, r: number): number {
  if (!Number.isFinite(r) || r < 0) throw new ConfigError(`budget ${name} = ${r}: a budget is a finite number of pulls per round ≥ 0`);
  return r;
}

function fraction(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new ConfigError(`budget ${name} = ${p}: must be a fraction of training in [0, 1]`);
  return p;
}

/** The same budget r every round. */
export function fixed(r: number): BudgetSpec {
  return { shape: 'fixed', r: budgetValue('r', r) };
}

/** rStart until fraction p1 of training, then rEnd. */
export function truncate(rStart: number, rEnd: number, p1: number): BudgetSpec {
  return { shape: 'truncate', rStart: budgetValue('rStart', rStart), rEnd: budgetValue('rEnd', rEnd), p1: fraction('p1', p1) };
}

/** rBase, except rEnd during the window of width w that starts at fraction p1. */
export function window(rBase: number, rEnd: number, p1: number, w: number): BudgetSpec {
  return { shape: 'window', rBase: budgetValue('rBase', rBase), rEnd: budgetValue('rEnd', rEnd), p1: fraction('p1', p1), w: fraction('w', w) };
}

/** From r0 at the start to r1 at the end, linearly. */
export function linear(r0: number, r1: number): BudgetSpec {
  return { shape: 'linear', r0: budgetValue('r0', r0), r1: budgetValue('r1', r1) };
}

/** From r0 at the start to r1 at the end, along a half cosine. */
export function cosine(r0: number, r1: number): BudgetSpec {
  return { shape: 'cosine', r0: budgetValue('r0', r0), r1: budgetValue('r1', r1) };
}

/** The shape constructors as one namespace (`budget.window(0, 1, 0.8, 0.2)`), so short names stay unambiguous in the package's root export. */
export const budget = {
  /** The same budget r every round. */
  fixed,
  /** rStart until fraction p1 of training, then rEnd. */
  truncate,
  /** rBase, except rEnd during the window of width w that starts at fraction p1. */
  window,
  /** From r0 at the start to r1 at the end, linearly. */
  linear,
  /** From r0 at the start to r1 at the end, along a half cosine. */
  cosine,
} as const;

/** Progress of 0-based round t of T: t / T. */
export function roundProgress(round: number, totalRounds: number): number {
  if (!Number.isInteger(totalRounds) || totalRounds < 1) throw new RangeError(`totalRounds must be an integer ≥ 1, got ${totalRounds}`);
  if (!Number.isInteger(round) || round < 0 || round >= totalRounds) {
    throw new RangeError(`round must be an integer in [0, ${totalRounds}), got ${round}`);
  }
  return round / totalRounds;
}

/** r(p) of a budget spec, by the formulas at the top of this file. */
export function budgetAt(spec: BudgetSpec, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`progress must be in [0, 1], got ${p}`);
  switch (spec.shape) {
    case 'fixed':
      return spec.r;
    case 'truncate':
      return p < spec.p1 ? spec.rStart : spec.rEnd;
    case 'window': {
      const end = spec.p1 + spec.w;
      return p >= spec.p1 && (p < end || end >= 1) ? spec.rEnd : spec.rBase;
    }
    case 'linear':
      return spec.r0 + (spec.r1 - spec.r0) * p;
    case 'cosine':
      return spec.r0 + ((spec.r1 - spec.r0) * (1 - Math.cos(Math.PI * p))) / 2;
  }
}

/** r for 0-based round t of T. */
export function budgetForRound(spec: BudgetSpec, round: number, totalRounds: number): number {
  return budgetAt(spec, roundProgress(round, totalRounds));
}

/** Σ_{t=0}^{T−1} r(t/T): the expected pulls per peer over a run of T rounds. */
export function totalBudget(spec: BudgetSpec, totalRounds: number): number {
  let s = 0;
  for (let t = 0; t < totalRounds; t++) s += budgetForRound(spec, t, totalRounds);
  return s;
}

/** The same shape with every r-value multiplied by `factor` (so r(p) scales by `factor`). */
export function scaleBudget(spec: BudgetSpec, factor: number): BudgetSpec {
  budgetValue('scale factor', factor);
  switch (spec.shape) {
    case 'fixed':
      return { ...spec, r: spec.r * factor };
    case 'truncate':
      return { ...spec, rStart: spec.rStart * factor, rEnd: spec.rEnd * factor };
    case 'window':
      return { ...spec, rBase: spec.rBase * factor, rEnd: spec.rEnd * factor };
    case 'linear':
    case 'cosine':
      return { ...spec, r0: spec.r0 * factor, r1: spec.r1 * factor };
  }
}

/**
 * `spec` rescaled so that over `totalRounds` rounds it spends the same total budget as
 * `reference`: compare, say, a fixed budget spent evenly with a late window at equal cost.
 */
export function equalBudget(reference: BudgetSpec, spec: BudgetSpec, totalRounds: number): BudgetSpec {
  const want = totalBudget(reference, totalRounds);
  const have = totalBudget(spec, totalRounds);
  if (have === 0) {
    if (want === 0) return spec;
    throw new ConfigError(
      `budget '${spec.shape}' spends nothing over ${totalRounds} rounds, so no scaling matches the reference's ${want}; give it a non-zero r somewhere`,
    );
  }
  return scaleBudget(spec, want / have);
}
