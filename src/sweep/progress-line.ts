// The line a sweep's cell process writes on stderr after each round (`simulate --progress-lines`)
// and the sweep reads to move that cell's progress bar.

/** Prefix of a progress line; the rest is JSON: { round, rounds, ...info }. */
export const PROGRESS_PREFIX = '@gossipfl-progress ';

export interface ProgressLine {
  readonly round: number;
  readonly rounds: number;
  readonly info: Record<string, string>;
}

export function formatProgressLine(p: ProgressLine): string {
  return `${PROGRESS_PREFIX}${JSON.stringify({ round: p.round, rounds: p.rounds, ...p.info })}`;
}

/** The progress in a line, or null for any other line (a log line, an error). */
export function parseProgressLine(line: string): ProgressLine | null {
  if (!line.startsWith(PROGRESS_PREFIX)) return null;
  try {
    const { round, rounds, ...info } = JSON.parse(line.slice(PROGRESS_PREFIX.length)) as Record<string, unknown>;
    if (typeof round !== 'number' || typeof rounds !== 'number') return null;
    return { round, rounds, info: Object.fromEntries(Object.entries(info).map(([k, v]) => [k, String(v)])) };
  } catch {
    return null;
  }
}
