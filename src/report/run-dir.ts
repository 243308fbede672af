// A run directory: metrics.jsonl (one line per round, appended as the run goes), config.json
// (the effective config), summary.json and partition.json (written atomically at the end).
//
// Staged (what `simulate` and `sweep` use): every file goes to a hidden sibling folder
// `.<name>.partial` first and moves into the run directory only when the run finished
// (commit), so a failed or killed run leaves nothing in --out that looks like a result; the
// next run into the same --out clears a stale partial folder. Unstaged (a peer, whose folder
// also holds its key and checkpoint): files are written in place, as before.
import { appendFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { RoundMetrics, RunSummary } from './metrics.js';
import { writeFileAtomic } from '../util/fs.js';
import { InputError } from '../util/errors.js';

/** File of the effective (validated, defaults filled in) config in a run directory. */
export const CONFIG_FILE = 'config.json';
/** Files that make a folder a finished or started run (what --overwrite replaces). */
const RUN_MARKERS = ['metrics.jsonl', 'summary.json'];

/** Whether `dir` holds a run (metrics.jsonl or summary.json). */
export function holdsRun(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((f) => RUN_MARKERS.includes(f));
}

/** The hidden folder a staged run into `dir` writes to until it commits. */
export function partialDirOf(dir: string): string {
  const abs = resolve(dir);
  return join(dirname(abs), `.${basename(abs)}.partial`);
}

/** A run's output folder: metrics.jsonl, config.json, summary.json and partition.json. */
export class RunDirectory {
  readonly metricsFile: string;
  /** Where files are written now: the partial folder while a staged run goes, else `dir`. */
  readonly workDir: string;
  private readonly staged: boolean;

  /**
   * `append`: keep the rounds already in metrics.jsonl (a peer resuming from its checkpoint).
   * `staged`: write into the partial folder until commit().
   */
  constructor(
    readonly dir: string,
    options: { overwrite?: boolean; append?: boolean; staged?: boolean } = {},
  ) {
    if (holdsRun(dir) && !options.overwrite) {
      throw new InputError(`output folder ${dir} already holds a run; choose another --out or pass --overwrite`);
    }
    this.staged = options.staged === true;
    this.workDir = this.staged ? partialDirOf(dir) : dir;
    if (this.staged) rmSync(this.workDir, { recursive: true, force: true });
    mkdirSync(this.workDir, { recursive: true });
    this.metricsFile = join(this.workDir, 'metrics.jsonl');
    if (!options.append || !existsSync(this.metricsFile)) writeFileSync(this.metricsFile, '');
  }

  /** Appends one round's metrics as a line of metrics.jsonl. */
  appendRound(m: RoundMetrics): void {
    appendFileSync(this.metricsFile, `${JSON.stringify(m)}\n`);
  }

  /** Writes config.json: the config the run uses, defaults and overrides applied. */
  writeConfig(config: unknown): void {
    writeFileAtomic(join(this.workDir, CONFIG_FILE), `${JSON.stringify(config, null, 2)}\n`);
  }

  /** Writes summary.json and partition.json. */
  writeSummary(summary: RunSummary, partition: { numClasses: number; histograms: number[][] }): void {
    writeFileAtomic(join(this.workDir, 'partition.json'), `${JSON.stringify(partition)}\n`);
    writeFileAtomic(join(this.workDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }

  /**
   * Staged runs: moves the finished files into the run directory (replacing the previous run's
   * files of the same names, and its metrics and summary) and removes the partial folder.
   */
  commit(): void {
    if (!this.staged) return;
    mkdirSync(this.dir, { recursive: true });
    // An old run's markers go first: a crash between the moves must not mix two runs' files.
    for (const f of RUN_MARKERS) rmSync(join(this.dir, f), { force: true });
    const files = readdirSync(this.workDir);
    // summary.json last, so a folder with a summary always has the rest.
    files.sort((a, b) => Number(a === 'summary.json') - Number(b === 'summary.json'));
    for (const f of files) renameSync(join(this.workDir, f), join(this.dir, f));
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Staged runs: drops the partial folder (the run failed); the run directory is left as it was. */
  discard(): void {
    if (this.staged) rmSync(this.workDir, { recursive: true, force: true });
  }
}
