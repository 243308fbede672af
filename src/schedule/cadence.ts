// When to communicate and how: every k local steps, an exact global merge at chosen rounds
// (and at the end), Q gossip steps per communication round (DFedSAM-MGS).
// Rounds are 0-based round indices t of T; local steps are counted from 1.
import { ConfigError } from '../util/errors.js';

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new ConfigError(`${name} = ${v}: must be an integer ≥ 1`);
  return v;
}

/** True after local step s (1-based) when s is a multiple of k: a round is k local steps then one exchange. */
export function communicateEvery(k: number): (localStep: number) => boolean {
  positiveInt('communicateEvery k', k);
  return (localStep) => localStep > 0 && localStep % k === 0;
}

/** When exact merges (averages of all peers) happen. */
export interface MergeSpec {
  /** Merge exactly (average of all peers) after the last round. */
  readonly final: boolean;
  /** More 0-based rounds after which to merge exactly. */
  readonly rounds?: readonly number[];
}

/** Whether round t of T ends with an exact global merge: t = T − 1 when `final`, or t listed in `rounds`. */
export function mergeAt(spec: MergeSpec): (round: number, totalRounds: number) => boolean {
  const listed = new Set<number>();
  for (const r of spec.rounds ?? []) {
    if (!Number.isInteger(r) || r < 0) throw new ConfigError(`merge round ${r}: must be a 0-based round index (integer ≥ 0)`);
    listed.add(r);
  }
  return (round, totalRounds) => (spec.final && round === totalRounds - 1) || listed.has(round);
}

/** Q gossip steps (exchange + mix, repeated) in every communication round; Q > 1 is DFedSAM-MGS. */
export function gossipStepsPerRound(q: number): (round: number) => number {
  positiveInt('gossipSteps', q);
  return () => q;
}
