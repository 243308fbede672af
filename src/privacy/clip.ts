// Per-peer update clipping: the update u is scaled to L2 norm at most C, u · min(1, C/‖u‖₂),
// which bounds any one peer's influence on an aggregate (the sensitivity the noise is sized to).

/** A clipped update and what clipping did to it. */
export interface Clipped {
  readonly update: Float32Array;
  /** ‖u‖₂ before clipping. */
  readonly norm: number;
  /** The factor applied, min(1, C/‖u‖₂) (1 for a zero update). */
  readonly scale: number;
}

/** L2 norm of a flat vector, summed in float64. */
export function l2Norm(x: Float32Array): number {
  let s = 0;
  for (let k = 0; k < x.length; k++) s += x[k] * x[k];
  return Math.sqrt(s);
}

/** Scales `update` to L2 norm at most `maxNorm` (a new array; the input is not changed). */
export function clipUpdate(update: Float32Array, maxNorm: number): Clipped {
  if (!(maxNorm > 0) || !Number.isFinite(maxNorm)) throw new RangeError(`clip norm must be a positive finite number, got ${maxNorm}`);
  const norm = l2Norm(update);
  const scale = norm > maxNorm ? maxNorm / norm : 1;
  const out = new Float32Array(update.length);
  for (let k = 0; k < update.length; k++) out[k] = update[k] * scale;
  return { update: out, norm, scale };
}
