// `--set key.path=value` overrides: each sets one key of a config as written (before
// validation), so the result goes through exactly the checks a file does. Values are read as
// YAML, so `0.1`, `true`, `ring`, `[5, 10]` and `{ kind: iid }` mean what they would in a file.
import YAML from 'yaml';
import { ConfigError } from '../util/errors.js';

/** One parsed override: the key path (segments) and its value. */
export interface Override {
  readonly path: readonly string[];
  readonly value: unknown;
}

/** Parses `a.b.c=value`; refuses a missing `=`, an empty key or segment, or a value that is not YAML. */
export function parseOverride(text: string): Override {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${text}: expected key.path=value (e.g. --set data.partition.alpha=0.1)`);
  const key = text.slice(0, eq).trim();
  const path = key.split('.');
  if (path.some((p) => p.trim() === '')) throw new ConfigError(`--set ${text}: the key '${key}' has an empty part; write it as section.key (e.g. training.batchSize)`);
  let value: unknown;
  try {
    value = YAML.parse(text.slice(eq + 1));
  } catch (err) {
    throw new ConfigError(`--set ${text}: the value is not valid YAML (${(err as Error).message.split('\n')[0]})`);
  }
  return { path: path.map((p) => p.trim()), value: value === null && text.slice(eq + 1).trim() === '' ? '' : value };
}

/** A copy of `raw` with the value at `path` set; sections on the way are created, other keys kept. */
export function setPath(raw: Record<string, unknown>, path: readonly string[], value: unknown, label = path.join('.')): Record<string, unknown> {
  const [head, ...rest] = path;
  if (rest.length === 0) return { ...raw, [head]: value };
  const inner = raw[head];
  if (inner !== undefined && (inner === null || typeof inner !== 'object')) {
    throw new ConfigError(`--set ${label}: ${head} is ${JSON.stringify(inner)}, not a section, so it has no key ${rest[0]}`);
  }
  if (Array.isArray(inner)) {
    const index = Number(rest[0]);
    if (!Number.isInteger(index) || index < 0 || index > inner.length) {
      throw new ConfigError(`--set ${label}: ${head} is a list of ${inner.length}; index it with 0..${inner.length} instead of '${rest[0]}'`);
    }
    const copy = [...inner];
    copy[index] = rest.length === 1 ? value : setPath((copy[index] ?? {}) as Record<string, unknown>, rest.slice(1), value, label);
    return { ...raw, [head]: copy };
  }
  return { ...raw, [head]: setPath((inner ?? {}) as Record<string, unknown>, rest, value, label) };
}

/** Applies `key.path=value` strings in order (a later one wins). */
export function applyOverrides(raw: Record<string, unknown>, overrides: readonly string[]): Record<string, unknown> {
  return overrides.map(parseOverride).reduce((acc, o) => setPath(acc, o.path, o.value, o.path.join('.')), raw);
}
