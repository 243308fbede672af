// writeReport: run directories → one HTML report plus a PNG per plot next to it, named after it. Everything is
// read, validated and rendered in memory first; files are then written atomically, the HTML
// last, so a failure leaves either the previous files or complete new ones.
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../util/errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { reportHtml, type RenderedPlot } from './html.js';
import { buildPlots } from './plots.js';
import { readRun, type RunData } from './read-run.js';
import { renderSvg, svgToPng } from './render.js';

/** What writeReport produced: the HTML, the PNG files and warnings. */
export interface ReportResult {
  html: string;
  pngs: string[];
  /** Non-fatal problems found while reading the runs, prefixed with the run's name. */
  warnings: string[];
}

/** Writes the HTML report comparing the given run folders. */
export async function writeReport(runDirs: string[], outFile: string): Promise<ReportResult> {
  if (runDirs.length === 0) throw new InputError('no run directory given; pass one or more folders that hold metrics.jsonl');
  const runs = uniqueNames(runDirs.map(readRun));
  const plots = buildPlots(runs);
  // PNGs are named after the report (report.html → report-accuracy.png), so two reports in one
  // folder do not overwrite each other's images.
  const stem = basename(outFile).replace(/\.html?$/i, '');
  const rendered: Array<RenderedPlot & { pngBytes: Uint8Array }> = [];
  for (const plot of plots) {
    const svg = await renderSvg(plot.spec, plot.id);
    rendered.push({ id: plot.id, title: plot.title, caption: plot.caption, svg, png: `${stem}-${plot.id}.png`, pngBytes: svgToPng(svg) });
  }
  const html = reportHtml(runs, rendered);
  const outDir = dirname(resolve(outFile));
  const pngs = rendered.map((p) => join(outDir, p.png));
  rendered.forEach((p, i) => writeFileAtomic(pngs[i], p.pngBytes));
  writeFileAtomic(outFile, html);
  return { html: outFile, pngs, warnings: runs.flatMap((r) => r.warnings.map((w) => `${r.name}: ${w}`)) };
}

/** File name of a run folder's own report (its PNGs go next to it as report-<plot>.png). */
export const REPORT_FILE = 'report.html';

/** Writes a run folder's own report, DIR/report.html (what simulate and every peer write at the end of a run). */
export function writeRunReport(dir: string): Promise<ReportResult> {
  return writeReport([dir], join(dir, REPORT_FILE));
}

/** The default output: inside the run directory for one run, the current directory for several. */
export function defaultReportPath(runDirs: string[]): string {
  return runDirs.length === 1 ? join(runDirs[0], REPORT_FILE) : REPORT_FILE;
}

/**
 * Two runs may share a name (e.g. a/seed1 and b/seed1); the plots tell runs apart by name, so
 * such names get their parent folder added, and a counter if that is not enough.
 */
export function uniqueNames(runs: RunData[]): RunData[] {
  const clashes = (name: string, list: RunData[]) => list.filter((r) => r.name === name).length > 1;
  const withParent = runs.map((r) =>
    clashes(r.name, runs) && r.summary.label === undefined ? { ...r, name: `${basename(dirname(resolve(r.dir)))}/${r.name}` } : r,
  );
  const seen = new Map<string, number>();
  return withParent.map((r) => {
    const n = (seen.get(r.name) ?? 0) + 1;
    seen.set(r.name, n);
    return clashes(r.name, withParent) && n > 1 ? { ...r, name: `${r.name} (${n})` } : r;
  });
}
