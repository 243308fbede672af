// Public API of the report layer: read run directories, build plots, write the HTML report.
export type { RoundMetrics, RunSummary, PartitionSummary } from './metrics.js';
export { readRun, parseMetricsLines, METRICS_FILE, SUMMARY_FILE, PARTITION_FILE, type RunData } from './read-run.js';
export { buildPlots, type PlotId, type PlotSpec } from './plots.js';
export type { NamedRun } from './series.js';
export { renderSvg, svgToPng } from './render.js';
export { writeReport, writeRunReport, defaultReportPath, REPORT_FILE, type ReportResult } from './write-report.js';
export { RunDirectory } from './run-dir.js';
