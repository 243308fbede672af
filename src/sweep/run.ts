// Running a sweep: one `gossipfl simulate` process per cell, `workers` at a time, each into
// its own run directory <out>/<setting>/seed-<n>. Resumable: a cell whose folder holds a
// finished run of the same config is skipped; a half-finished one (its staged partial folder,
// or a folder without summary.json) is run again. The combined report reads the finished cells.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError } from '../util/errors.js';
import { CONFIG_FILE } from '../report/run-dir.js';
import { readRun } from '../report/read-run.js';
import { parseProgressLine } from './progress-line.js';
import type { Cell, Sweep } from './spec.js';
import { band, summarizeSetting, type BandPoint, type CellResult, type SettingSummary } from './aggregate.js';
import { BAND_METRICS } from './report.js';

/** What happens to a cell, as the progress display and the caller see it. */
export type SweepEvent =
  | { readonly kind: 'skip'; readonly cell: Cell }
  | { readonly kind: 'start'; readonly cell: Cell }
  | { readonly kind: 'round'; readonly cell: Cell; readonly round: number; readonly rounds: number; readonly info: Record<string, string> }
  | { readonly kind: 'end'; readonly cell: Cell; readonly code: number; readonly seconds: number; readonly error?: string };

export interface SweepRunOptions {
  /** The sweep's output folder. */
  readonly out: string;
  readonly workers: number;
  /** How to start the gossipfl CLI (default: this process's node, flags and script). */
  readonly cli?: readonly string[];
  /** Plug-in modules every worker imports before it reads its cell's config (`--plugin`). */
  readonly plugins?: readonly string[];
  readonly onEvent?: (e: SweepEvent) => void;
}

/** How a cell's run ended. */
export interface CellOutcome {
  readonly cell: Cell;
  readonly status: 'skipped' | 'done' | 'failed';
  readonly error?: string;
}

/** The run directory of a cell. */
export const cellDir = (out: string, cell: Cell) => join(out, cell.settingId, `seed-${cell.seed}`);

/**
 * Whether a cell already finished: its folder has summary.json and the same config. A
 * finished run of another config is refused (a changed sweep must not mix old and new runs).
 */
export function isFinished(out: string, cell: Cell): boolean {
  const dir = cellDir(out, cell);
  if (!existsSync(join(dir, 'summary.json'))) return false;
  let previous: unknown;
  try {
    previous = JSON.parse(readFileSync(join(dir, CONFIG_FILE), 'utf8'));
  } catch {
    throw new ConfigError(`${dir} holds a finished run without a readable ${CONFIG_FILE}; delete that folder or use another --out`);
  }
  const differs = firstDifference(previous, JSON.parse(JSON.stringify(cell.config)));
  if (differs !== null) {
    throw new ConfigError(`${dir} holds a finished run of a different config (${differs}); the sweep changed since: delete that folder to rerun it, or use another --out`);
  }
  return true;
}

/** The first key path where two JSON values differ, with both values; null when equal. */
export function firstDifference(a: unknown, b: unknown, path = ''): string | null {
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      if (d !== null) return d;
    }
    return null;
  }
  return JSON.stringify(a) === JSON.stringify(b) ? null : `${path || '(top level)'}: ${JSON.stringify(a)} then, ${JSON.stringify(b)} now`;
}

/** Runs the cells not yet finished, `workers` at a time; never throws for a failed cell. */
export async function runSweep(sweep: Sweep, opts: SweepRunOptions): Promise<CellOutcome[]> {
  const finished = sweep.cells.map((c) => isFinished(opts.out, c)); // refuses a changed sweep before anything runs
  const outcomes: CellOutcome[] = new Array(sweep.cells.length);
  const queue: number[] = [];
  sweep.cells.forEach((cell, i) => {
    if (finished[i]) {
      outcomes[i] = { cell, status: 'skipped' };
      opts.onEvent?.({ kind: 'skip', cell });
    } else queue.push(i);
  });
  const scratch = mkdtempSync(join(tmpdir(), 'gossipfl-sweep-'));
  const stopAll = new Set<() => void>();
  const onSignal = () => stopAll.forEach((stop) => stop());
  process.on('SIGINT', onSignal);
  try {
    let next = 0;
    const worker = async () => {
      while (next < queue.length) {
        const i = queue[next++];
        outcomes[i] = await runCell(sweep.cells[i], i, scratch, opts, stopAll);
      }
    };
    await Promise.all(Array.from({ length: Math.min(opts.workers, queue.length) }, worker));
  } finally {
    process.off('SIGINT', onSignal);
    rmSync(scratch, { recursive: true, force: true });
  }
  return outcomes;
}

async function runCell(cell: Cell, index: number, scratch: string, opts: SweepRunOptions, stopAll: Set<() => void>): Promise<CellOutcome> {
  const dir = cellDir(opts.out, cell);
  mkdirSync(join(dir, '..'), { recursive: true });
  const configFile = join(scratch, `cell-${index}.json`);
  writeFileSync(configFile, JSON.stringify(cell.raw));
  const [cmd, ...prefix] = opts.cli ?? [process.execPath, ...process.execArgv, process.argv[1]];
  const plugins = (opts.plugins ?? []).flatMap((f) => ['--plugin', resolve(f)]);
  const args = [...prefix, 'simulate', configFile, ...plugins, '--out', dir, '--overwrite', '--no-report', '--quiet', '--progress-lines'];
  const started = performance.now();
  opts.onEvent?.({ kind: 'start', cell });
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = () => child.kill('SIGTERM');
  stopAll.add(stop);
  const log = createWriteStream(`${dir}.log`);
  let lastError: string | undefined;
  createInterface({ input: child.stderr! }).on('line', (line) => {
    const p = parseProgressLine(line);
    if (p) {
      opts.onEvent?.({ kind: 'round', cell, ...p });
      return;
    }
    log.write(`${line}\n`);
    if (line.startsWith('gossipfl: ')) lastError = line.slice('gossipfl: '.length);
  });
  const code = await new Promise<number>((res) => child.on('close', (c, signal) => res(c ?? (signal ? 128 : 1))));
  stopAll.delete(stop);
  await new Promise<void>((res) => log.end(res));
  const seconds = (performance.now() - started) / 1000;
  const error = code === 0 ? undefined : (lastError ?? `exit code ${code}; see ${dir}.log`);
  opts.onEvent?.({ kind: 'end', cell, code, seconds, ...(error ? { error } : {}) });
  return code === 0 ? { cell, status: 'done' } : { cell, status: 'failed', error: error! };
}

/** The combined numbers of the finished cells: a summary per setting and bands per metric. */
export function aggregateSweep(sweep: Sweep, out: string): { settings: SettingSummary[]; bands: Record<string, Record<string, BandPoint[]>>; missing: string[] } {
  const missing: string[] = [];
  const bySetting = new Map<string, CellResult[]>();
  for (const cell of sweep.cells) {
    const dir = cellDir(out, cell);
    if (!existsSync(join(dir, 'summary.json'))) {
      missing.push(`${cell.setting}, seed ${cell.seed} (${dir})`);
      continue;
    }
    const run = readRun(dir);
    const list = bySetting.get(cell.settingId) ?? [];
    list.push({ seed: cell.seed, metrics: run.metrics, summary: run.summary });
    bySetting.set(cell.settingId, list);
  }
  const present = sweep.settings.filter((s) => bySetting.has(s.id));
  const settings = present.map((s) => summarizeSetting(s.id, s.name, bySetting.get(s.id)!, sweep.metrics));
  const bands: Record<string, Record<string, BandPoint[]>> = {};
  for (const metric of BAND_METRICS) bands[metric] = Object.fromEntries(present.map((s) => [s.id, band(bySetting.get(s.id)!, metric)]));
  return { settings, bands, missing };
}
