// `gossipfl sweep SWEEP.yaml --out DIR`: a base config × settings × seeds, run in parallel
// processes into DIR/<setting>/seed-<n>, resumable, then one combined report in DIR (mean and
// spread over seeds: summary.md/.csv/.json and report.html with bands).
import { availableParallelism } from 'node:os';
import { Command } from 'commander';
import { loadSweepFile, type Sweep } from '../../sweep/spec.js';
import { aggregateSweep, runSweep, type SweepEvent } from '../../sweep/run.js';
import { writeSweepReport, SWEEP_REPORT_FILES } from '../../sweep/report.js';
import { preflightSimulation } from '../../sim/preflight.js';
import { ConfigError, GossipflError, InputError } from '../../util/errors.js';
import { collect, positiveInt } from '../options.js';
import { setOption } from './simulate.js';
import { pluginOption } from '../plugins.js';
import { startMultiProgress, type TaskBar } from '../progress.js';

interface SweepOptions {
  out?: string;
  workers?: number;
  set: string[];
  quiet?: boolean;
  dryRun?: boolean;
  only?: string[];
  plugin?: string[];
}

export function register(program: Command): void {
  program
    .command('sweep')
    .description('run a base config over settings and seeds in parallel processes, then one report with mean and spread over seeds')
    .argument('<sweep>', 'sweep file (YAML or JSON; see docs/simulations.md)')
    .option('--out <dir>', 'output folder: one run directory per cell and the combined report (default runs/<sweep name>)')
    .option('--workers <n>', 'parallel runs (default: the sweep file\'s workers, else the number of CPU cores)', positiveInt('--workers'))
    .addOption(setOption())
    .addOption(pluginOption())
    .option('--only <setting>', 'run only the settings with this name or folder name (repeatable); the report still covers all finished cells', collect)
    .option('--dry-run', 'validate every cell and list them, run nothing')
    .option('--quiet', 'no progress display')
    .action(async (file: string, opts: SweepOptions) => {
      const sweep = loadSweepFile(file, opts.set);
      const out = opts.out ?? `runs/${sweep.name}`;
      // Every cell is checked before any runs: one bad cell stops the sweep at the start.
      for (const cell of sweep.cells) {
        try {
          preflightSimulation(cell.config);
        } catch (err) {
          if (!(err instanceof ConfigError || err instanceof InputError)) throw err;
          const Kind = err instanceof InputError ? InputError : ConfigError;
          throw new Kind(`${file}, setting '${cell.setting}', seed ${cell.seed}: ${err.message}`, { cause: err });
        }
      }
      if (opts.dryRun) {
        for (const c of sweep.cells) process.stdout.write(`${c.id}\t${c.config.name}\n`);
        process.stdout.write(`${sweep.cells.length} cells (${sweep.settings.length} settings × seeds); nothing run\n`);
        return;
      }
      const selected = selectSettings(sweep, opts.only);
      const workers = opts.workers ?? sweep.workers ?? availableParallelism();
      const reporter = progressReporter(selected, opts.quiet);
      let outcomes;
      try {
        outcomes = await runSweep(selected, { out, workers, plugins: opts.plugin ?? [], onEvent: reporter.onEvent });
      } finally {
        reporter.stop();
      }
      const combined = aggregateSweep(sweep, out);
      await writeSweepReport(out, { name: sweep.name, ...combined }, sweep.metrics);
      const count = (s: string) => outcomes.filter((o) => o.status === s).length;
      process.stdout.write(`${sweep.name}: ${count('done')} run, ${count('skipped')} already finished, ${count('failed')} failed; ${out}/${SWEEP_REPORT_FILES.markdown}, ${out}/${SWEEP_REPORT_FILES.html}\n`);
      const failed = outcomes.filter((o) => o.status === 'failed');
      if (failed.length) {
        throw new GossipflError('state', `${failed.length} of ${selected.cells.length} runs failed (first: ${failed[0].cell.id}: ${failed[0].error}); fix and run the sweep again to rerun only those`);
      }
    });
}

function selectSettings(sweep: Sweep, only: string[] | undefined): Sweep {
  if (!only?.length) return sweep;
  const unknown = only.filter((o) => !sweep.settings.some((s) => s.name === o || s.id === o));
  if (unknown.length) {
    throw new GossipflError('config', `--only ${unknown.join(', ')}: no such setting; the settings are ${sweep.settings.map((s) => s.id).join(', ')}`);
  }
  const keep = new Set(sweep.settings.filter((s) => only.includes(s.name) || only.includes(s.id)).map((s) => s.id));
  return { ...sweep, settings: sweep.settings.filter((s) => keep.has(s.id)), cells: sweep.cells.filter((c) => keep.has(c.settingId)) };
}

/** A bar for the sweep and one per running cell on a terminal; one line per finished cell otherwise. */
function progressReporter(sweep: Sweep, quiet?: boolean): { onEvent: (e: SweepEvent) => void; stop: () => void } {
  const tty = process.stderr.isTTY && !quiet;
  const display = startMultiProgress(sweep.cells.length, 'sweep', { quiet: !tty });
  const bars = new Map<string, TaskBar>();
  let done = 0;
  const onEvent = (e: SweepEvent) => {
    switch (e.kind) {
      case 'skip':
        done++;
        display.update(done);
        return;
      case 'start':
        bars.set(e.cell.id, display.task(e.cell.id, e.cell.config.rounds));
        return;
      case 'round':
        bars.get(e.cell.id)?.update(e.round, e.info);
        return;
      case 'end': {
        done++;
        bars.get(e.cell.id)?.stop();
        bars.delete(e.cell.id);
        display.update(done);
        if (!tty && !quiet) {
          process.stderr.write(`[${done}/${sweep.cells.length}] ${e.cell.id}: ${e.code === 0 ? 'done' : `failed: ${e.error}`} in ${e.seconds.toFixed(0)} s\n`);
        }
      }
    }
  };
  return { onEvent, stop: () => display.stop() };
}
