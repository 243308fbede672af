// Reads one run directory (metrics.jsonl, summary.json, partition.json) into plain data.
// Every problem becomes an InputError naming the file (and line); the one exception is a
// partially written last line of metrics.jsonl, which a crashed run leaves behind: it is
// skipped and reported as a warning so the rounds before it can still be plotted.
import { readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { z } from 'zod';
import { InputError } from '../util/errors.js';
import type { PartitionSummary, RoundMetrics, RunSummary } from './metrics.js';
import { describeIssue, partitionSchema, roundMetricsSchema, runSummarySchema } from './schema.js';

/** File name of the per-round metrics in a run folder. */
export const METRICS_FILE = 'metrics.jsonl';
/** File name of the run summary in a run folder. */
export const SUMMARY_FILE = 'summary.json';
/** File name of the data partition summary in a run folder. */
export const PARTITION_FILE = 'partition.json';

/** A run folder as read back: name, metrics, summary, partition and warnings. */
export interface RunData {
  /** Display name: the summary's label, else the directory's name. */
  name: string;
  dir: string;
  metrics: RoundMetrics[];
  summary: RunSummary;
  /** Null when the run directory has no partition.json (e.g. a node that does not know the global split). */
  partition: PartitionSummary | null;
  /** Problems that did not stop the report, one line each. */
  warnings: string[];
}

/** Reads and validates a run folder; throws InputError naming what is missing or malformed. */
export function readRun(dir: string): RunData {
  const absDir = resolve(dir);
  if (!isDirectory(absDir)) {
    throw new InputError(`run directory ${dir} does not exist or is not a directory; pass a folder written by 'gossipfl simulate' or 'gossipfl peer'`);
  }
  const warnings: string[] = [];
  const metricsPath = join(dir, METRICS_FILE);
  const metrics = parseMetricsLines(readText(metricsPath, true), metricsPath, warnings);
  const summaryPath = join(dir, SUMMARY_FILE);
  const summary = parseJsonFile(readText(summaryPath, true), summaryPath, runSummarySchema);
  const partitionPath = join(dir, PARTITION_FILE);
  const partitionText = readText(partitionPath, false);
  const partition = partitionText === null ? null : parseJsonFile(partitionText, partitionPath, partitionSchema);
  if (partition === null) warnings.push(`${partitionPath} not found: the label histogram of this run is left out`);
  else if (partition.histograms.length !== summary.peers) {
    warnings.push(`${partitionPath} has ${partition.histograms.length} peers but ${summaryPath} says ${summary.peers}`);
  }
  return { name: summary.label ?? basename(absDir), dir, metrics, summary, partition, warnings };
}

/**
 * Parses metrics.jsonl text: one RoundMetrics per non-empty line, rounds strictly increasing.
 * A last line that is not complete JSON is skipped with a warning; any other bad line throws.
 */
export function parseMetricsLines(text: string, path: string, warnings: string[]): RoundMetrics[] {
  const lines = text.split('\n');
  let last = lines.length - 1;
  while (last >= 0 && lines[last].trim() === '') last--;
  const records: RoundMetrics[] = [];
  for (let i = 0; i <= last; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    const lineNo = i + 1;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      if (i === last) {
        warnings.push(`${path} line ${lineNo}: incomplete last line skipped (the run probably stopped while writing it)`);
        break;
      }
      throw new InputError(`${path} line ${lineNo}: not valid JSON (${(err as Error).message}); the file is corrupt`, { cause: err });
    }
    const parsed = roundMetricsSchema.safeParse(value);
    if (!parsed.success) {
      throw new InputError(`${path} line ${lineNo}: not a round record, ${describeIssue(parsed.error)}`);
    }
    const prev = records[records.length - 1];
    if (prev !== undefined && parsed.data.round <= prev.round) {
      throw new InputError(
        `${path} line ${lineNo}: round ${parsed.data.round} does not follow round ${prev.round}; rounds must increase (are two runs written into one file?)`,
      );
    }
    records.push(parsed.data);
  }
  if (records.length === 0) throw new InputError(`${path} holds no complete round record; the run stopped before its first round ended`);
  return records;
}

function parseJsonFile<T>(text: string, path: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${path}: not valid JSON (${(err as Error).message}); the file is corrupt or was not fully written`, { cause: err });
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InputError(`${path}: ${describeIssue(parsed.error)}`);
  return parsed.data;
}

/** The file's text; null when it is absent and optional. */
function readText(path: string, required: true): string;
function readText(path: string, required: false): string | null;
function readText(path: string, required: boolean): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && !required) return null;
    const why = code === 'ENOENT' ? 'file not found (is this a run directory, and did the run finish?)' : (err as Error).message;
    throw new InputError(`cannot read ${path}: ${why}`, { cause: err });
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
