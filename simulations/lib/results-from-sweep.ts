// Writes the studies' RESULTS.md from their sweeps, run elsewhere and brought back as
// <sweep>.tar.gz archives (or <sweep>/ folders) with run-info.json beside the run directories.
// Run: npx tsx simulations/lib/results-from-sweep.ts FROM [--study NAME]... [--to DIR] [--runs DIR]
//   FROM    the folder holding heterogeneity.tar.gz, merging.tar.gz, vca.tar.gz,
//           compression.tar.gz, byzantine.tar.gz + byzantine-clean.tar.gz, strategies.tar.gz,
//           privacy-cost.tar.gz (any subset)
//   --study only these studies (default: every study whose archives are in FROM)
//   --to    write DIR/<study>/RESULTS.md instead of simulations/<study>/RESULTS.md
//   --runs  where the archives are unpacked and each sweep's combined report is rewritten
//           (default runs/from-sweeps)
import { existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { aggregateSweep } from '../../src/sweep/run.js';
import { writeSweepReport } from '../../src/sweep/report.js';
import { InputError } from '../../src/util/errors.js';
import { writeResults, type ResultsDoc } from './results.js';
import { extraOverrides, openSweep, type StudySweep } from './sweep-runs.js';
import { isMain } from './study.js';
import { heterogeneityResults } from './from-sweep/heterogeneity.js';
import { mergingResults } from './from-sweep/merging.js';
import { vcaResults } from './from-sweep/vca.js';
import { compressionResults } from './from-sweep/compression.js';
import { byzantineResults } from './from-sweep/byzantine.js';
import { strategiesResults } from './from-sweep/strategies.js';
import { privacyCostResults } from './from-sweep/privacy-cost.js';

const SIMULATIONS = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Each study: the sweeps it reads (archive name and sweep file) and how it writes its RESULTS.md. */
export const STUDIES: ReadonlyArray<{ readonly study: string; readonly sweeps: ReadonlyArray<readonly [string, string]>; readonly build: (s: StudySweep[]) => ResultsDoc }> = [
  { study: 'heterogeneity', sweeps: [['heterogeneity', 'heterogeneity/sweep.yaml']], build: ([s]) => heterogeneityResults(s) },
  { study: 'merging', sweeps: [['merging', 'merging/sweep.yaml']], build: ([s]) => mergingResults(s) },
  { study: 'vca', sweeps: [['vca', 'vca/sweep.yaml']], build: ([s]) => vcaResults(s) },
  { study: 'compression', sweeps: [['compression', 'compression/sweep.yaml']], build: ([s]) => compressionResults(s) },
  {
    study: 'byzantine',
    sweeps: [
      ['byzantine', 'byzantine/sweep.yaml'],
      ['byzantine-clean', 'byzantine/sweep-clean.yaml'],
    ],
    build: ([attacked, clean]) => byzantineResults(attacked, clean),
  },
  { study: 'strategies', sweeps: [['strategies', 'strategies/sweep.yaml']], build: ([s]) => strategiesResults(s) },
  { study: 'privacy-cost', sweeps: [['privacy-cost', 'privacy-cost/sweep.yaml']], build: ([s]) => privacyCostResults(s) },
];

export interface FromSweepOptions {
  readonly from: string;
  readonly studies?: readonly string[];
  /** Folder for <study>/RESULTS.md; undefined: the committed simulations/<study>/RESULTS.md. */
  readonly to?: string;
  readonly runs: string;
  readonly log?: (line: string) => void;
}

/** Writes each chosen study's RESULTS.md; returns the files written. */
export async function resultsFromSweeps(opts: FromSweepOptions): Promise<string[]> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const present = (name: string) => existsSync(join(opts.from, `${name}.tar.gz`)) || existsSync(join(opts.from, name));
  const unknown = (opts.studies ?? []).filter((s) => !STUDIES.some((x) => x.study === s));
  if (unknown.length) throw new InputError(`--study ${unknown.join(', ')}: no such study; the studies are ${STUDIES.map((s) => s.study).join(', ')}`);
  const chosen = opts.studies?.length ? STUDIES.filter((s) => opts.studies!.includes(s.study)) : STUDIES.filter((s) => s.sweeps.some(([name]) => present(name)));
  if (!chosen.length) throw new InputError(`${opts.from} holds no sweep archive of a study (${STUDIES.flatMap((s) => s.sweeps.map(([n]) => `${n}.tar.gz`)).join(', ')})`);
  const written: string[] = [];
  for (const study of chosen) {
    const sweeps = study.sweeps.map(([name, file]) => openSweep(opts.from, name, join(SIMULATIONS, file), opts.runs));
    const smoke = sweeps.flatMap((s) => extraOverrides(s.info));
    if (smoke.length && opts.to === undefined) {
      throw new InputError(`${study.study}: the sweep ran with --set ${[...new Set(smoke)].join(', ')}, a smoke check; write its RESULTS.md elsewhere with --to DIR, not over simulations/${study.study}/RESULTS.md`);
    }
    for (const s of sweeps) {
      await writeSweepReport(s.dir, { name: s.sweep.name, ...aggregateSweep(s.sweep, s.dir) }, s.sweep.metrics);
      log(`${s.name}: ${s.sweep.cells.length - s.missing.length} of ${s.sweep.cells.length} runs finished; report in ${relative(process.cwd(), s.dir)}/report.html`);
    }
    const file = opts.to === undefined ? join(SIMULATIONS, study.study, 'RESULTS.md') : join(opts.to, study.study, 'RESULTS.md');
    writeResults(file, study.build(sweeps));
    log(`wrote ${relative(process.cwd(), file)}`);
    written.push(file);
  }
  return written;
}

async function main(argv: string[]): Promise<void> {
  const program = new Command()
    .name('results-from-sweep')
    .argument('<from>', 'folder holding the sweep archives (<sweep>.tar.gz) or folders')
    .option('--study <name>', 'only this study (repeatable)', (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option('--to <dir>', 'write <dir>/<study>/RESULTS.md instead of the committed files')
    .option('--runs <dir>', 'where the archives are unpacked', 'runs/from-sweeps')
    .exitOverride();
  program.parse(argv, { from: 'user' });
  const o = program.opts<{ study: string[]; to?: string; runs: string }>();
  await resultsFromSweeps({ from: program.args[0], studies: o.study, runs: o.runs, ...(o.to ? { to: o.to } : {}) });
}

if (isMain(import.meta.url)) {
  main(process.argv.slice(2)).catch((err) => {
    if (!(err instanceof CommanderError)) process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = err instanceof CommanderError ? err.exitCode : 1;
  });
}
