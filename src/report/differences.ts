// What sets overlaid runs apart: the config keys whose values differ between the runs, so the
// report can say "these runs differ in mode, α and compressor" in one table.

/** The differing keys (dotted paths) and each run's value of them as text ('—' where unset). */
export interface ConfigDifferences {
  keys: string[];
  rows: Array<{ run: string; values: string[] }>;
}

/** Keys a reader looks for first when runs are compared; the others follow alphabetically. */
const FIRST = ['mode', 'data.partition.kind', 'data.partition.alpha', 'topology.name', 'compression.method', 'aggregation.name', 'peers', 'seed'];

/** Leaves of a config as dotted paths; arrays are one leaf (their JSON text). */
export function flattenConfig(value: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (prefix) {
    out.set(prefix, typeof value === 'string' ? value : JSON.stringify(value));
  }
  return out;
}

/** The keys on which the runs that carry a config disagree; empty when fewer than two carry one. */
export function configDifferences(runs: ReadonlyArray<{ name: string; config?: unknown }>): ConfigDifferences {
  const withConfig = runs.filter((r) => r.config !== undefined);
  if (withConfig.length < 2) return { keys: [], rows: [] };
  const flat = withConfig.map((r) => flattenConfig(r.config));
  const all = new Set(flat.flatMap((f) => [...f.keys()]));
  const differing = [...all].filter((k) => new Set(flat.map((f) => f.get(k) ?? '—')).size > 1);
  const rank = (k: string) => (FIRST.includes(k) ? FIRST.indexOf(k) : FIRST.length);
  const keys = differing.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return { keys, rows: withConfig.map((r, i) => ({ run: r.name, values: keys.map((k) => flat[i].get(k) ?? '—') })) };
}
