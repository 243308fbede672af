// Params: a model's weights as one contiguous Float32Array with named tensor views.
// One buffer (not one array per tensor) so that aggregation, mixing and the batched engine
// work on flat vectors, while compressors and variance-corrected averaging see each tensor
// through its spec. Pure data; no tfjs.

import { AggregationError } from '../util/errors.js';

/** What a tensor is, for rules that treat kinds differently (VCA leaves `norm` and biases of size 1 alone). */
export type TensorRole = 'weight' | 'bias' | 'norm';

/** One named tensor inside a flat parameter buffer: its shape, role and where its elements lie. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: TensorRole;
  /** Offset of the first element in the flat buffer. */
  readonly offset: number;
  /** Number of elements (product of shape). */
  readonly size: number;
}

/** The ordered tensors of a model and the total length of its flat buffer. */
export interface ParamLayout {
  readonly tensors: readonly TensorSpec[];
  /** Total number of elements. */
  readonly size: number;
}

/** A model's weights: one Float32Array laid out by `layout`. */
export interface Params {
  readonly layout: ParamLayout;
  readonly data: Float32Array;
}

/** A tensor to place in a layout (`makeLayout` assigns offsets); role defaults to 'weight'. */
export interface TensorDecl {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role?: TensorRole;
}

/** Builds a layout from tensor declarations, packing them in order. */
export function makeLayout(decls: readonly TensorDecl[]): ParamLayout {
  const names = new Set<string>();
  const tensors: TensorSpec[] = [];
  let offset = 0;
  for (const d of decls) {
    if (names.has(d.name)) throw new RangeError(`duplicate tensor name '${d.name}' in layout`);
    names.add(d.name);
    if (d.shape.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new RangeError(`tensor '${d.name}' has an invalid shape [${d.shape.join(', ')}]`);
    }
    const size = d.shape.reduce((a, b) => a * b, 1);
    tensors.push({ name: d.name, shape: [...d.shape], role: d.role ?? (d.shape.length === 1 ? 'bias' : 'weight'), offset, size });
    offset += size;
  }
  return { tensors, size: offset };
}

/** Params of the layout with every element 0. */
export function zerosParams(layout: ParamLayout): Params {
  return { layout, data: new Float32Array(layout.size) };
}

/** A copy of the weights that shares the layout but not the buffer. */
export function cloneParams(p: Params): Params {
  return { layout: p.layout, data: p.data.slice() };
}

/** Wraps an existing buffer as Params (no copy); throws RangeError if its length does not match the layout. */
export function paramsFrom(layout: ParamLayout, data: Float32Array): Params {
  if (data.length !== layout.size) {
    throw new RangeError(`params buffer has ${data.length} elements, the layout needs ${layout.size}`);
  }
  return { layout, data };
}

/** A view of one tensor's elements (shares memory with the buffer). */
export function tensorView(p: Params, spec: TensorSpec): Float32Array {
  return p.data.subarray(spec.offset, spec.offset + spec.size);
}

/** The tensor with this name; throws RangeError listing the names the layout has. */
export function findTensor(layout: ParamLayout, name: string): TensorSpec {
  const t = layout.tensors.find((s) => s.name === name);
  if (!t) throw new RangeError(`no tensor named '${name}' in layout (have: ${layout.tensors.map((s) => s.name).join(', ')})`);
  return t;
}

/** A stable text fingerprint of a layout: names, shapes and roles. Peers compare it before exchanging. */
export function layoutFingerprint(layout: ParamLayout): string {
  return layout.tensors.map((t) => `${t.name}:${t.shape.join('x')}:${t.role}`).join(';');
}

/** True when two layouts have the same tensor names, shapes and roles in the same order. */
export function sameLayout(a: ParamLayout, b: ParamLayout): boolean {
  return a === b || layoutFingerprint(a) === layoutFingerprint(b);
}

/** Throws AggregationError when two layouts differ, naming both fingerprints. */
export function assertSameLayout(a: ParamLayout, b: ParamLayout, what = 'params'): void {
  if (!sameLayout(a, b)) {
    throw new AggregationError(`${what}: tensor layouts differ (${layoutFingerprint(a)} vs ${layoutFingerprint(b)})`);
  }
}

// ---- flat vector kernels (hot paths; plain loops the JIT vectorises well) ----

/** out = a - b */
export function sub(out: Float32Array, a: Float32Array, b: Float32Array): Float32Array {
  const n = out.length;
  for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
  return out;
}

/** y += alpha * x */
export function axpy(y: Float32Array, alpha: number, x: Float32Array): Float32Array {
  const n = y.length;
  for (let i = 0; i < n; i++) y[i] += alpha * x[i];
  return y;
}

/** x *= alpha */
export function scale(x: Float32Array, alpha: number): Float32Array {
  const n = x.length;
  for (let i = 0; i < n; i++) x[i] *= alpha;
  return x;
}

/** Euclidean dot product, accumulated in float64. */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) s += a[i] * b[i];
  return s;
}

/** ‖a‖², accumulated in float64. */
export function squaredNorm(a: Float32Array): number {
  return dot(a, a);
}

/** ‖a − b‖², accumulated in float64. */
export function squaredDistance(a: Float32Array, b: Float32Array): number {
  let s = 0;
  const n = a.length;
  for (let i = 0; i < n; i++) {
    const d = a[i] - b[i];
    s += d * d;
  }
  return s;
}

/** True when every element is finite (no NaN, no ±Infinity). */
export function allFinite(a: Float32Array): boolean {
  const n = a.length;
  for (let i = 0; i < n; i++) {
    // x - x is NaN for NaN and ±Infinity, 0 otherwise.
    if (a[i] - a[i] !== 0) return false;
  }
  return true;
}
