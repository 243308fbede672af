// Batched GEMM with a fused epilogue: for each batch p, C = op(A)·op(B), then bias, ReLU or a
// ReLU-derivative mask on the way out. Every matrix is a flat float32 binding addressed as
// offset + p·batchStride + row·ld + col, so P peers' parameters can be the rows of one [P, d]
// buffer (each row in the Params layout) and one dispatch serves every peer.
import type { OptimizerSpec } from '../optimizer-spec.js';
import { declare, flatKernel, readsInt, reads, writes, type Binding, type Kernel } from './wgsl.js';
import { updateBindings, updateStatements } from './nn.js';

/** How a GEMM operand is stored: element (row, col) at offset + p·batchStride + row·ld + col. */
export interface Operand {
  /** Stored as the transpose of the logical operand (A stored [K, M]; B stored [N, K]). */
  readonly transposed: boolean;
  readonly offset: number;
  readonly batchStride: number;
  readonly ld: number;
  /** Stored rows are looked up through the Idx binding: row r of batch p is Idx[p·gatherRows + r]. */
  readonly gatherRows?: number;
  /** A's logical row at this index reads 1 for every k (not stored): the bias row that turns X^T·G into [dW; db]. */
  readonly onesRow?: number;
}

/** Where the product goes: Out[offset + p·batchStride + m·ld + n]. */
export interface Destination {
  readonly offset: number;
  readonly batchStride: number;
  readonly ld: number;
}

export type Epilogue =
  /** out = act(acc + bias[p, n]); the bias is read from the B binding at bias.offset + p·bias.batchStride. */
  | { readonly kind: 'store'; readonly bias?: { readonly offset: number; readonly batchStride: number }; readonly relu?: boolean }
  /** out = acc · (Mask > 0), Mask laid out like the destination: the ReLU derivative fused into dH. */
  | { readonly kind: 'mask' }
  /** acc is the gradient of the parameters at the destination (in W): apply the optimizer's update there (updateStatements). */
  | { readonly kind: 'update'; readonly optimizer: OptimizerSpec };

/** Tile shape: TM×TN outputs per workgroup, RM×RN per thread, TK deep. */
export interface GemmTile {
  readonly TM: number;
  readonly TN: number;
  readonly RM: number;
  readonly RN: number;
  readonly TK: number;
}

export interface GemmSpec {
  readonly name: string;
  readonly batch: number;
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly a: Operand;
  readonly b: Operand;
  readonly out: Destination;
  readonly epilogue: Epilogue;
  readonly tile?: GemmTile;
  /**
   * Split the K sum over this many workgroups (for few outputs and a long K: a 32×128 output
   * over K = 784 is two 32×64 tiles, two busy multiprocessors of 132). The kernel then writes
   * raw partial sums to Out as [splitK, batch, M, N]; gemmSplitReduceKernel adds them up and
   * applies the epilogue.
   */
  readonly splitK?: number;
}

/** The tile picked by the output's shape (measured on an H100 for the model sizes here). */
export function defaultTile(M: number, N: number): GemmTile {
  if (M <= 32) return { TM: 32, TN: 64, RM: 2, RN: 4, TK: 16 };
  if (M >= 128 && N >= 4096) return { TM: 128, TN: 128, RM: 8, RN: 8, TK: 8 };
  return { TM: 64, TN: 64, RM: 4, RN: 4, TK: 16 };
}

function address(name: 'A' | 'B', op: Operand, row: string, col: string): string {
  const r = op.gatherRows ? `Idx[p * ${op.gatherRows} + ${row}]` : row;
  return `${name}[${op.offset} + p * ${op.batchStride} + (${r}) * ${op.ld} + ${col}]`;
}

/** The bindings of a GEMM: A, B, then Idx if an operand is gathered, Mask for 'mask', Out last. */
export function gemmBindings(spec: GemmSpec): Binding[] {
  const gathered = Boolean(spec.a.gatherRows || spec.b.gatherRows);
  return [
    ...reads('A', 'B'),
    ...(gathered ? [readsInt('Idx')] : []),
    ...(spec.epilogue.kind === 'mask' ? reads('Mask') : []),
    ...(spec.epilogue.kind === 'update' ? updateBindings(spec.epilogue.optimizer) : [writes('Out')]),
  ];
}

/** The GEMM kernel for a spec. */
export function gemmKernel(spec: GemmSpec): Kernel {
  const { batch, M, N, K, a, b, epilogue } = spec;
  const t = spec.tile ?? defaultTile(M, N);
  const S = spec.splitK ?? 1;
  // Each split covers a whole number of TK-deep tiles.
  const KC = Math.ceil(K / S / t.TK) * t.TK;
  if (S > 1 && (S - 1) * KC >= K) throw new Error(`gemm: splitK ${S} leaves an empty split of K = ${K}`);
  const out: Destination = S > 1 ? { offset: 0, batchStride: M * N, ld: N } : spec.out;
  const threadsX = t.TN / t.RN;
  const threadsY = t.TM / t.RM;
  const threads = threadsX * threadsY;
  if ((t.TM * t.TK) % threads || (t.TN * t.TK) % threads) throw new Error(`gemm: tile ${JSON.stringify(t)} does not split evenly over ${threads} threads`);
  // Tile loads walk the stored (contiguous) column fastest, so neighbouring threads read
  // neighbouring addresses whichever way the operand is stored.
  const aLoad = a.transposed
    ? { kk: 'i / TM', mm: 'i % TM', addr: address('A', a, 'k0 + kk', 'm0 + mm') }
    : { kk: 'i % TK', mm: 'i / TK', addr: address('A', a, 'm0 + mm', 'k0 + kk') };
  const bLoad = b.transposed
    ? { kk: 'i % TK', nn: 'i / TK', addr: address('B', b, 'n0 + nn', 'k0 + kk') }
    : { kk: 'i / TN', nn: 'i % TN', addr: address('B', b, 'k0 + kk', 'n0 + nn') };
  const o = `${S > 1 ? `ks * ${batch * M * N} + ` : ''}${out.offset} + p * ${out.batchStride} + m * ${out.ld} + n`;
  let store: string;
  if (S > 1) {
    store = `Out[${o}] = acc[r * RN + c];`;
  } else if (epilogue.kind === 'store') {
    const bias = epilogue.bias ? ` + B[${epilogue.bias.offset} + p * ${epilogue.bias.batchStride} + n]` : '';
    store = `let v = acc[r * RN + c]${bias}; Out[${o}] = ${epilogue.relu ? 'max(v, 0.0)' : 'v'};`;
  } else if (epilogue.kind === 'update') {
    store = `let o_ = ${o}; ${updateStatements(epilogue.optimizer, 'o_', 'acc[r * RN + c]')}`;
  } else {
    store = `Out[${o}] = select(0.0, acc[r * RN + c], Mask[p * ${out.batchStride} + m * ${out.ld} + n] > 0.0);`;
  }
  const bindings = S > 1 ? gemmBindings({ ...spec, epilogue: { kind: 'store' } }) : gemmBindings(spec);
  const code = `${declare(bindings)}
const GM = ${M}; const GN = ${N}; const GK = ${K};
const TM = ${t.TM}; const TN = ${t.TN}; const TK = ${t.TK}; const RM = ${t.RM}; const RN = ${t.RN};
const TX = ${threadsX}; const NT = ${threads};
const LA = ${(t.TM * t.TK) / threads}; const LB = ${(t.TN * t.TK) / threads};
const TY = ${threadsY};
// Shared tiles padded by one word a row, so power-of-two strides do not share a bank.
const SA = ${t.TM + 1}; const SB = ${t.TN + 1};
var<workgroup> As : array<f32, ${t.TK * (t.TM + 1)}>;
var<workgroup> Bs : array<f32, ${t.TK * (t.TN + 1)}>;
fn loadA(p : i32, m0 : i32, k0 : i32, i : i32) -> f32 {
  let kk = ${aLoad.kk}; let mm = ${aLoad.mm};${a.onesRow !== undefined ? `
  if (m0 + mm == ${a.onesRow}) { return select(0.0, 1.0, k0 + kk < GK); }` : ''}
  if (m0 + mm < GM && k0 + kk < GK) { return ${aLoad.addr}; }
  return 0.0;
}
fn loadB(p : i32, n0 : i32, k0 : i32, i : i32) -> f32 {
  let kk = ${bLoad.kk}; let nn = ${bLoad.nn};
  if (n0 + nn < GN && k0 + kk < GK) { return ${bLoad.addr}; }
  return 0.0;
}
@compute @workgroup_size(${threadsX}, ${threadsY}, 1)
fn main(@builtin(workgroup_id) wg : vec3u, @builtin(local_invocation_id) lid : vec3u) {
  let p = i32(wg.z) / ${S};
  let ks = i32(wg.z) % ${S};
  let kBegin = ks * ${KC};
  let kEnd = min(GK, kBegin + ${KC});
  let m0 = i32(wg.y) * TM;
  let n0 = i32(wg.x) * TN;
  let tx = i32(lid.x);
  let ty = i32(lid.y);
  let tid = ty * TX + tx;
  var acc : array<f32, ${t.RM * t.RN}>;
  // The next tiles are fetched into registers while the current ones are multiplied.
  var pa : array<f32, LA>;
  var pb : array<f32, LB>;
  for (var j = 0; j < LA; j = j + 1) { pa[j] = loadA(p, m0, kBegin, tid + j * NT); }
  for (var j = 0; j < LB; j = j + 1) { pb[j] = loadB(p, n0, kBegin, tid + j * NT); }
  for (var k0 = kBegin; k0 < kEnd; k0 = k0 + TK) {
    for (var j = 0; j < LA; j = j + 1) {
      let i = tid + j * NT;
      let kk = ${aLoad.kk}; let mm = ${aLoad.mm};
      As[kk * SA + mm] = pa[j];
    }
    for (var j = 0; j < LB; j = j + 1) {
      let i = tid + j * NT;
      let kk = ${bLoad.kk}; let nn = ${bLoad.nn};
      Bs[kk * SB + nn] = pb[j];
    }
    workgroupBarrier();
    if (k0 + TK < kEnd) {
      for (var j = 0; j < LA; j = j + 1) { pa[j] = loadA(p, m0, k0 + TK, tid + j * NT); }
      for (var j = 0; j < LB; j = j + 1) { pb[j] = loadB(p, n0, k0 + TK, tid + j * NT); }
    }
    for (var kk = 0; kk < TK; kk = kk + 1) {
      var av : array<f32, ${t.RM}>;
      for (var r = 0; r < RM; r = r + 1) { av[r] = As[kk * SA + ty + r * TY]; }
      for (var c = 0; c < RN; c = c + 1) {
        let bv = Bs[kk * SB + tx + c * TX];
        for (var r = 0; r < RM; r = r + 1) { acc[r * RN + c] = fma(av[r], bv, acc[r * RN + c]); }
      }
    }
    workgroupBarrier();
  }
  for (var r = 0; r < RM; r = r + 1) {
    let m = m0 + ty + r * TY;
    for (var c = 0; c < RN; c = c + 1) {
      let n = n0 + tx + c * TX;
      if (m < GM && n < GN) { ${store} }
    }
  }
}`;
  const name = S > 1 ? `${spec.name} (split ${S})` : spec.name;
  return { name, code, bindings, grid: [Math.ceil(N / t.TN), Math.ceil(M / t.TM), batch * S] };
}

/**
 * The second half of a split-K GEMM: Out = epilogue(Σ_s Partial[s, p, m, n]), with the bias read
 * from the B binding and the mask from Mask as gemmKernel's epilogues do.
 */
export function gemmSplitReduceKernel(spec: GemmSpec): Kernel {
  const { batch, M, N, out, epilogue } = spec;
  const S = spec.splitK ?? 1;
  const bias = epilogue.kind === 'store' ? epilogue.bias : undefined;
  const bindings = [
    ...reads('Partial'), ...(bias ? reads('B') : []), ...(epilogue.kind === 'mask' ? reads('Mask') : []),
    ...(epilogue.kind === 'update' ? updateBindings(epilogue.optimizer) : [writes('Out')]),
  ];
  const o = `${out.offset} + p * ${out.batchStride} + m * ${out.ld} + n`;
  let store: string;
  if (epilogue.kind === 'update') {
    store = `let o_ = ${o}; ${updateStatements(epilogue.optimizer, 'o_', 'acc')}`;
  } else if (epilogue.kind === 'store') {
    const v = bias ? `acc + B[${bias.offset} + p * ${bias.batchStride} + n]` : 'acc';
    store = `Out[${o}] = ${epilogue.relu ? `max(${v}, 0.0)` : v};`;
  } else {
    store = `Out[${o}] = select(0.0, acc, Mask[p * ${out.batchStride} + m * ${out.ld} + n] > 0.0);`;
  }
  return flatKernel(
    `${spec.name} (sum of ${S})`,
    bindings,
    batch * M * N,
    `  let p = i / ${M * N};
  let m = (i / ${N}) % ${M};
  let n = i % ${N};
  var acc = 0.0;
  for (var s = 0; s < ${S}; s = s + 1) { acc = acc + Partial[s * ${batch * M * N} + i]; }
  ${store}`,
  );
}
