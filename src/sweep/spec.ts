// A sweep file: a base config, settings (a list, a grid over config keys, or both: every list
// entry × every grid point) and seeds. Expanding it gives one cell per setting and seed, each
// a config as a user would have written it, validated like a file.
import { dirname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import YAML from 'yaml';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../util/errors.js';
import { parseConfigInput, readConfigInput, type RunConfig } from '../peer/config.js';
import { parseOverride, setPath } from '../peer/overrides.js';
import { isKnownMetric } from './aggregate.js';

/** Final metrics the combined report summarizes by default. */
export const DEFAULT_METRICS = ['mergedAccuracy', 'localAccuracyMean', 'bytesSent'] as const;

const keyValues = z.record(z.string().min(1), z.unknown());

/** Zod schema of a sweep file. */
export const sweepSchema = z
  .strictObject({
    name: z.string().min(1).optional().describe('label of the sweep in its report (default: the file name)'),
    base: z.string().min(1).optional().describe('run config file every cell starts from, relative to the sweep file'),
    config: z.record(z.string(), z.unknown()).optional().describe('inline base config (after `base`, key by key at the top level)'),
    set: keyValues.optional().describe('key.path: value overrides applied to every cell'),
    settings: z
      .array(
        z.strictObject({
          name: z.string().min(1).describe('the setting\'s name in tables and plots'),
          base: z.string().min(1).optional().describe('this setting\'s own base config file (instead of the sweep\'s)'),
          set: keyValues.optional().describe('key.path: value overrides of this setting'),
        }),
      )
      .min(1)
      .optional()
      .describe('the settings to compare, one by one'),
    grid: z
      .record(z.string().min(1), z.array(z.unknown()).min(1))
      .optional()
      .describe('key.path: [values]; every combination is a setting (times every entry of settings)'),
    seeds: z.array(z.number().int().min(0)).min(1).describe('the seeds every setting runs with'),
    metrics: z.array(z.string().min(1)).min(1).optional().describe(`final metrics of the combined table (default ${DEFAULT_METRICS.join(', ')})`),
    workers: z.number().int().min(1).optional().describe('parallel runs (default: the number of CPU cores)'),
  })
  .describe('a gossipfl sweep');

export type SweepSpec = z.output<typeof sweepSchema>;

/** One run of a sweep: a setting at a seed, with its validated config. */
export interface Cell {
  /** `<setting id>/seed-<n>`: the cell's folder under the sweep's output. */
  readonly id: string;
  readonly setting: string;
  readonly settingId: string;
  readonly seed: number;
  /** The config as written (base, overrides, seed), before validation: what the cell's run reads. */
  readonly raw: Record<string, unknown>;
  readonly config: RunConfig;
}

/** A parsed sweep: its name, the cells in order (setting by setting, seeds inside) and options. */
export interface Sweep {
  readonly name: string;
  readonly settings: readonly { readonly id: string; readonly name: string }[];
  readonly cells: readonly Cell[];
  readonly metrics: readonly string[];
  readonly workers?: number;
}

/** Reads and expands a sweep file; any bad cell is refused before anything runs. */
export function loadSweepFile(path: string, overrides: readonly string[] = []): Sweep {
  let raw: unknown;
  try {
    raw = YAML.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError(code ? `cannot read sweep file ${path}: ${code}` : `${path}: not valid YAML/JSON (${(err as Error).message.split('\n')[0]})`);
  }
  if (raw === null || raw === undefined) throw new ConfigError(`${path}: the sweep file is empty; it needs at least seeds and a base config (see docs/simulations.md)`);
  const parsed = sweepSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`);
    throw new ConfigError(`${path}: invalid sweep — ${lines.join('; ')}`);
  }
  const name = parsed.data.name ?? path.replace(/^.*[\\/]/, '').replace(/\.(ya?ml|json)$/, '');
  return expandSweep(parsed.data, name, (file) => readConfigInput(isAbsolute(file) ? file : resolve(dirname(path), file)), path, overrides);
}

/**
 * The cells of a sweep, in order. `readBase` reads a base config file; `overrides` (the
 * command line's --set) apply to every cell last, before the seed.
 */
export function expandSweep(spec: SweepSpec, name: string, readBase: (file: string) => Record<string, unknown>, source: string, overrides: readonly string[] = []): Sweep {
  const entries = spec.settings ?? [{ name: '', set: {} as Record<string, unknown> }];
  const grid = gridPoints(spec.grid ?? {});
  if (entries.some((e) => !('base' in e) || e.base === undefined) && spec.base === undefined && spec.config === undefined) {
    throw new ConfigError(`${source}: no base config: set base (a config file) or config (inline), or give every setting its own base`);
  }
  const settings: { id: string; name: string; raw: Record<string, unknown> }[] = [];
  for (const entry of entries) {
    const entryBase = 'base' in entry && entry.base !== undefined ? entry.base : spec.base;
    for (const point of grid) {
      let raw: Record<string, unknown> = { ...(entryBase !== undefined ? readBase(entryBase) : {}), ...(spec.config ?? {}) };
      for (const [key, value] of [...Object.entries(spec.set ?? {}), ...Object.entries(entry.set ?? {}), ...point]) raw = setPath(raw, key.split('.'), value, key);
      const label = [entry.name, ...point.map(([key, value]) => `${key.split('.').pop()}=${formatValue(value)}`)].filter(Boolean).join(', ');
      settings.push({ id: slug(label || 'base'), name: label || 'base', raw });
    }
  }
  for (const m of spec.metrics ?? []) {
    if (!isKnownMetric(m)) throw new ConfigError(`${source}: metrics: '${m}' is not a metric of a run; use mergedAccuracy, localAccuracyMean, preMergeLocalAccuracyMean, bytesSent, wallSeconds or a field of metrics.jsonl (trainLoss, consensusDistance, ...)`);
  }
  const ids = new Set<string>();
  for (const s of settings) {
    if (ids.has(s.id)) throw new ConfigError(`${source}: two settings share the folder name '${s.id}'; give the settings distinct names`);
    ids.add(s.id);
  }
  const cells: Cell[] = [];
  for (const s of settings) {
    for (const seed of spec.seeds) {
      let raw = s.raw;
      for (const o of overrides.map(parseOverride)) raw = setPath(raw, o.path, o.value, o.path.join('.'));
      raw = { ...raw, seed, name: `${s.name} (seed ${seed})` };
      const id = `${s.id}/seed-${seed}`;
      cells.push({ id, setting: s.name, settingId: s.id, seed, raw, config: parseConfigInput(raw, `${source}, setting '${s.name}', seed ${seed}`) });
    }
  }
  return { name, settings: settings.map(({ id, name: n }) => ({ id, name: n })), cells, metrics: spec.metrics ?? [...DEFAULT_METRICS], ...(spec.workers ? { workers: spec.workers } : {}) };
}

/** Every combination of the grid's values, keys in file order (one empty point for no grid). */
export function gridPoints(grid: Record<string, readonly unknown[]>): Array<Array<[string, unknown]>> {
  let points: Array<Array<[string, unknown]>> = [[]];
  for (const [key, values] of Object.entries(grid)) points = points.flatMap((p) => values.map((v) => [...p, [key, v] as [string, unknown]]));
  return points;
}

function formatValue(v: unknown): string {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
}

/** A folder name for a setting: letters, digits, '.', '-' and '_' only. */
export function slug(label: string): string {
  return label
    .replace(/[=:]/g, '-')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+|_+$/g, '')
    .toLowerCase();
}
