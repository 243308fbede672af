// `gossipfl report DIR... [--out FILE]`: run directories → one HTML report with plots, and a
// PNG of each plot next to it.
import type { Command } from 'commander';
import { defaultReportPath, writeReport } from '../../report/index.js';

interface ReportOptions {
  out?: string;
}

export function register(program: Command): void {
  program
    .command('report')
    .description('write an HTML report (summary table, accuracy, bytes, consensus, loss and label plots) of one or more runs')
    .argument('<dir...>', 'run directories (each holds metrics.jsonl, summary.json and optionally partition.json); several are overlaid')
    .option('--out <file>', 'HTML file to write (default: DIR/report.html for one run, ./report.html for several); PNGs go next to it')
    .action(async (dirs: string[], opts: ReportOptions) => {
      const result = await writeReport(dirs, opts.out ?? defaultReportPath(dirs));
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning}\n`);
      process.stdout.write(`wrote ${result.html}\n`);
      for (const png of result.pngs) process.stdout.write(`wrote ${png}\n`);
    });
}
