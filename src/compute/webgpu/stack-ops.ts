// Kernels over a [P, d] stack of peers' parameters beyond the training step: gossip mixing by
// compressed rows, column means over a set of rows (exact merges, the mean model, consensus
// distance), and per-peer evaluation sums. One invocation per output value; every P·d index
// fits an i32 for the stacks these run (P·d < 2^31).
import { f32, flatKernel, reads, readsInt, writes, type Kernel } from './wgsl.js';

/**
 * Out[i, c] = Base[i, c] + scale · Σ_k Vals[k] · (Nbr[Cols[k], c] − Ref[i, c]) over the entries
 * k of row i (RowStart[i] … RowStart[i+1] − 1): gossip mixing in the per-peer rule's
 * difference form. Base, Ref and Nbr may be the same buffer; Out must be another.
 */
export function mixRowsKernel(peers: number, dim: number, scale: number): Kernel {
  const scaled = scale === 1 ? 'acc' : `${f32(scale)} * acc`;
  return flatKernel(
    `mix rows ${peers}×${dim}`,
    [...reads('Base', 'Ref', 'Nbr'), readsInt('RowStart'), readsInt('Cols'), ...reads('Vals'), writes('Out')],
    peers * dim,
    `  let row = i / ${dim};
  let c = i - row * ${dim};
  let r = Ref[i];
  var acc = 0.0;
  for (var k = RowStart[row]; k < RowStart[row + 1]; k = k + 1) {
    acc = acc + Vals[k] * (Nbr[Cols[k] * ${dim} + c] - r);
  }
  Out[i] = Base[i] + ${scaled};`,
  );
}

/**
 * Out[i, c] += scale · Σ_k Vals[k] · (Nbr[Cols[k], c] − Ref[i, c]) over the entries k of row i
 * (Ref taken as 0 when `withRef` is false): one source block's share of a mixing product when
 * the stack is split over several buffers (./../../model/webgpu-blocks.ts). Out starts as Base
 * (or zero) and gets one dispatch per source block.
 */
export function mixRowsAddKernel(peers: number, dim: number, scale: number, withRef: boolean): Kernel {
  const scaled = scale === 1 ? 'acc' : `${f32(scale)} * acc`;
  return flatKernel(
    `mix rows add ${peers}×${dim}${withRef ? '' : ' no ref'}`,
    [...reads(...(withRef ? ['Ref', 'Nbr'] : ['Nbr'])), readsInt('RowStart'), readsInt('Cols'), ...reads('Vals'), writes('Out')],
    peers * dim,
    `  let row = i / ${dim};
  let c = i - row * ${dim};
  let r = ${withRef ? 'Ref[i]' : '0.0'};
  var acc = 0.0;
  for (var k = RowStart[row]; k < RowStart[row + 1]; k = k + 1) {
    acc = acc + Vals[k] * (Nbr[Cols[k] * ${dim} + c] - r);
  }
  Out[i] = Out[i] + ${scaled};`,
  );
}

/** Every row Rows[j] of X becomes the row Src (an exact merge whose mean was computed elsewhere). */
export function fillRowsKernel(dim: number, rows: number): Kernel {
  return flatKernel(
    `fill rows ${rows}×${dim}`,
    [writes('X'), readsInt('Rows'), ...reads('Src')],
    dim,
    `  let v = Src[i];
  for (var j = 0; j < ${rows}; j = j + 1) { X[Rows[j] * ${dim} + i] = v; }`,
  );
}

/**
 * For every column c: Mean[c] = the mean of X[Rows[j], c] over the R rows, and
 * Sq[c] = Σ_j (X[Rows[j], c] − Mean[c])² (two passes, no cancellation).
 */
export function columnMomentsKernel(dim: number, rows: number): Kernel {
  return flatKernel(
    `column moments ${rows}×${dim}`,
    [...reads('X'), readsInt('Rows'), writes('Mean'), writes('Sq')],
    dim,
    `  var s = 0.0;
  for (var j = 0; j < ${rows}; j = j + 1) { s = s + X[Rows[j] * ${dim} + i]; }
  let m = s / ${f32(rows)};
  var q = 0.0;
  for (var j = 0; j < ${rows}; j = j + 1) { let e = X[Rows[j] * ${dim} + i] - m; q = q + e * e; }
  Mean[i] = m;
  Sq[i] = q;`,
  );
}

/** Every row Rows[j] of X becomes the mean of those R rows (an exact merge), column by column. */
export function mergeRowsKernel(dim: number, rows: number): Kernel {
  return flatKernel(
    `merge rows ${rows}×${dim}`,
    [writes('X'), readsInt('Rows')],
    dim,
    `  var s = 0.0;
  for (var j = 0; j < ${rows}; j = j + 1) { s = s + X[Rows[j] * ${dim} + i]; }
  let m = s / ${f32(rows)};
  for (var j = 0; j < ${rows}; j = j + 1) { X[Rows[j] * ${dim} + i] = m; }`,
  );
}

/**
 * Stats[2p] += Σ_b loss and Stats[2p + 1] += Σ_b hits over peer p's B rows of G [P·B, C + 2]
 * (the softmax cross-entropy kernel's output): per-peer evaluation sums.
 */
export function peerEvalAccumulateKernel(peers: number, batch: number, classes: number): Kernel {
  const ld = classes + 2;
  return flatKernel(
    `peer eval sums ${peers}×${batch}`,
    [...reads('G'), writes('Stats')],
    2 * peers,
    `  let p = i / 2;
  let col = ${classes} + i - 2 * p;
  var s = 0.0;
  for (var b = 0; b < ${batch}; b = b + 1) { s = s + G[(p * ${batch} + b) * ${ld} + col]; }
  Stats[i] = Stats[i] + s;`,
  );
}
