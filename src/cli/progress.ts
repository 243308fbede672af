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
