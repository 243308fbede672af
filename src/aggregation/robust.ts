// What the robust rules share: the group they aggregate (received models, plus own by default
// in a peer's neighbourhood) and the refusal of a group too small for the configured f.
import type { Params } from '../params/index.js';
import { AggregationError } from '../util/errors.js';
import type { AggregationContext, Contribution } from './types.js';

/** Options shared by the Byzantine-robust rules. */
export interface RobustOptions {
  /** Number of faulty (Byzantine) contributions the rule must withstand. */
  readonly f: number;
  /** Aggregate own params together with the received ones (a peer's neighbourhood). Default true; a server aggregating clients sets false. */
  readonly includeSelf?: boolean;
}

/** The vectors a robust rule works on: own first when included, then the received in order. */
export function robustGroup(own: Params, received: readonly Contribution[], includeSelf: boolean): Float32Array[] {
  const xs = received.map((c) => c.params.data);
  return includeSelf ? [own.data, ...xs] : xs;
}

/** Throws when a group of `size` is below what the rule needs to withstand f faulty members. */
export function requireGroup(rule: string, size: number, f: number, minSize: number, need: string, ctx?: AggregationContext): void {
  if (size < minSize) {
    const at = ctx?.round === undefined ? '' : ` (round ${ctx.round})`;
    throw new AggregationError(
      `${rule}${at}: a group of ${size} cannot withstand f = ${f} faulty peers (needs n ≥ ${need} = ${minSize}); wait for more contributions or lower f`,
    );
  }
}
