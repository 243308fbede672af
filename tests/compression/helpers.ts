// Builders for compression tests: layouts with matrix, conv and bias tensors, seeded updates.
import { makeLayout, paramsFrom, type ParamLayout, type Params } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';

/** A small model: a 16×24 matrix, a bias, a 4×3×2×2 conv kernel and a 40×8 matrix. */
export function smallLayout(): ParamLayout {
  return makeLayout([
    { name: 'fc1.w', shape: [16, 24] },
    { name: 'fc1.b', shape: [16] },
    { name: 'conv.w', shape: [4, 3, 2, 2] },
    { name: 'fc2.w', shape: [40, 8] },
  ]);
}

export function flatLayout(n: number): ParamLayout {
  return makeLayout([{ name: 'w', shape: [n], role: 'weight' }]);
}

export function randomUpdate(layout: ParamLayout, seed: number, std = 1): Params {
  const rng = new Rng(seed);
  const data = new Float32Array(layout.size);
  for (let i = 0; i < data.length; i++) data[i] = std * rng.normal();
  return paramsFrom(layout, data);
}

export function sqNorm(a: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return s;
}

export function sqDist(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s;
}

/** A rows × cols matrix of rank s: U (rows × s) times W (s × cols), entries N(0,1). */
export function lowRankMatrix(rng: Rng, rows: number, cols: number, s: number, basis?: Float32Array): Float32Array {
  const u = basis ?? Float32Array.from({ length: rows * s }, () => rng.normal());
  const w = Float32Array.from({ length: s * cols }, () => rng.normal());
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let a = 0; a < s; a++) for (let c = 0; c < cols; c++) out[i * cols + c] += u[i * s + a] * w[a * cols + c];
  return out;
}
