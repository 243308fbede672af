// Small builders for aggregation tests: hand-made vectors and seeded random models.
import { makeLayout, paramsFrom, type ParamLayout, type Params } from '../../src/params/index.js';
import type { Contribution } from '../../src/aggregation/index.js';
import { Rng } from '../../src/util/rng.js';

/** One tensor 'w' of the given length (role weight). */
export function flatLayout(n: number): ParamLayout {
  return makeLayout([{ name: 'w', shape: [n], role: 'weight' }]);
}

export function vec(layout: ParamLayout, values: readonly number[]): Params {
  return paramsFrom(layout, Float32Array.from(values));
}

export function contrib(from: string, params: Params, weight = 1): Contribution {
  return { from, params, weight };
}

/** Normal(mean, std) draws in a given layout, seeded. */
export function randomParams(layout: ParamLayout, rng: Rng, std = 1, mean = 0): Params {
  const data = new Float32Array(layout.size);
  for (let i = 0; i < data.length; i++) data[i] = mean + std * rng.normal();
  return paramsFrom(layout, data);
}

/** A copy of the values as plain numbers (for toEqual against hand-written arrays). */
export function values(p: Params | Float32Array): number[] {
  return Array.from(p instanceof Float32Array ? p : p.data);
}
