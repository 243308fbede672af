// Equal bytes: the size of what one peer sends per round under each compressor, measured with
// the compression layer itself (not a formula), and the size knob of each method (top-k and
// rand-k ratio, ARC-Top-K row fraction, PowerSGD rank) chosen to match a target.
import type { ParamLayout, Params } from '../../src/params/index.js';
import { paramsFrom } from '../../src/params/index.js';
import { buildCompressor, runGroupRound, type CompressionSpec, type GroupCompressor, type PointwiseCompressor } from '../../src/compression/index.js';
import { Rng } from '../../src/util/rng.js';

/** Bytes one peer puts on the wire in one round: its pointwise message, or the sum of its group phases (each phase goes to every other participant). */
export function messageBytes(spec: CompressionSpec, layout: ParamLayout, seed: number): number {
  const c = buildCompressor(spec, seed);
  const update = (salt: number): Params => {
    const rng = Rng.derive(seed, 'calibration', salt);
    return paramsFrom(layout, Float32Array.from({ length: layout.size }, () => 0.01 * rng.normal()));
  };
  if (c.kind === 'pointwise') {
    const p = c as PointwiseCompressor;
    return p.encode(update(0), p.initialState(layout), { seed, round: 0, sender: 0 }).message.byteLength;
  }
  const g = c as GroupCompressor;
  const peers = [0, 1].map((i) => ({ update: update(i), state: g.initialState(layout) }));
  return runGroupRound(g, peers, { seed, round: 0 }).bytes[0].reduce((a, b) => a + b, 0);
}

export type SizeKnob = 'ratio' | 'rho' | 'rank';

/** Which field of a method's spec sets its message size (undefined: the size is fixed, e.g. sign). */
export function sizeKnob(method: CompressionSpec['method']): SizeKnob | undefined {
  switch (method) {
    case 'top-k':
    case 'rand-k':
    case 'rand-k-unbiased':
      return 'ratio';
    case 'arc-top-k':
      return 'rho';
    case 'powersgd':
    case 'powersgd-plus':
    case 'greedylore':
    case 'random-subspace':
      return 'rank';
    default:
      return undefined;
  }
}

export interface Calibrated {
  readonly spec: CompressionSpec;
  readonly bytes: number;
}

/**
 * The spec with its size knob set so that messageBytes is as close to `target` as the knob
 * allows: bisection over a fraction in (0, 1] (sizes grow with it), or the nearest integer rank.
 */
export function matchBytes(spec: CompressionSpec, target: number, layout: ParamLayout, seed: number): Calibrated {
  const knob = sizeKnob(spec.method);
  const size = (s: CompressionSpec) => messageBytes(s, layout, seed);
  if (knob === undefined) return { spec, bytes: size(spec) };
  if (knob === 'rank') {
    let best: Calibrated | undefined;
    for (let rank = 1; rank <= 64; rank++) {
      const s = { ...spec, rank };
      const bytes = size(s);
      if (!best || Math.abs(bytes - target) < Math.abs(best.bytes - target)) best = { spec: s, bytes };
      if (bytes > target) break;
    }
    return best!;
  }
  let lo = 1e-5;
  let hi = 1;
  for (let i = 0; i < 40 && hi - lo > 1e-7; i++) {
    const mid = (lo + hi) / 2;
    if (size({ ...spec, [knob]: mid }) > target) hi = mid;
    else lo = mid;
  }
  const candidates = [lo, hi].map((v) => {
    const s = { ...spec, [knob]: Number(v.toPrecision(4)) };
    return { spec: s, bytes: size(s) };
  });
  return candidates.reduce((a, b) => (Math.abs(b.bytes - target) < Math.abs(a.bytes - target) ? b : a));
}
