// Plain-data state (numbers, strings, booleans, null, arrays, records and Float32Array /
// Float64Array) as a JSON tree plus a list of typed vectors, for the checkpoint's rule-state
// section. The compressors keep their memory in such records (see docs/compression.md), so the
// checkpoint can carry any of them without knowing its fields.

/** A typed vector of the tree, by index. */
export type StateVector = Float32Array | Float64Array;

/** The JSON form: every non-primitive node is a one-key record saying what it is. */
export type StateTree = null | boolean | string | number | { f32: number } | { f64: number } | { a: StateTree[] } | { o: Record<string, StateTree> } | { u: 0 };

/** Splits `value` into a JSON tree and the typed vectors it refers to (appended to `vectors`). */
export function flattenState(value: unknown, vectors: StateVector[], where = 'state'): StateTree {
  if (value === undefined) return { u: 0 };
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`${where} is ${value}; a checkpoint keeps finite numbers only`);
    return value;
  }
  if (value instanceof Float32Array) return { f32: vectors.push(value) - 1 };
  if (value instanceof Float64Array) return { f64: vectors.push(value) - 1 };
  if (Array.isArray(value)) return { a: value.map((v, k) => flattenState(v, vectors, `${where}[${k}]`)) };
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return { o: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, flattenState(v, vectors, `${where}.${k}`)])) };
  }
  throw new TypeError(`${where}: a checkpoint keeps plain data and Float32/Float64 arrays, not ${Object.prototype.toString.call(value)}`);
}

/** Rebuilds the value of a tree from its vectors; throws Error naming what is malformed. */
export function unflattenState(tree: StateTree, vectors: readonly StateVector[], where = 'state'): unknown {
  if (tree === null || typeof tree === 'boolean' || typeof tree === 'string' || typeof tree === 'number') return tree;
  if (typeof tree !== 'object') throw new Error(`${where} is not a state node`);
  const vector = (k: unknown, kind: 'f32' | 'f64'): StateVector => {
    const v = Number.isInteger(k) ? vectors[k as number] : undefined;
    if (!v || (kind === 'f32') !== v instanceof Float32Array) throw new Error(`${where} names ${kind} vector ${String(k)}, which the section does not hold`);
    return v;
  };
  if ('u' in tree) return undefined;
  if ('f32' in tree) return vector(tree.f32, 'f32');
  if ('f64' in tree) return vector(tree.f64, 'f64');
  if ('a' in tree && Array.isArray(tree.a)) return tree.a.map((t, k) => unflattenState(t, vectors, `${where}[${k}]`));
  if ('o' in tree && tree.o !== null && typeof tree.o === 'object') {
    return Object.fromEntries(Object.entries(tree.o).map(([k, t]) => [k, unflattenState(t, vectors, `${where}.${k}`)]));
  }
  throw new Error(`${where} is not a state node`);
}

/**
 * Where `value` differs in shape from `template` (a fresh state of the same run), or null: the
 * same kinds, keys and array lengths, the same vector types and lengths. A null in the template
 * may hold null or a vector (memory that starts empty, such as a warm start).
 */
export function shapeMismatch(value: unknown, template: unknown, where = 'state'): string | null {
  const kind = (v: unknown) => (v instanceof Float32Array ? 'Float32Array' : v instanceof Float64Array ? 'Float64Array' : Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v);
  if (template === null) return value === null || ArrayBuffer.isView(value) ? null : `${where} is ${kind(value)}, this run keeps null or a vector`;
  if (kind(value) !== kind(template)) return `${where} is ${kind(value)}, this run keeps ${kind(template)}`;
  if (template instanceof Float32Array || template instanceof Float64Array) {
    const n = (value as StateVector).length;
    return n === template.length ? null : `${where} holds ${n} values, this model needs ${template.length}`;
  }
  if (Array.isArray(template)) {
    const v = value as unknown[];
    if (v.length !== template.length) return `${where} has ${v.length} entries, this run keeps ${template.length}`;
    for (let k = 0; k < v.length; k++) {
      const m = shapeMismatch(v[k], template[k], `${where}[${k}]`);
      if (m) return m;
    }
    return null;
  }
  if (typeof template === 'object') {
    const v = value as Record<string, unknown>;
    const keys = Object.keys(template as object).sort();
    const got = Object.keys(v).sort();
    if (keys.join(',') !== got.join(',')) return `${where} has fields {${got.join(', ')}}, this run keeps {${keys.join(', ')}}`;
    for (const k of keys) {
      const m = shapeMismatch(v[k], (template as Record<string, unknown>)[k], `${where}.${k}`);
      if (m) return m;
    }
  }
  return null;
}
