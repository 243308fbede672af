// `gossipfl simulate CONFIG --out DIR`: many peers in one process; writes metrics.jsonl,
// config.json, summary.json, partition.json and report.html into DIR. `gossipfl start` runs the
// embedded default config (what `npm start` calls). The config is checked in full (schema and
// pre-flight) before DIR is touched, and the run is staged so that a failed run leaves no result.
import { Command, Option } from 'commander';
import { loadConfigFile, parseConfig, parseConfigInput, DEFAULT_CONFIG, type RunConfig } from '../../peer/config.js';
import { applyOverrides } from '../../peer/overrides.js';
import { preflightSimulation } from '../../sim/preflight.js';
import { simulate } from '../../sim/simulator.js';
import { RunDirectory } from '../../report/run-dir.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../compute/backend.js';
import { writeRunReport } from '../../report/index.js';
import { startProgress } from '../progress.js';
import { formatProgressLine } from '../../sweep/progress-line.js';
import { collect, nonNegativeInt, positiveInt } from '../options.js';
import { pluginOption } from '../plugins.js';
import type { RunSummary, RoundMetrics } from '../../report/metrics.js';

export interface SimulateOptions {
  out: string;
  overwrite?: boolean;
  backend?: BackendChoice;
  seed?: number;
  rounds?: number;
  quiet?: boolean;
  report?: boolean;
  set?: string[];
  /** One progress line per round on stderr (what a sweep reads; see sweep/progress-line.ts). */
  progressLines?: boolean;
}

/** The `--set` option, shared by every command that reads a run config. */
export function setOption(): Option {
  return new Option('--set <key.path=value>', 'override one config key, e.g. --set data.partition.alpha=0.1 (repeatable; values are YAML)').argParser(collect).default([]);
}

function addRunOptions(cmd: Command, defaultOut: string): Command {
  return cmd
    .option('--out <dir>', 'output folder for metrics.jsonl, config.json, summary.json and report.html', defaultOut)
    .option('--overwrite', 'replace a run already in --out')
    .addOption(setOption())
    .addOption(pluginOption())
    .addOption(new Option('--backend <name>', 'tfjs backend (same as --set backend=NAME)').choices([...BACKEND_CHOICES]))
    .option('--seed <n>', 'seed (same as --set seed=N)', nonNegativeInt('--seed'))
    .option('--rounds <n>', 'rounds (same as --set rounds=N)', positiveInt('--rounds'))
    .option('--no-report', 'skip report.html')
    .option('--quiet', 'no progress (a bar on a terminal, else a line per 10% of the rounds or 30 s)')
    .addOption(new Option('--progress-lines', 'machine-readable progress on stderr').hideHelp());
}

export function register(program: Command): void {
  addRunOptions(
    program.command('simulate').description('simulate many peers in one process').argument('<config>', 'run config (YAML or JSON)'),
    'runs/latest',
  ).action(async (file: string, opts: SimulateOptions) => {
    await runAndReport(loadConfigFile(file, opts.set ?? []), opts);
  });
  addRunOptions(
    program.command('start').description('simulate the embedded default run: 16 peers, ring, Dirichlet α = 0.5, MNIST'),
    'runs/default',
  ).action(async (opts: SimulateOptions) => {
    const sets = opts.set ?? [];
    const config = parseConfigInput(applyOverrides({ ...DEFAULT_CONFIG }, sets), sets.length ? `default config with --set ${sets.join(' --set ')}` : 'default config');
    await runAndReport(config, { ...opts, overwrite: true });
  });
}

/** The flags that are shorthands for --set, applied to a validated config and validated again. */
function withFlags(base: RunConfig, opts: SimulateOptions): RunConfig {
  if (opts.backend === undefined && opts.seed === undefined && opts.rounds === undefined) return base;
  return parseConfig(
    {
      ...base,
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.rounds !== undefined ? { rounds: opts.rounds } : {}),
    },
    'config',
  );
}

/** Checks the config (pre-flight), runs it staged into opts.out, writes the report, prints one line. */
export async function runAndReport(base: RunConfig, opts: SimulateOptions): Promise<RunSummary> {
  const config = withFlags(base, opts);
  preflightSimulation(config);
  const dir = new RunDirectory(opts.out, { overwrite: opts.overwrite, staged: true });
  dir.writeConfig(config);
  const progress = startProgress(config.rounds, 'simulate', { quiet: opts.quiet || opts.progressLines });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let summary: RunSummary;
  try {
    const result = await simulate(config, {
      log,
      // The run directory holds metrics and the summary, no models: a batched world of many
      // peers then reads back only the merged model.
      finalModels: 'merged',
      onRound: (m) => {
        dir.appendRound(m);
        progress.update(m.round, roundInfo(m));
        if (opts.progressLines) process.stderr.write(`${formatProgressLine({ round: m.round, rounds: config.rounds, info: roundInfo(m) })}\n`);
      },
    });
    progress.stop();
    summary = result.summary;
    dir.writeSummary(summary, result.partition);
    if (opts.report !== false) await writeRunReport(dir.workDir);
    dir.commit();
  } catch (err) {
    progress.stop();
    dir.discard();
    throw err;
  }
  const s = summary;
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
  process.stdout.write(
    `${config.name}: ${s.peers} peers, ${s.rounds} rounds on ${s.backend} in ${s.wallSeconds.toFixed(1)} s — ` +
      `merged model ${pct(s.mergedAccuracy)}, local models ${pct(s.localAccuracyMean)} (mean)` +
      (s.preMergeLocalAccuracyMean != null ? `, ${pct(s.preMergeLocalAccuracyMean)} before the final merge` : '') +
      ', ' +
      `${(s.bytesSent / 1e6).toFixed(1)} MB sent; results in ${opts.out}/\n`,
  );
  return s;
}

function roundInfo(m: RoundMetrics): Record<string, string> {
  return {
    merged: m.mergedAccuracy === null ? '-' : `${(m.mergedAccuracy * 100).toFixed(1)}%`,
    local: m.localAccuracyMean === null ? '-' : `${(m.localAccuracyMean * 100).toFixed(1)}%`,
  };
}
