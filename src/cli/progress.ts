// A progress bar on stderr for long work (cli-progress); silent when stderr is not a terminal
// or when the caller asks for quiet, so logs and CI output stay clean.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

export function startProgress(total: number, label: string, options: { quiet?: boolean } = {}): Progress {
  if (options.quiet || !process.stderr.isTTY) return { update: () => {}, stop: () => {} };
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
    update: (done, info) =>
      bar.update(done, {
        info: info
          ? Object.entries(info)
              .map(([k, v]) => `${k} ${v}`)
              .join(' ')
          : '',
      }),
    stop: () => bar.stop(),
  };
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
