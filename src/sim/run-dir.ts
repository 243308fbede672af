// A run directory: metrics.jsonl (one line per round, appended as the run goes, so a crash
// keeps every finished round), summary.json and partition.json (written atomically at the end).
import { appendFileSync, mkdirSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RoundMetrics, RunSummary } from '../report/metrics.js';
import { writeFileAtomic } from '../util/fs.js';
import { InputError } from '../util/errors.js';

/** A run's output folder: metrics.jsonl, summary.json and partition.json. */
export class RunDirectory {
  readonly metricsFile: string;

  /** `append`: keep the rounds already in metrics.jsonl (a peer resuming from its checkpoint). */
  constructor(readonly dir: string, options: { overwrite?: boolean; append?: boolean } = {}) {
    if (existsSync(dir) && readdirSync(dir).some((f) => f === 'metrics.jsonl' || f === 'summary.json') && !options.overwrite) {
      throw new InputError(`output folder ${dir} already holds a run; choose another --out or pass --overwrite`);
    }
    mkdirSync(dir, { recursive: true });
    this.metricsFile = join(dir, 'metrics.jsonl');
    if (!options.append || !existsSync(this.metricsFile)) writeFileSync(this.metricsFile, '');
  }

  /** Appends one round's metrics as a line of metrics.jsonl. */
  appendRound(m: RoundMetrics): void {
    appendFileSync(this.metricsFile, `${JSON.stringify(m)}\n`);
  }

  /** Writes summary.json and partition.json. */
  writeSummary(summary: RunSummary, partition: { numClasses: number; histograms: number[][] }): void {
    writeFileAtomic(join(this.dir, 'partition.json'), `${JSON.stringify(partition)}\n`);
    writeFileAtomic(join(this.dir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }
}
