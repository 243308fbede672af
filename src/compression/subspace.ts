// Random-subspace projection (GoLore-style). For a matrix layer G (rows × cols) and rank
// r < rows, both sides build B = Z(ZᵀZ)^(−1/2) from Z ~ N(0,1)^{rows×r} drawn from the seed
// shared by the whole group (per round and layer, not per sender, so the projections of all
// peers live in one subspace and average there). The sender sends BᵀG (r × cols); the
// receiver reconstructs B·(BᵀG). Layers where r ≥ rows, and 1-D tensors, go dense.
import { assertFiniteOutput, expectSection, type LayerCoder, type LayerInfo } from './coders.js';
import { layerRng } from './context.js';
import { matrixShape } from './layers.js';
import { gaussianMatrix, gram, mulLeftTransposed, mulSmall, symmetricEigen } from './linalg.js';

/** The rows × r orthonormal projector of a layer (the symmetric orthonormalisation of Z). */
export function subspaceProjector(layer: LayerInfo, rows: number, r: number): Float64Array {
  const z = gaussianMatrix(layerRng(layer.ctx, 'random-subspace', layer.index, false, layer.salt), rows, r);
  const { values, vectors } = symmetricEigen(gram(z, rows, r), r);
  // (ZᵀZ)^(−1/2) = W Λ^(−1/2) Wᵀ
  const invSqrt = new Float64Array(r * r);
  for (let a = 0; a < r; a++) {
    for (let b = 0; b < r; b++) {
      let s = 0;
      for (let k = 0; k < r; k++) s += (vectors[a * r + k] * vectors[b * r + k]) / Math.sqrt(values[k]);
      invSqrt[a * r + b] = s;
    }
  }
  return mulSmall(z, rows, r, invSqrt, r);
}

/** Random subspace (GoLore-style): projects each matrix onto a random rank-`rank` subspace shared by the group. */
export function randomSubspaceCoder(rank: number, seed: number): LayerCoder {
  if (!Number.isInteger(rank) || rank < 1) throw new RangeError(`random-subspace: rank must be a positive integer, got ${rank}`);
  const projected = (layer: LayerInfo) => {
    const m = matrixShape(layer.spec);
    return m && rank < m.rows ? m : undefined;
  };
  return {
    method: 'random-subspace',
    params: { rank, seed },
    encodeLayer(values, decoded, layer) {
      const m = projected(layer);
      if (!m) {
        decoded.set(values);
        return { coding: 'f32', values };
      }
      const b = subspaceProjector(layer, m.rows, rank);
      // BᵀG as r × cols (row-major): transpose of Gᵀ·B (cols × r).
      const gtb = mulLeftTransposed(values, m.rows, m.cols, b, rank);
      const y = new Float32Array(rank * m.cols);
      for (let c = 0; c < m.cols; c++) for (let a = 0; a < rank; a++) y[a * m.cols + c] = gtb[c * rank + a];
      reconstruct(b, y, m.rows, m.cols, rank, decoded);
      return { coding: 'f32', values: y };
    },
    decodeLayer(section, out, layer) {
      const m = projected(layer);
      if (!m) {
        out.set(expectSection(section, 'f32', layer.spec.size, layer).values);
        return;
      }
      const y = expectSection(section, 'f32', rank * m.cols, layer).values;
      reconstruct(subspaceProjector(layer, m.rows, rank), y, m.rows, m.cols, rank, out);
      assertFiniteOutput(out, `layer '${layer.spec.name}'`);
    },
  };
}

/** out = B·Y with B rows × r (float64) and Y r × cols (float32). */
function reconstruct(b: Float64Array, y: Float32Array, rows: number, cols: number, r: number, out: Float32Array): void {
  const acc = new Float64Array(cols);
  for (let i = 0; i < rows; i++) {
    acc.fill(0);
    for (let a = 0; a < r; a++) {
      const w = b[i * r + a];
      const yo = a * cols;
      for (let c = 0; c < cols; c++) acc[c] += w * y[yo + c];
    }
    out.set(acc, i * cols);
  }
}
