// The report page: one self-contained HTML file (inline CSS and SVG; no scripts, no fetches),
// so it opens offline and can be mailed or attached as is.
import { configDifferences } from './differences.js';
import { formatBytes, formatPercent, formatSeconds } from './format.js';
import type { RunData } from './read-run.js';

export interface RenderedPlot {
  id: string;
  title: string;
  caption: string;
  svg: string;
  /** File name of the PNG written next to the report. */
  png: string;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; margin: 2rem auto; max-width: 1000px; padding: 0 1rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; }
table { border-collapse: collapse; font-size: 0.95rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35rem 0.7rem; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
th { background: #f4f4f4; }
figure { margin: 1.5rem 0 2.5rem; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: 0.9rem; max-width: 700px; }
.warnings { background: #fff6e0; border-left: 4px solid #e0a000; padding: 0.5rem 1rem; }
pre { background: #f7f7f7; padding: 0.6rem; overflow-x: auto; font-size: 0.85rem; }
`;

export function reportHtml(runs: RunData[], plots: RenderedPlot[]): string {
  const title = runs.length === 1 ? `gossipfl report: ${runs[0].name}` : `gossipfl report: ${runs.length} runs`;
  const warnings = runs.flatMap((r) => r.warnings.map((w) => `${r.name}: ${w}`));
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${warnings.length > 0 ? `<div class="warnings"><p>Warnings</p><ul>${warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul></div>` : ''}
<h2>Summary</h2>
${summaryTable(runs)}
${differencesTable(runs)}
<h2>Plots</h2>
${plots.map(figure).join('\n')}
${configSection(runs)}
</body>
</html>
`;
}

function summaryTable(runs: RunData[]): string {
  // After a final global merge the local mean equals the merged accuracy; the accuracy the
  // local models had reached before it is then the telling number, so show it when recorded.
  const preMerge = runs.some((r) => r.summary.preMergeLocalAccuracyMean != null);
  const head = ['Run', 'Rounds', 'Peers', 'Final local mean acc.'];
  if (preMerge) head.push('Local acc. before last merge');
  head.push('Merged acc.', 'Bytes sent', 'Wall time', 'Backend');
  const rows = runs.map((r) => {
    const s = r.summary;
    const backend = s.device ? `${s.backend} (${s.device})` : s.backend;
    const cells = [
      `<td>${escapeHtml(r.name)}</td>`,
      `<td>${s.rounds}</td>`,
      `<td>${s.peers}</td>`,
      `<td>${formatPercent(s.localAccuracyMean)}</td>`,
      ...(preMerge ? [`<td>${formatPercent(s.preMergeLocalAccuracyMean ?? null)}</td>`] : []),
      `<td>${formatPercent(s.mergedAccuracy)}</td>`,
      `<td>${formatBytes(s.bytesSent)}</td>`,
      `<td>${formatSeconds(s.wallSeconds)}</td>`,
      `<td class="text">${escapeHtml(backend)}</td>`,
    ];
    return `<tr>${cells.join('')}</tr>`;
  });
  return `<table>\n<thead><tr>${head.map((h) => `<th>${h}</th>`).join('')}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

/** The config keys on which overlaid runs differ, one row per run; nothing for a single run. */
function differencesTable(runs: RunData[]): string {
  const diff = configDifferences(runs.map((r) => ({ name: r.name, config: r.summary.config })));
  if (diff.keys.length === 0) return '';
  const head = ['Run', ...diff.keys].map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const rows = diff.rows.map((r) => `<tr><td>${escapeHtml(r.run)}</td>${r.values.map((v) => `<td class="text">${escapeHtml(v)}</td>`).join('')}</tr>`);
  return `<h2>How the runs differ</h2>\n<table class="differences">\n<thead><tr>${head}</tr></thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

// The plot's title is inside its SVG (so the PNG carries it too); no heading repeats it.
function figure(plot: RenderedPlot): string {
  return `<figure id="${plot.id}" aria-label="${escapeHtml(plot.title)}">
${plot.svg}
<figcaption>${escapeHtml(plot.caption)} (PNG: <a href="${escapeHtml(plot.png)}">${escapeHtml(plot.png)}</a>)</figcaption>
</figure>`;
}

function configSection(runs: RunData[]): string {
  const withConfig = runs.filter((r) => r.summary.config !== undefined);
  if (withConfig.length === 0) return '';
  const blocks = withConfig.map(
    (r) => `<details><summary>${escapeHtml(r.name)}</summary><pre>${escapeHtml(JSON.stringify(r.summary.config, null, 2))}</pre></details>`,
  );
  return `<h2>Configurations</h2>\n${blocks.join('\n')}`;
}
