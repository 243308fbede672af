// Kernels as plain data: a WGSL source, its storage bindings in binding order and the grid it
// is dispatched on. Sizes are baked into the source (each distinct shape compiles once), so a
// kernel needs no uniform buffer; what changes between steps (the batch, the step's learning
// rate) is bound as a different range of a buffer.

/** One storage binding of a kernel. */
export interface Binding {
  readonly name: string;
  readonly type: 'f32' | 'i32';
  readonly access: 'read' | 'read_write';
}

/** A compute kernel ready to compile and dispatch. */
export interface Kernel {
  readonly name: string;
  readonly code: string;
  readonly bindings: readonly Binding[];
  readonly grid: readonly [number, number, number];
}

/** Read-only f32 bindings, by name. */
export function reads(...names: string[]): Binding[] {
  return names.map((name) => ({ name, type: 'f32', access: 'read' }));
}

/** A read-write f32 binding. */
export function writes(name: string): Binding {
  return { name, type: 'f32', access: 'read_write' };
}

/** A read-only i32 binding (labels, row indices). */
export function readsInt(name: string): Binding {
  return { name, type: 'i32', access: 'read' };
}

/** The WGSL declarations of the bindings, in order. */
export function declare(bindings: readonly Binding[]): string {
  return bindings
    .map((b, i) => `@group(0) @binding(${i}) var<storage, ${b.access}> ${b.name} : array<${b.type}>;`)
    .join('\n');
}

/** A WGSL f32 literal. */
export function f32(x: number): string {
  if (!Number.isFinite(x)) throw new Error(`not a finite WGSL literal: ${x}`);
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

const FLAT_WORKGROUP = 256;
const MAX_GROUPS_PER_DIM = 65535;

/**
 * A kernel with one invocation per index in [0, n): `body` sees `i` (i32) and returns early for
 * nothing (the bound check is done). Grids past 65,535 workgroups fold into a second dimension.
 */
export function flatKernel(name: string, bindings: readonly Binding[], n: number, body: string, prelude = ''): Kernel {
  const groups = Math.max(1, Math.ceil(n / FLAT_WORKGROUP));
  const gx = Math.min(groups, MAX_GROUPS_PER_DIM);
  const gy = Math.ceil(groups / gx);
  const code = `${declare(bindings)}
${prelude}
@compute @workgroup_size(${FLAT_WORKGROUP})
fn main(@builtin(global_invocation_id) gid : vec3u) {
  let i = i32(gid.x + gid.y * ${gx * FLAT_WORKGROUP}u);
  if (i >= ${n}) { return; }
${body}
}`;
  return { name, code, bindings, grid: [gx, gy, 1] };
}
