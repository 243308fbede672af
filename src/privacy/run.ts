// The privacy a run's settings give each peer, as (ε, δ) over the rounds so far.
//   central (server mode, DP-FedAvg): neighbouring runs differ by one peer's participation
//     (add/remove), so the sum of clipped updates has sensitivity C; the server adds noise of
//     std σ·C to the sum; a peer takes part with probability q (the participation rate).
//   local (gossip): each peer noises its own clipped update before it leaves the peer;
//     neighbouring runs differ by anything in that peer's data (replacement), so the update's
//     sensitivity is 2C and the mechanism's multiplier is σ/2; q = 1 (it sends every round).
import { privacySpent } from './rdp.js';

/** Privacy settings of a run (config key `privacy`). */
export interface PrivacySpec {
  readonly mode: 'local' | 'central';
  /** C: L2 norm each peer's update is clipped to. */
  readonly clipNorm: number;
  /** σ: noise std in units of C. */
  readonly noiseMultiplier: number;
  /** δ the reported ε is for. */
  readonly delta: number;
}

/** ε (for the spec's δ) after `rounds` rounds; `participation` is the server mode's sampling rate. */
export function runPrivacy(spec: PrivacySpec, rounds: number, participation = 1): { epsilon: number; delta: number; order: number } {
  const part =
    spec.mode === 'central'
      ? { q: participation, noiseMultiplier: spec.noiseMultiplier, steps: rounds }
      : { q: 1, noiseMultiplier: spec.noiseMultiplier / 2, steps: rounds };
  const { epsilon, order } = privacySpent([part], spec.delta);
  return { epsilon, delta: spec.delta, order };
}
