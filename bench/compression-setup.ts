// What the compression bench and the one-op timing script share: the 10M-float update (one
// 2,500 × 4,000 layer, seeded Gaussian) and the run's seed, so both time the same work.
import { makeLayout, paramsFrom, type ParamLayout, type Params } from '../src/params/index.js';
import { Rng } from '../src/util/rng.js';

/** Values in the benchmark update. */
export const FLOATS = 10_000_000;
/** The run seed of every benchmark compressor. */
export const SEED = 1;

/** A seeded standard-normal update over `layout`. */
export function gaussian(layout: ParamLayout, seed: number): Params {
  const rng = new Rng(seed);
  const data = new Float32Array(layout.size);
  for (let i = 0; i < data.length; i++) data[i] = rng.normal();
  return paramsFrom(layout, data);
}

/** The benchmark update: FLOATS values in one 2,500 × 4,000 layer. */
export function benchUpdate(): Params {
  return gaussian(makeLayout([{ name: 'w', shape: [2500, 4000] }]), 3);
}
