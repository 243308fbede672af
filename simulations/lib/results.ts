// Turning run directories into a study's RESULTS.md: numbers read from metrics.jsonl and
// summary.json, a markdown table, and one verdict per claim computed from those numbers.
import type { RoundMetrics } from '../../src/report/index.js';
import { writeFileAtomic } from '../../src/util/fs.js';

/** A claim of the issue or a paper, checked against measured numbers. */
export interface Verdict {
  readonly claim: string;
  /** true: holds here; false: does not hold here; null: an observation with no pass/fail bar. */
  readonly holds: boolean | null;
  /** The measured numbers and conditions behind the verdict, in plain words. */
  readonly evidence: string;
}

export interface ResultsDoc {
  readonly title: string;
  /** The command that produced the numbers; several are run one after another. */
  readonly command: string | readonly string[];
  readonly quick: boolean;
  /** A caveat shown in bold under the title (e.g. a smoke check, or runs that did not finish). */
  readonly warning?: string;
  readonly date: string;
  readonly machine: string;
  readonly wallSeconds: number;
  /** What was run, one bullet each (setting, deviations from the issue's setting). */
  readonly setup: readonly string[];
  readonly tables: ReadonlyArray<{ readonly caption: string; readonly markdown: string }>;
  readonly verdicts: readonly Verdict[];
  readonly notes: readonly string[];
}

/** 0.9123 → "91.23%"; null → "n/a". */
export function pct(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined ? 'n/a' : `${(x * 100).toFixed(digits)}%`;
}

/** Difference of two accuracies in percentage points, signed: "+28.1 pts". */
export function points(delta: number, digits = 1): string {
  return `${delta >= 0 ? '+' : '−'}${Math.abs(delta * 100).toFixed(digits)} pts`;
}

/** First 1-based round whose evaluated value of `key` is ≥ threshold; null if none is. */
export function roundsToReach(metrics: readonly RoundMetrics[], key: 'mergedAccuracy' | 'localAccuracyMean', threshold: number): number | null {
  for (const m of metrics) {
    const v = m[key];
    if (v !== null && v >= threshold) return m.round;
  }
  return null;
}

/** The last round record that carries an evaluation; throws if the run never evaluated. */
export function lastEvaluated(metrics: readonly RoundMetrics[]): RoundMetrics {
  for (let i = metrics.length - 1; i >= 0; i--) if (metrics[i].mergedAccuracy !== null) return metrics[i];
  throw new Error('the run has no evaluated round; set eval.every so that some round is evaluated');
}

/** Bytes sent in all rounds before the last (the communication budget a final merge adds to). */
export function bytesBeforeLastRound(metrics: readonly RoundMetrics[]): number {
  return metrics.length < 2 ? 0 : metrics[metrics.length - 2].bytesSentTotal;
}

export function megabytes(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** A GitHub-flavoured markdown table; `|` inside cells is escaped. */
export function markdownTable(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cell = (v: string | number) => String(v).replace(/\|/g, '\\|');
  const line = (cells: ReadonlyArray<string | number>) => `| ${cells.map(cell).join(' | ')} |`;
  for (const [i, r] of rows.entries()) {
    if (r.length !== header.length) throw new RangeError(`table row ${i} has ${r.length} cells, the header ${header.length}`);
  }
  return [line(header), `|${header.map(() => '---').join('|')}|`, ...rows.map(line)].join('\n');
}

/** The compression study's fairness check: every compressed message within 10 % of the others' size. */
export function equalBytesVerdict(compressed: ReadonlyArray<{ readonly id: string; readonly bytes: number }>, dense: number): Verdict {
  const spread = Math.max(...compressed.map((x) => x.bytes)) / Math.min(...compressed.map((x) => x.bytes));
  return {
    claim: 'The compressed runs are compared at equal bytes (one peer’s message per round within 10 % of sign’s)',
    holds: spread <= 1.1,
    evidence: `Calibrated message sizes: ${compressed.map((x) => `${x.id} ${x.bytes} B`).join(', ')} (largest/smallest ${spread.toFixed(3)}); dense is ${dense} B.`,
  };
}

export function verdictWord(v: Verdict): string {
  return v.holds === null ? 'observation' : v.holds ? 'holds here' : 'does not hold here';
}

export function renderResults(doc: ResultsDoc): string {
  const lines = [`# ${doc.title}`, ''];
  if (doc.quick) {
    lines.push('> **Smoke run (`--quick`): 4 peers, 5 rounds, 400 training digits. These numbers check that the study runs; they are not results.**', '');
  }
  if (doc.warning) lines.push(`> **${doc.warning}**`, '');
  const commands = typeof doc.command === 'string' ? [doc.command] : doc.command;
  lines.push(
    `- Command${commands.length > 1 ? 's' : ''}: ${commands.map((c) => `\`${c}\``).join(', then ')}`,
    `- Date: ${doc.date}`,
    `- Machine: ${doc.machine}`,
    `- Wall time of the whole study: ${formatDuration(doc.wallSeconds)}`,
    '',
    '## Setup',
    '',
    ...doc.setup.map((s) => `- ${s}`),
    '',
  );
  for (const t of doc.tables) lines.push(`## ${t.caption}`, '', t.markdown, '');
  lines.push('## Verdicts', '');
  for (const v of doc.verdicts) lines.push(`- **${v.claim}** — ${verdictWord(v)}. ${v.evidence}`);
  lines.push('');
  if (doc.notes.length) lines.push('## Notes', '', ...doc.notes.map((n) => `- ${n}`), '');
  return lines.join('\n');
}

export function writeResults(file: string, doc: ResultsDoc): void {
  writeFileAtomic(file, renderResults(doc));
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

/** "every round" / "every 5 rounds". */
export function everyRounds(n: number): string {
  return n === 1 ? 'every round' : `every ${n} rounds`;
}
