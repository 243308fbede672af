// The combined report of a sweep: each setting's final metrics as mean ± std over its seeds
// (summary.md, summary.csv, summary.json) and report.html with a band (mean ± std over seeds)
// per setting for accuracy and loss by round, plus a PNG of each plot. Rendered in memory
// first, then written atomically, the HTML last.
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { BandPoint, SettingSummary, Stat } from './aggregate.js';
import type { RoundMetrics } from '../report/metrics.js';
import { writeFileAtomic } from '../util/fs.js';
import { escapeHtml } from '../report/html.js';
import { formatBytes, formatSeconds } from '../report/format.js';
import { renderSvg, svgToPng } from '../report/render.js';

/** What the sweep report reads: the summaries and each setting's bands by metric. */
export interface SweepReportInput {
  readonly name: string;
  readonly settings: readonly SettingSummary[];
  /** bands[metric][setting id] */
  readonly bands: Readonly<Record<string, Readonly<Record<string, readonly BandPoint[]>>>>;
  /** Cells that did not finish, one line each. */
  readonly missing: readonly string[];
}

/** The per-round metrics drawn as bands. */
export const BAND_METRICS: readonly (keyof RoundMetrics)[] = ['mergedAccuracy', 'localAccuracyMean', 'trainLoss'];

const LABELS: Record<string, string> = {
  mergedAccuracy: 'merged accuracy',
  localAccuracyMean: 'local accuracy (mean over peers)',
  preMergeLocalAccuracyMean: 'local accuracy before the final merge',
  localAccuracyStd: 'local accuracy std over peers',
  bytesSent: 'bytes sent',
  wallSeconds: 'wall time',
  trainLoss: 'training loss',
  consensusDistance: 'consensus distance',
};

const label = (metric: string) => LABELS[metric] ?? metric;

/** One value in a metric's unit: accuracies in %, bytes in SI units, seconds. */
export function formatValue(metric: string, v: number): string {
  if (/Accuracy/.test(metric)) return `${(v * 100).toFixed(2)}%`;
  if (/^bytes/.test(metric)) return formatBytes(v);
  if (/Seconds$/.test(metric)) return formatSeconds(v);
  return Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(3) : v.toPrecision(4);
}

/** "91.20% ± 0.35" (spread in the mean's unit, accuracy spread in points); "—" with no value. */
export function formatStat(metric: string, s: Stat): string {
  if (s.mean === null || s.std === null) return '—';
  const spread = /Accuracy/.test(metric) ? `${(s.std * 100).toFixed(2)} pts` : formatValue(metric, s.std);
  return s.n > 1 ? `${formatValue(metric, s.mean)} ± ${spread}` : formatValue(metric, s.mean);
}

/** The table as Markdown: one row per setting, mean ± std per metric, seed count. */
export function sweepMarkdown(settings: readonly SettingSummary[], metrics: readonly string[]): string {
  const head = ['setting', 'seeds', ...metrics.map((m) => `${label(m)} (mean ± std)`)];
  const rows = settings.map((s) => [s.name, String(s.seeds.length), ...metrics.map((m) => formatStat(m, s.metrics[m]))]);
  return [head, head.map(() => '---'), ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

/** The table as CSV: raw numbers (fractions, bytes, seconds), mean, std, 95 % half-width and n per metric. */
export function sweepCsv(settings: readonly SettingSummary[], metrics: readonly string[]): string {
  const quote = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const num = (v: number | null) => (v === null ? '' : String(v));
  const head = ['setting', 'id', 'seeds', ...metrics.flatMap((m) => [`${m}_mean`, `${m}_std`, `${m}_ci95`, `${m}_n`])];
  const rows = settings.map((s) => [quote(s.name), s.id, s.seeds.join(' '), ...metrics.flatMap((m) => [num(s.metrics[m].mean), num(s.metrics[m].std), num(s.metrics[m].ci95), String(s.metrics[m].n)])]);
  return `${[head, ...rows].map((r) => r.join(',')).join('\n')}\n`;
}

/** A Vega-Lite plot of one metric: per setting a line of the mean and a band of ± one std. */
export function bandPlotSpec(metric: string, bands: Readonly<Record<string, readonly BandPoint[]>>, names: ReadonlyMap<string, string>): TopLevelSpec {
  const values = Object.entries(bands).flatMap(([id, points]) =>
    points.map((p) => ({ setting: names.get(id) ?? id, round: p.round, mean: p.mean, lo: p.mean - p.std, hi: p.mean + p.std })),
  );
  const percent = /Accuracy/.test(metric);
  const y = { field: 'mean', type: 'quantitative' as const, title: label(metric), ...(percent ? { axis: { format: '.0%' } } : {}), scale: { zero: false } };
  const color = { field: 'setting', type: 'nominal' as const, title: 'setting' };
  const x = { field: 'round', type: 'quantitative' as const, title: 'round', axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    width: 640,
    height: 320,
    data: { values },
    layer: [
      { mark: { type: 'area', opacity: 0.2 }, encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color } },
      { mark: { type: 'line', strokeWidth: 2 }, encoding: { x, y, color } },
    ],
    config: { font: 'DejaVu Sans', view: { stroke: null } },
  } as TopLevelSpec;
}

/** Files the sweep report writes into the sweep's output folder. */
export const SWEEP_REPORT_FILES = { html: 'report.html', markdown: 'summary.md', csv: 'summary.csv', json: 'summary.json' } as const;

/** Writes summary.md/.csv/.json, a PNG per plot and report.html into `dir`; returns the paths. */
export async function writeSweepReport(dir: string, input: SweepReportInput, metrics: readonly string[]): Promise<string[]> {
  const names = new Map(input.settings.map((s) => [s.id, s.name]));
  const plots: { id: string; title: string; svg: string; png: Uint8Array }[] = [];
  for (const metric of BAND_METRICS) {
    const bands = input.bands[metric];
    if (!bands || Object.values(bands).every((b) => b.length === 0)) continue;
    const svg = await renderSvg(bandPlotSpec(metric, bands, names), `band-${metric}`);
    plots.push({ id: `band-${metric}`, title: `${label(metric)} by round: mean ± std over seeds`, svg, png: svgToPng(svg) });
  }
  const markdown = sweepMarkdown(input.settings, metrics);
  const json = { name: input.name, metrics, settings: input.settings, missing: input.missing };
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`gossipfl sweep: ${input.name}`)}</title>
<style>body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1000px;padding:0 1rem;color:#222}
table{border-collapse:collapse}th,td{border-bottom:1px solid #ddd;padding:.35rem .7rem;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f4f4f4}figure svg{max-width:100%;height:auto}.missing{background:#fff6e0;padding:.5rem 1rem}</style></head>
<body><h1>${escapeHtml(`gossipfl sweep: ${input.name}`)}</h1>
${input.missing.length ? `<div class="missing"><p>Not finished (left out of the table):</p><ul>${input.missing.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul></div>` : ''}
<h2>Final metrics over seeds (mean ± sample std)</h2>
${htmlTable(input.settings, metrics)}
<p>The same table as <a href="${SWEEP_REPORT_FILES.csv}">CSV</a> (with 95 % intervals) and <a href="${SWEEP_REPORT_FILES.json}">JSON</a> (with each seed's value).</p>
${plots.map((p) => `<figure>${p.svg}<figcaption>${escapeHtml(p.title)} (<a href="${p.id}.png">PNG</a>)</figcaption></figure>`).join('\n')}
</body></html>
`;
  const written = [
    [SWEEP_REPORT_FILES.markdown, `${markdown}\n`],
    [SWEEP_REPORT_FILES.csv, sweepCsv(input.settings, metrics)],
    [SWEEP_REPORT_FILES.json, `${JSON.stringify(json, null, 2)}\n`],
    ...plots.map((p) => [`${p.id}.png`, p.png] as const),
    [SWEEP_REPORT_FILES.html, html],
  ] as const;
  for (const [file, data] of written) writeFileAtomic(join(dir, file), data);
  return written.map(([file]) => join(dir, file));
}

function htmlTable(settings: readonly SettingSummary[], metrics: readonly string[]): string {
  const head = ['setting', 'seeds', ...metrics.map(label)].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = settings
    .map((s) => `<tr><td>${escapeHtml(s.name)}</td><td>${s.seeds.length}</td>${metrics.map((m) => `<td>${escapeHtml(formatStat(m, s.metrics[m]))}</td>`).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>${rows}</tbody></table>`;
}
