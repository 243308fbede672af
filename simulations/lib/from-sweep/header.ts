// The part of every RESULTS.md written from sweeps that is not the study's own: the commands,
// date, machine and wall time as the sweep driver recorded them, and a caveat when the sweeps
// ran with overrides (a smoke check) or left cells unfinished.
import { relative } from 'node:path';
import type { ResultsDoc } from '../results.js';
import { extraOverrides, type StudySweep } from '../sweep-runs.js';

export type SweepHeader = Pick<ResultsDoc, 'command' | 'quick' | 'warning' | 'date' | 'machine' | 'wallSeconds'>;

export function sweepHeader(sweeps: readonly StudySweep[]): SweepHeader {
  const first = sweeps[0];
  const i = first.info;
  const extra = [...new Set(sweeps.flatMap((s) => extraOverrides(s.info)))];
  const missing = sweeps.flatMap((s) => s.missing.map((m) => `${s.name}: ${m}`));
  const stopped = sweeps.filter((s) => s.info.stoppedAtDeadline || s.info.exitCode !== 0).map((s) => s.name);
  const warnings = [
    ...(extra.length ? [`Smoke check with --set ${extra.join(', ')}: these numbers check that the study runs; they are not results.`] : []),
    ...(missing.length ? [`${missing.length} run(s) did not finish and are left out (${listSome(missing, 8)}); the seed columns say how many seeds each row has.`] : []),
    ...(stopped.length && !missing.length ? [`The sweep(s) ${stopped.join(', ')} exited with an error although every cell finished; see the sweep log.`] : []),
  ];
  const backend = first.settings[0].runs[0].summary.backend;
  return {
    command: sweeps.map((s) => `gossipfl sweep ${s.info.sweepFile} --workers ${s.info.workers}${s.info.overrides.map((o) => ` --set ${o}`).join('')}`),
    quick: false,
    ...(warnings.length ? { warning: warnings.join(' ') } : {}),
    date: i.startedAt.slice(0, 10),
    machine: `${i.cores}-core CPU (${i.cpuModel}), ${i.memoryGiB} GiB, ${i.workers} runs at a time${i.alongside?.length ? ` (the sweeps ${i.alongside.join(', ')} ran alongside, on the other cores)` : ''}; Node ${i.node}; tfjs ${backend} backend; ${i.cli === 'source' ? 'the gossipfl CLI run from source with tsx' : 'the gossipfl CLI bundled into one file with esbuild'}${i.commit ? ` from commit ${i.commit.slice(0, 7)}` : ''}`,
    wallSeconds: sweeps.reduce((t, s) => t + s.info.wallSeconds, 0),
  };
}

/** The note every sweep-derived RESULTS.md ends with: where the per-seed numbers and bands are. */
export function sweepNote(sweeps: readonly StudySweep[]): string {
  const dirs = sweeps.map((s) => `\`${relative(process.cwd(), s.dir)}/\``).join(' and ');
  return `Each sweep's combined report (summary.md/.csv/.json with every seed's value, report.html with mean ± std bands by round) is rewritten into ${dirs} by simulations/lib/results-from-sweep.ts; run directories are not committed. ${sweeps.reduce((n, s) => n + s.sweep.cells.length, 0)} runs in all.`;
}

/** The seeds of a sweep, in file order. */
export function sweepSeeds(s: StudySweep): number[] {
  return [...new Set(s.sweep.cells.map((c) => c.seed))];
}

/** The first `n` items, then how many more. */
function listSome(items: readonly string[], n: number): string {
  return items.length <= n ? items.join('; ') : `${items.slice(0, n).join('; ')}; and ${items.length - n} more`;
}
