// The Gaussian mechanism on a (clipped) update: add N(0, std²) to every coordinate, from a
// seeded generator so a run's noise is reproducible.
import { Rng } from '../util/rng.js';
import { clipUpdate } from './clip.js';

/** x + N(0, std²) per coordinate, as a new array. */
export function addGaussianNoise(x: Float32Array, std: number, rng: Rng): Float32Array {
  if (!(std >= 0) || !Number.isFinite(std)) throw new RangeError(`noise std must be a finite number ≥ 0, got ${std}`);
  const out = new Float32Array(x.length);
  for (let k = 0; k < x.length; k++) out[k] = x[k] + std * rng.normal();
  return out;
}

/** Local DP: clip to C, then add noise of std σ·C (the peer releases only the noisy update). */
export function privatizeUpdate(update: Float32Array, clipNorm: number, noiseMultiplier: number, rng: Rng): Float32Array {
  return addGaussianNoise(clipUpdate(update, clipNorm).update, noiseMultiplier * clipNorm, rng);
}

/**
 * Central DP (DP-FedAvg, McMahan et al. 2018): the server sums the clipped updates of the round,
 * adds N(0, (σC)²) to the sum and divides by the participant count m, so the mean carries
 * noise of std σ·C/m.
 */
export function centralNoiseStd(clipNorm: number, noiseMultiplier: number, participants: number): number {
  if (!(participants >= 1)) throw new RangeError(`central noise needs at least one participant, got ${participants}`);
  return (noiseMultiplier * clipNorm) / participants;
}
