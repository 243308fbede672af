// The long reliability tests each append one row to a JSON-lines file; `npm run test:reliability`
// (run.ts) prints them as one table.
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

export interface ReliabilityRow {
  readonly check: string;
  /** Faults or attacks injected (kills, hostile messages, hostile streams, Byzantine peers × rounds). */
  readonly faults: number;
  /** Inputs the system under test handled (messages, rounds, streams). */
  readonly inputs: number;
  /** Processes or nodes that died when they should not have, plus uncaught errors. Must be 0. */
  readonly crashes: number;
  /** Durable state lost or corrupted (checkpoints, finished rounds, models). Must be 0. */
  readonly dataLost: number;
  /** Accuracy lost to the faults, in points (null where the model is meant to be unchanged). */
  readonly accuracyCostPts: number | null;
  readonly seconds: number;
  /** One line of what else was measured. */
  readonly notes: string;
}

export const RESULTS_FILE = resolve(process.env.GOSSIPFL_RELIABILITY_RESULTS ?? 'runs/reliability/results.jsonl');

export function recordRow(row: ReliabilityRow): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify(row)}\n`);
}

/** Counts uncaught exceptions and unhandled rejections of this process until `stop()`. */
export function watchCrashes(): { count(): number; stop(): void } {
  let n = 0;
  const onError = (): void => {
    n++;
  };
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  return {
    count: () => n,
    stop: () => {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  };
}
