// Vega-Lite specs of the report's plots, built from the rows of series.ts. Colour is the run
// (the same colour for a run in every plot); line dash tells local mean from merged accuracy;
// dotted vertical rules mark the rounds that ended with an exact global merge; a band is the
// spread over peers, faint lines each peer's own values.
import type { TopLevelSpec } from 'vega-lite';
import {
  accuracyBandRows,
  accuracyRows,
  consensusRows,
  distinctPartitions,
  epsilonRows,
  hasSimulatedDelays,
  histogramRows,
  mergeRows,
  perPeerAccuracyRows,
  perPeerBytesRows,
  perPeerBytesSpreadRows,
  preMergeRows,
  trainLossRows,
  withSimSeconds,
  type NamedRun,
  type PeerValueRow,
  type RoundValueRow,
  type SpreadRow,
} from './series.js';

/** Which plot a spec draws. */
export type PlotId =
  | 'accuracy'
  | 'accuracy-vs-bytes'
  | 'accuracy-vs-time'
  | 'accuracy-vs-epsilon'
  | 'consensus'
  | 'loss'
  | 'bytes-per-peer'
  | 'label-histograms';

/** One plot of the report: its id, title, caption and Vega-Lite spec. */
export interface PlotSpec {
  id: PlotId;
  title: string;
  /** One sentence under the plot in the HTML saying how to read it. */
  caption: string;
  spec: TopLevelSpec;
}

const WIDTH = 640;
const HEIGHT = 320;
/** Above this many points per line the markers would hide the line; draw the line alone. */
const MAX_POINT_MARKERS = 60;
/** Per-peer lines drawn per run at most; more would turn into a solid sheet. */
const MAX_PEER_LINES = 100;

const CONFIG = {
  background: 'white',
  padding: 12,
  font: 'DejaVu Sans, Helvetica, Arial, sans-serif',
  title: { fontSize: 16, subtitleFontSize: 12, subtitleColor: '#555', anchor: 'start' as const, offset: 10 },
  axis: { labelFontSize: 12, titleFontSize: 13, titleFontWeight: 'normal' as const, titlePadding: 8, labelOverlap: true },
  // labelLimit 0: run names are shown whole (a cut name cannot be told from its neighbour).
  legend: { labelFontSize: 12, titleFontSize: 12, labelLimit: 0, symbolStrokeWidth: 2, symbolOpacity: 1 },
  line: { strokeWidth: 2 },
};

/** The report's plots for a set of runs. */
export function buildPlots(runs: NamedRun[]): PlotSpec[] {
  const colour = runColour(runs.map((r) => r.name));
  // Against simulated time only where a run's clock is more than a count of rounds.
  const timed = runs.some((r) => hasSimulatedDelays(r.summary?.config));
  const plots: Array<PlotSpec | null> = [
    accuracyPlot(runs, colour, 'round'),
    accuracyPlot(runs, colour, 'bytes'),
    timed ? accuracyPlot(runs, colour, 'time') : null,
    epsilonPlot(runs, colour),
    consensusPlot(runs, colour),
    lossPlot(runs, colour),
    bytesPerPeerPlot(runs, colour),
    labelHistogramPlot(runs),
  ];
  return plots.filter((p): p is PlotSpec => p !== null);
}

type ColourEncoding = ReturnType<typeof runColour>;

function runColour(names: string[]) {
  return {
    field: 'run',
    type: 'nominal' as const,
    title: 'Run',
    scale: { domain: names, scheme: names.length <= 10 ? 'tableau10' : 'tableau20' },
  };
}

const ROUND_AXIS = { field: 'round', type: 'quantitative' as const, title: 'Round', axis: { tickMinStep: 1, format: 'd' } };
const TIME_AXIS = { field: 'seconds', type: 'quantitative' as const, title: 'Simulated time since the start (s)' };
const BYTES_AXIS = {
  field: 'bytes',
  type: 'quantitative' as const,
  title: 'Cumulative bytes sent, all peers (B, log scale)',
  // Not rounded out to powers of ten: that would leave most of the plot empty.
  scale: { type: 'log' as const, nice: false },
  axis: { format: '~s' },
};

function mergeLayer(runs: NamedRun[], colour: ColourEncoding, x: object) {
  return {
    data: { values: mergeRows(runs) },
    mark: { type: 'rule' as const, strokeDash: [2, 3], strokeWidth: 1.5, opacity: 0.7 },
    encoding: { x, color: colour },
  };
}

/** The spread over peers (rows with lo and hi) as a faint area. */
function bandLayer(rows: object[], colour: ColourEncoding, x: object, y: object) {
  return {
    data: { values: rows },
    mark: { type: 'area' as const, opacity: 0.15 },
    encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color: colour },
  };
}

/** Each peer's own values as a faint line (none where no row is given). */
function peerLinesLayers(rows: object[], colour: ColourEncoding, x: object, y: object) {
  if (rows.length === 0) return [];
  return [
    {
      data: { values: rows },
      mark: { type: 'line' as const, strokeWidth: 1, opacity: 0.2 },
      encoding: { x, y, color: colour, detail: { field: 'peer', type: 'nominal' as const } },
    },
  ];
}

/** Characters of subtitle per line; a longer line would widen the plot past its axes. */
const SUBTITLE_LINE = 80;

/** The notes that apply, joined by ' · ' and wrapped into lines; undefined when none applies. */
export function subtitle(parts: Array<string | false>): string[] | undefined {
  const lines: string[] = [];
  for (const part of parts) {
    if (part === false) continue;
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 3 + part.length <= SUBTITLE_LINE) lines[last] += ` · ${part}`;
    else lines.push(part);
  }
  return lines.length > 0 ? lines : undefined;
}

function titled(text: string, sub: string[] | undefined) {
  return sub === undefined ? { text } : { text, subtitle: sub };
}

function lineMark(pointsPerLine: number) {
  return { type: 'line' as const, point: withMarkers(pointsPerLine) ? { size: 36 } : false };
}

function withMarkers(pointsPerLine: number): boolean {
  return pointsPerLine <= MAX_POINT_MARKERS;
}

function longestSeries(runs: NamedRun[]): number {
  return Math.max(0, ...runs.map((r) => r.metrics.length));
}

const MODEL_SERIES = ['local mean', 'merged'];
// A larger legend symbol, so that the dash pattern of the merged line shows in it.
const MODEL_LEGEND = { field: 'series', type: 'nominal' as const, title: 'Model', legend: { symbolSize: 300 } };

/** The three x axes of the accuracy plot: round, cumulative bytes, simulated time. */
const ACCURACY_VS = {
  round: {
    id: 'accuracy',
    x: ROUND_AXIS,
    title: 'Test accuracy vs round',
    caption: 'Mean test accuracy of the peers’ own models (solid) and of their average, the merged model (dashed).',
  },
  bytes: {
    id: 'accuracy-vs-bytes',
    x: BYTES_AXIS,
    title: 'Test accuracy vs bytes sent',
    caption: 'Accuracy against the total bytes all peers have put on the wire: how much communication each run paid for its accuracy.',
  },
  time: {
    id: 'accuracy-vs-time',
    x: TIME_AXIS,
    title: 'Test accuracy vs simulated time',
    caption:
      'Accuracy against the simulated clock (local steps, network delays, stragglers; a round ends when its slowest peer is done): what slow links and slow peers cost in time. Between real peers the clock is wall time.',
  },
} as const satisfies Record<string, { id: PlotId; x: object; title: string; caption: string }>;

function accuracyPlot(runs: NamedRun[], colour: ColourEncoding, xKind: keyof typeof ACCURACY_VS): PlotSpec {
  const { id, x, title, caption } = ACCURACY_VS[xKind];
  const byBytes = xKind === 'bytes';
  // A log axis cannot show zero bytes (rounds before the first exchange); the time axis reads each round's simSeconds.
  const keep = <T extends { run: string; round: number; bytes: number }>(rows: T[]) =>
    byBytes ? rows.filter((r) => r.bytes > 0) : xKind === 'time' ? withSimSeconds(runs, rows) : rows;
  const bands = keep(accuracyBandRows(runs));
  const merges = keep(mergeRows(runs));
  const preMerge = keep(preMergeRows(runs));
  // Each peer's line against rounds or time; against bytes x is all peers' total, not the peer's own.
  const peerRows = byBytes ? [] : perPeerAccuracyRows(runs, MAX_PEER_LINES);
  const sub = subtitle([
    bands.length > 0 && 'band: min–max of the peers’ local accuracies',
    peerRows.length > 0 && 'faint lines: each peer',
    merges.length > 0 && 'dotted lines: global merges',
    preMerge.length > 0 && 'triangles: local mean just before a merge',
  ]);
  const y = { field: 'accuracy', type: 'quantitative' as const, title: 'Test accuracy (%)', axis: { format: '.0%' }, scale: { zero: false } };
  return {
    id,
    title,
    caption,
    spec: {
      title: titled(title, sub),
      width: WIDTH,
      height: HEIGHT,
      config: CONFIG,
      layer: [
        { ...mergeLayer(runs, colour, x), data: { values: merges } },
        bandLayer(bands, colour, x, y),
        ...peerLinesLayers(xKind === 'time' ? withSimSeconds(runs, peerRows) : peerRows, colour, x, y),
        {
          data: { values: keep(accuracyRows(runs)) },
          mark: lineMark(longestSeries(runs)),
          encoding: {
            x,
            y,
            color: colour,
            strokeDash: { ...MODEL_LEGEND, scale: { domain: MODEL_SERIES, range: [[1, 0], [6, 4]] } },
            // Marker shape tells the series apart too where a run has too few points to show a dash.
            ...(withMarkers(longestSeries(runs)) ? { shape: { ...MODEL_LEGEND, scale: { domain: MODEL_SERIES, range: ['circle', 'square'] } } } : {}),
          },
        },
        {
          data: { values: preMerge },
          mark: { type: 'point', shape: 'triangle-up', filled: true, size: 90, opacity: 1 },
          encoding: { x, y, color: colour },
        },
      ],
    },
  };
}

function consensusPlot(runs: NamedRun[], colour: ColourEncoding): PlotSpec {
  return roundLinePlot(runs, colour, {
    id: 'consensus',
    title: 'Consensus distance vs round',
    note: 'mean over peers of ‖xᵢ − x̄‖²',
    caption:
      'Mean over live peers of the squared distance between a peer’s model and the average model; rounds where it is exactly zero (right after a global merge) are not drawn on the log scale.',
    rows: consensusRows(runs),
    // '~g': 0.01, 0.0001, 1e-7 — plain decimals while short, exponents only for tiny values.
    y: { title: 'Consensus distance (log scale)', scale: { type: 'log' }, axis: { format: '~g' } },
  });
}

function lossPlot(runs: NamedRun[], colour: ColourEncoding): PlotSpec {
  return roundLinePlot(runs, colour, {
    id: 'loss',
    title: 'Training loss vs round',
    caption: 'Mean training loss over the round’s local steps of all active peers.',
    rows: trainLossRows(runs),
    y: { title: 'Training loss (cross-entropy)', scale: { zero: false } },
  });
}

/** Each peer's bytes sent per round: the mean over peers, their min–max band and each peer's faint line. */
function bytesPerPeerPlot(runs: NamedRun[], colour: ColourEncoding): PlotSpec | null {
  const spread = perPeerBytesSpreadRows(runs);
  if (spread.length === 0) return null;
  const server = runs.some((r) => r.metrics.some((m) => m.perPeer?.server !== undefined));
  return roundLinePlot(runs, colour, {
    id: 'bytes-per-peer',
    title: 'Bytes sent per peer vs round',
    note: 'line: mean over peers',
    caption:
      'Payload bytes each peer put on the wire in the round: compression, topology and participation show as the level and spread; a federated server’s own bytes are not drawn.',
    rows: spread,
    band: spread,
    peers: perPeerBytesRows(runs, MAX_PEER_LINES),
    y: { title: `Bytes sent in the round, per ${server ? 'client' : 'peer'} (B)`, axis: { format: '~s' } },
  });
}

/** One line per run of a per-round value, with the global merges marked (and the spread over peers, where given). */
function roundLinePlot(
  runs: NamedRun[],
  colour: ColourEncoding,
  plot: { id: PlotId; title: string; note?: string; caption: string; rows: RoundValueRow[]; band?: SpreadRow[]; peers?: PeerValueRow[]; y: object },
): PlotSpec {
  const merges = mergeRows(runs);
  const band = plot.band ?? [];
  const peers = plot.peers ?? [];
  const y = { field: 'value', type: 'quantitative' as const, ...plot.y };
  const sub = subtitle([
    plot.note ?? false,
    band.length > 0 && 'band: min–max over peers',
    peers.length > 0 && 'faint lines: each peer',
    merges.length > 0 && 'dotted lines: global merges',
  ]);
  return {
    id: plot.id,
    title: plot.title,
    caption: plot.caption,
    spec: {
      title: titled(plot.title, sub),
      width: WIDTH,
      height: HEIGHT,
      config: CONFIG,
      layer: [
        mergeLayer(runs, colour, ROUND_AXIS),
        ...(band.length > 0 ? [bandLayer(band, colour, ROUND_AXIS, y)] : []),
        ...peerLinesLayers(peers, colour, ROUND_AXIS, y),
        {
          data: { values: plot.rows },
          mark: lineMark(longestSeries(runs)),
          encoding: { x: ROUND_AXIS, y, color: colour },
        },
      ],
    },
  };
}

/** Stacked bars of each peer's class counts, one chart per run that has a partition.json. */
function labelHistogramPlot(runs: NamedRun[]): PlotSpec | null {
  // Runs that share a partition (same data, split and seed) share one chart.
  const groups = distinctPartitions(runs);
  if (groups.length === 0) return null;
  const withPartition = groups.map((g) => g.run);
  const numClasses = Math.max(...withPartition.map((r) => r.partition!.numClasses));
  const classes = Array.from({ length: numClasses }, (_, c) => String(c));
  const colour = {
    field: 'label',
    type: 'nominal' as const,
    title: 'Class',
    sort: classes,
    scale: { domain: classes, scheme: numClasses <= 10 ? 'tableau10' : numClasses <= 20 ? 'tableau20' : 'turbo' },
    legend: numClasses <= 60 ? { columns: Math.ceil(numClasses / 20) } : null,
  };
  const named = runs.filter((r) => r.partition !== null).length > 1;
  const charts = groups.map(({ names, run }) => {
    const peers = run.partition!.histograms.length;
    const step = Math.max(2, Math.min(48, Math.floor(WIDTH / peers)));
    return {
      title: named ? names.join(', ') : '',
      width: { step },
      height: HEIGHT * 0.75,
      data: { values: histogramRows([run]) },
      mark: { type: 'bar' as const },
      encoding: {
        x: {
          field: 'peer',
          type: 'ordinal' as const,
          title: 'Peer',
          // With hundreds of peers, overlapping tick labels are dropped rather than drawn on top of each other.
          axis: { labelAngle: 0, labelOverlap: 'greedy' as const, labelSeparation: 6, ticks: peers <= 64 },
        },
        y: { field: 'samples', type: 'quantitative' as const, title: 'Training samples', stack: 'zero' as const },
        color: colour,
        order: { field: 'label', type: 'quantitative' as const },
      },
    };
  });
  const title = 'Label distribution per peer';
  return {
    id: 'label-histograms',
    title,
    caption: 'How many training samples of each class every peer holds: the non-IID-ness of the split.',
    spec: {
      title: titled(title, ['one bar per peer, stacked by class']),
      config: CONFIG,
      vconcat: charts,
      resolve: { scale: { x: 'independent', y: 'independent' } },
    },
  };
}

/** Final accuracy against the run's ε, one point per run and model: the accuracy cost of privacy. */
function epsilonPlot(runs: NamedRun[], colour: ColourEncoding): PlotSpec | null {
  const rows = epsilonRows(runs);
  if (rows.length === 0) return null;
  const deltas = [...new Set(rows.map((r) => r.delta))];
  const title = 'Final test accuracy vs privacy ε';
  return {
    id: 'accuracy-vs-epsilon',
    title,
    caption: 'Each run’s final accuracy against the ε its noise, sampling and rounds give (smaller ε: more private); the gap between runs is the accuracy that privacy cost.',
    spec: {
      title: titled(title, subtitle([`δ = ${deltas.join(', ')}`, 'log scale'])),
      width: WIDTH,
      height: HEIGHT,
      config: CONFIG,
      data: { values: rows },
      mark: { type: 'point', filled: true, size: 120, opacity: 1 },
      encoding: {
        x: { field: 'epsilon', type: 'quantitative', title: 'ε (log scale)', scale: { type: 'log', nice: false }, axis: { format: '~g' } },
        y: { field: 'accuracy', type: 'quantitative', title: 'Test accuracy (%)', axis: { format: '.0%' }, scale: { zero: false } },
        color: colour,
        shape: { ...MODEL_LEGEND, scale: { domain: MODEL_SERIES, range: ['circle', 'square'] } },
      },
    },
  };
}
