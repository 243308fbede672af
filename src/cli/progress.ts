// Progress of long work on stderr: a bar (cli-progress) on a terminal; off a terminal (a log
// file, CI, a pipe) a plain line now and then: each further 10% of the work, or every 30 s
// while work moves, and the last step. Nothing when the caller asks for quiet.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

export interface ProgressOptions {
  quiet?: boolean;
  /** What one step of `total` is called in the log lines (default "round"). */
  unit?: string;
  /** Where the log lines go (default: stderr, when it is not a terminal). */
  write?: (line: string) => void;
  /** Clock in ms (default: performance.now). */
  now?: () => number;
}

/** Off a terminal: a line once 1/LOG_PARTS of the total more is done since the last line… */
const LOG_PARTS = 10;
/** …or once this long has passed since the last line (ms), whichever comes first. */
const LOG_EVERY_MS = 30_000;

export function startProgress(total: number, label: string, options: ProgressOptions = {}): Progress {
  if (options.quiet) return { update: () => {}, stop: () => {} };
  if (options.write || !process.stderr.isTTY) {
    return progressLog(total, label, options.unit ?? 'round', options.write ?? ((line) => process.stderr.write(`${line}\n`)), options.now ?? (() => performance.now()));
  }
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | eta {eta_formatted} | {info}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { info: '' });
  return {
    update: (done, info) => bar.update(done, { info: infoText(info) }),
    stop: () => bar.stop(),
  };
}

/** The log-line form of a Progress: `simulate: round 3/10 (30%), merged 80.1%, eta 12 s`. */
function progressLog(total: number, label: string, unit: string, write: (line: string) => void, now: () => number): Progress {
  const start = now();
  let lastDone = 0;
  let lastAt = start;
  return {
    update: (done, info) => {
      const t = now();
      const due = done >= total || (done - lastDone) * LOG_PARTS >= total || (done > lastDone && t - lastAt >= LOG_EVERY_MS);
      if (!due) return;
      lastDone = done;
      lastAt = t;
      const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
      const text = infoText(info);
      const eta = done > 0 && done < total ? `, eta ${formatSeconds((((t - start) / done) * (total - done)) / 1000)}` : '';
      write(`${label}: ${unit} ${done}/${total} (${pct}%)${text ? `, ${text}` : ''}${eta}`);
    },
    stop: () => {},
  };
}

/** 7 s, 2 min 05 s, 1 h 03 min. */
export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** A bar of a multi-bar display: one running task (a sweep's cell). */
export interface TaskBar {
  update(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

/** A bar for the whole job and one bar per running task below it; silent off a terminal or when quiet. */
export interface MultiProgress {
  update(done: number): void;
  task(label: string, total: number): TaskBar;
  stop(): void;
}

const infoText = (info?: Record<string, string | number>) =>
  info
    ? Object.entries(info)
        .map(([k, v]) => `${k} ${v}`)
        .join(' ')
    : '';

export function startMultiProgress(total: number, label: string, options: { quiet?: boolean } = {}): MultiProgress {
  if (options.quiet || !process.stderr.isTTY) return { update: () => {}, task: () => ({ update: () => {}, stop: () => {} }), stop: () => {} };
  const multi = new cliProgress.MultiBar(
    { format: '{label} [{bar}] {value}/{total} | {info}', stream: process.stderr, hideCursor: true, clearOnComplete: false },
    cliProgress.Presets.shades_classic,
  );
  const main = multi.create(total, 0, { label, info: '' }, { format: `{label} [{bar}] {percentage}% | {value}/{total} runs | eta {eta_formatted}` });
  return {
    update: (done) => main.update(done),
    task: (taskLabel, taskTotal) => {
      const bar = multi.create(taskTotal, 0, { label: `  ${taskLabel}`, info: '' });
      return { update: (done, info) => bar.update(done, { info: infoText(info) }), stop: () => multi.remove(bar) };
    },
    stop: () => multi.stop(),
  };
}
