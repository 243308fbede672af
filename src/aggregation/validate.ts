// The one entry check every rule runs before its kernel: same layout everywhere, finite
// numbers only, usable weights, no sender counted twice. Kernels after it are plain loops.
import { allFinite, layoutFingerprint, sameLayout, type Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import type { AggregationContext, Contribution } from './types.js';

export interface ValidateOptions {
  /** Refuse when the contribution weights sum to zero (rules that divide by that sum). */
  readonly positiveTotal?: boolean;
}

function where(rule: string, ctx: AggregationContext | undefined): string {
  return ctx?.round === undefined ? rule : `${rule} (round ${ctx.round})`;
}

/** Checks one Params against a layout; used for own params, contributions and context extras. */
export function checkParams(p: Params, expected: Params, what: string, label: string): void {
  if (!sameLayout(p.layout, expected.layout)) {
    throw new AggregationError(
      `${label}: ${what} has tensor layout ${layoutFingerprint(p.layout)} but this peer has ${layoutFingerprint(expected.layout)}; only peers running the same model can aggregate`,
    );
  }
  if (p.data.length !== expected.data.length) {
    throw new AggregationError(`${label}: ${what} has ${p.data.length} values, the layout needs ${expected.data.length}; the update was decoded wrongly`);
  }
  if (!allFinite(p.data)) {
    throw new AggregationError(`${label}: ${what} contains NaN or Infinity; drop it (a diverged or corrupted model)`);
  }
}

/** Validates the inputs of one aggregation and returns the sum of the contribution weights. */
export function validateInputs(
  rule: string,
  own: Params,
  received: readonly Contribution[],
  ctx: AggregationContext | undefined,
  options: ValidateOptions = {},
): number {
  const label = where(rule, ctx);
  if (own.data.length !== own.layout.size) {
    throw new AggregationError(`${label}: own params have ${own.data.length} values but their layout needs ${own.layout.size}`);
  }
  checkParams(own, own, 'own params', label);
  const seen = new Set<string>();
  let total = 0;
  for (const c of received) {
    if (seen.has(c.from)) {
      throw new AggregationError(`${label}: two contributions from '${c.from}'; pass each sender once`);
    }
    seen.add(c.from);
    if (!Number.isFinite(c.weight) || c.weight < 0) {
      throw new AggregationError(`${label}: contribution from '${c.from}' has weight ${c.weight}; weights must be finite and ≥ 0`);
    }
    checkParams(c.params, own, `contribution from '${c.from}'`, label);
    total += c.weight;
  }
  if (options.positiveTotal && !(total > 0)) {
    throw new AggregationError(
      received.length === 0
        ? `${label}: nothing to aggregate (no contributions); skip aggregation this round instead`
        : `${label}: contribution weights sum to 0; give at least one sender a positive weight (its sample count)`,
    );
  }
  return total;
}
