// `gossipfl simulate CONFIG --out DIR`: many peers in one process; writes metrics.jsonl,
// summary.json, partition.json and report.html into DIR. `gossipfl start` runs the embedded
// default config (what `npm start` calls).
import { Command, Option } from 'commander';
import { loadConfigFile, parseConfig, DEFAULT_CONFIG, type RunConfig } from '../../peer/config.js';
import { simulate } from '../../sim/simulator.js';
import { RunDirectory } from '../../sim/run-dir.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../compute/backend.js';
import { writeReport } from '../../report/index.js';
import { startProgress } from '../progress.js';
import { nonNegativeInt, positiveInt } from '../options.js';
import type { RunSummary } from '../../report/metrics.js';

interface SimulateOptions {
  out: string;
  overwrite?: boolean;
  backend?: BackendChoice;
  seed?: number;
  rounds?: number;
  quiet?: boolean;
  report?: boolean;
}

function addRunOptions(cmd: Command, defaultOut: string): Command {
  return cmd
    .option('--out <dir>', 'output folder for metrics.jsonl, summary.json and report.html', defaultOut)
    .option('--overwrite', 'replace a run already in --out')
    .addOption(new Option('--backend <name>', 'tfjs backend (overrides the config)').choices([...BACKEND_CHOICES]))
    .option('--seed <n>', 'seed (overrides the config)', nonNegativeInt('--seed'))
    .option('--rounds <n>', 'rounds (overrides the config)', positiveInt('--rounds'))
    .option('--no-report', 'skip report.html')
    .option('--quiet', 'no progress bar');
}

export function register(program: Command): void {
  addRunOptions(
    program.command('simulate').description('simulate many peers in one process').argument('<config>', 'run config (YAML or JSON)'),
    'runs/latest',
  ).action(async (file: string, opts: SimulateOptions) => {
    await runAndReport(loadConfigFile(file), opts);
  });
  addRunOptions(
    program.command('start').description('simulate the embedded default run: 16 peers, ring, Dirichlet α = 0.5, MNIST'),
    'runs/default',
  ).action(async (opts: SimulateOptions) => {
    await runAndReport(parseConfig(DEFAULT_CONFIG, 'default config'), { ...opts, overwrite: true });
  });
}

export async function runAndReport(base: RunConfig, opts: SimulateOptions): Promise<RunSummary> {
  const config = parseConfig(
    {
      ...base,
      ...(opts.backend ? { backend: opts.backend } : {}),
      ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
      ...(opts.rounds !== undefined ? { rounds: opts.rounds } : {}),
    },
    'config',
  );
  const dir = new RunDirectory(opts.out, { overwrite: opts.overwrite });
  const progress = startProgress(config.rounds, 'simulate', { quiet: opts.quiet });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let result;
  try {
    result = await simulate(config, {
      log,
      onRound: (m) => {
        dir.appendRound(m);
        progress.update(m.round, {
          merged: m.mergedAccuracy === null ? '-' : `${(m.mergedAccuracy * 100).toFixed(1)}%`,
          local: m.localAccuracyMean === null ? '-' : `${(m.localAccuracyMean * 100).toFixed(1)}%`,
        });
      },
    });
  } finally {
    progress.stop();
  }
  dir.writeSummary(result.summary, result.partition);
  if (opts.report !== false) await writeReport([opts.out], `${opts.out}/report.html`);
  const s = result.summary;
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(2)}%`);
  process.stdout.write(
    `${config.name}: ${s.peers} peers, ${s.rounds} rounds on ${s.backend} in ${s.wallSeconds.toFixed(1)} s — ` +
      `merged model ${pct(s.mergedAccuracy)}, local models ${pct(s.localAccuracyMean)} (mean)` +
      (s.preMergeLocalAccuracyMean != null ? `, ${pct(s.preMergeLocalAccuracyMean)} before the final merge` : '') +
      ', ' +
      `${(s.bytesSent / 1e6).toFixed(1)} MB sent; results in ${opts.out}/\n`,
  );
  return result.summary;
}
