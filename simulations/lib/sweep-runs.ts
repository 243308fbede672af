// A study's sweep as it came back from a run elsewhere: the sweep's folder (or a .tar.gz of
// it) with one run directory per cell and run-info.json (where and how it ran), read against
// the committed sweep file so every cell is checked to be a run of the config the file gives.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { readRun, type RunData } from '../../src/report/index.js';
import { loadSweepFile, type Cell, type Sweep } from '../../src/sweep/spec.js';
import { cellDir } from '../../src/sweep/run.js';
import { CONFIG_FILE } from '../../src/report/run-dir.js';
import { InputError } from '../../src/util/errors.js';

/** What the sweep driver records beside the run directories. */
export const runInfoSchema = z.object({
  sweep: z.string(),
  sweepFile: z.string(),
  workers: z.number().int().positive(),
  /** The --set overrides the sweep ran with (key=value). */
  overrides: z.array(z.string()),
  exitCode: z.number().int(),
  stoppedAtDeadline: z.boolean(),
  startedAt: z.string(),
  wallSeconds: z.number().nonnegative(),
  cores: z.number().int().positive(),
  cpuModel: z.string(),
  memoryGiB: z.number(),
  node: z.string(),
  platform: z.string(),
  /** The commit the CLI was bundled from. */
  commit: z.string().optional(),
  /** How the CLI ran: bundled into one file with esbuild (the default, for hosts without npm) or from source with tsx. */
  cli: z.enum(['bundle', 'source']).optional(),
  /** Sweeps that ran on the same machine at the same time (their cells shared the cores). */
  alongside: z.array(z.string()).optional(),
});
export type RunInfo = z.infer<typeof runInfoSchema>;

export const RUN_INFO_FILE = 'run-info.json';

/** The overrides that leave a study's configs as committed (the configs already say wasm). */
export const NEUTRAL_OVERRIDES: readonly string[] = ['backend=wasm'];

/** One setting of a sweep with its finished runs, in seed order. */
export interface SettingRuns {
  readonly id: string;
  readonly name: string;
  /** The setting's config at its first seed (what every seed shares but the seed). */
  readonly config: Cell['config'];
  readonly seeds: readonly number[];
  readonly runs: readonly RunData[];
}

export interface StudySweep {
  readonly name: string;
  readonly dir: string;
  readonly sweep: Sweep;
  readonly info: RunInfo;
  readonly settings: readonly SettingRuns[];
  /** Cells without a finished run, one line each. */
  readonly missing: readonly string[];
}

/**
 * Copies `<source>/<name>/`, or unpacks `<source>/<name>.tar.gz`, into `<runsRoot>/<name>`
 * (replacing an earlier copy there: the source may be read-only, and the combined sweep report
 * is written beside the runs), then reads its run-info.json and every cell of `sweepFile`
 * (expanded with the overrides it ran with). A cell whose folder holds a run of another config
 * is refused (the sweep file changed since).
 */
export function openSweep(source: string, name: string, sweepFile: string, runsRoot: string): StudySweep {
  const folder = join(source, name);
  const archive = join(source, `${name}.tar.gz`);
  const dir = join(runsRoot, name);
  if (!existsSync(folder) && !existsSync(archive)) {
    throw new InputError(`${source} holds neither ${name}/ nor ${name}.tar.gz; pass the folder the sweep archives were brought back to`);
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(runsRoot, { recursive: true });
  // --no-preserve=mode: the copy must be writable even when the source is read-only.
  if (existsSync(folder)) execFileSync('cp', ['-r', '--no-preserve=mode', folder, dir]);
  else execFileSync('tar', ['-xzf', archive, '-C', runsRoot]);
  if (!existsSync(dir)) throw new InputError(`${archive} does not unpack into a folder ${name}/; it is not an archive of the sweep ${name}`);
  const infoFile = join(dir, RUN_INFO_FILE);
  if (!existsSync(infoFile)) throw new InputError(`${dir} has no ${RUN_INFO_FILE} (machine, wall time, overrides); it was not written by the sweep driver`);
  const parsed = runInfoSchema.safeParse(JSON.parse(readFileSync(infoFile, 'utf8')));
  if (!parsed.success) throw new InputError(`${infoFile}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const info = parsed.data;
  const sweep = loadSweepFile(sweepFile, info.overrides);
  const missing: string[] = [];
  const settings = sweep.settings.map((s) => {
    const cells = sweep.cells.filter((c) => c.settingId === s.id);
    const done = cells.filter((c) => {
      if (finishedRunOf(dir, c)) return true;
      missing.push(`${c.setting}, seed ${c.seed}`);
      return false;
    });
    return { id: s.id, name: s.name, config: cells[0].config, seeds: done.map((c) => c.seed), runs: done.map((c) => readRun(cellDir(dir, c))) };
  });
  const empty = settings.filter((s) => s.runs.length === 0);
  if (empty.length) {
    throw new InputError(`${dir}: no finished run of ${empty.map((s) => `'${s.name}'`).join(', ')}; run the sweep again with this folder as --out (finished cells are kept) and bring it back`);
  }
  return { name, dir, sweep, info, settings, missing };
}

/**
 * Whether the cell's folder holds a finished run (summary.json) of the config the sweep file
 * gives it. Compared are the values the sweep file sets (base config, overrides, seed), not the
 * defaults filled in around them: the runs may come from an older build whose schema had fewer
 * defaults. A run of another config is refused, naming the key.
 */
export function finishedRunOf(dir: string, cell: Cell): boolean {
  const run = cellDir(dir, cell);
  if (!existsSync(join(run, 'summary.json'))) return false;
  let written: unknown;
  try {
    written = JSON.parse(readFileSync(join(run, CONFIG_FILE), 'utf8'));
  } catch {
    throw new InputError(`${run} holds a finished run without a readable ${CONFIG_FILE}; it is not a run directory of this sweep`);
  }
  const differs = firstMismatch(cell.raw, written);
  if (differs !== null) throw new InputError(`${run} holds a run of a different config (${differs}); the sweep file changed since the sweep ran`);
  return true;
}

/** The first key the expected (as written) value sets that the run's config does not hold; null when all match. */
export function firstMismatch(expected: unknown, actual: unknown, path = ''): string | null {
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return `${path || '(top level)'}: ${JSON.stringify(actual)} in the run, an object in the sweep`;
    for (const [k, v] of Object.entries(expected)) {
      const d = firstMismatch(v, (actual as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d !== null) return d;
    }
    return null;
  }
  return JSON.stringify(expected) === JSON.stringify(actual) ? null : `${path}: ${JSON.stringify(actual)} in the run, ${JSON.stringify(expected)} in the sweep`;
}

/** A setting by its folder name (id); throws naming the settings there are. */
export function setting(s: StudySweep, id: string): SettingRuns {
  const found = s.settings.find((x) => x.id === id);
  if (!found) throw new InputError(`sweep ${s.name} has no setting '${id}'; it has ${s.settings.map((x) => x.id).join(', ')}`);
  return found;
}

/** One number per finished run of a setting, with its seed. */
export function seedValues(x: SettingRuns, f: (run: RunData) => number): { seeds: readonly number[]; values: number[] } {
  return { seeds: x.seeds, values: x.runs.map(f) };
}

/** The overrides beyond the neutral ones: a sweep run with any is a smoke check, not a result. */
export function extraOverrides(info: RunInfo): string[] {
  return info.overrides.filter((o) => !NEUTRAL_OVERRIDES.includes(o));
}
