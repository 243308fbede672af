import { describe, expect, it } from 'vitest';
import type { RoundMetrics } from '../../src/report/metrics.js';
import {
  accuracyBandRows,
  accuracyRows,
  consensusRows,
  histogramRows,
  mergeRows,
  preMergeRows,
  trainLossRows,
  type NamedRun,
} from '../../src/report/series.js';
import { formatBytes, formatPercent, formatSeconds } from '../../src/report/format.js';
import { scopeSvgIds } from '../../src/report/render.js';
import { escapeHtml } from '../../src/report/html.js';
import { subtitle } from '../../src/report/plots.js';

function m(round: number, fields: Partial<RoundMetrics>): RoundMetrics {
  return {
    round,
    activePeers: 3,
    localAccuracyMean: null,
    localAccuracyStd: null,
    localAccuracyMin: null,
    localAccuracyMax: null,
    mergedAccuracy: null,
    mergedLoss: null,
    trainLoss: 1,
    consensusDistance: 0.5,
    bytesSent: 100,
    bytesReceived: 100,
    bytesSentTotal: 100 * round,
    globalMerge: false,
    simSeconds: round,
    wallSeconds: round,
    ...fields,
  };
}

const run: NamedRun = {
  name: 'a',
  metrics: [
    m(1, { localAccuracyMean: 0.5, localAccuracyMin: 0.25, localAccuracyMax: 0.75, trainLoss: 2 }),
    m(2, { localAccuracyMean: 0.875, localAccuracyStd: 0.25, mergedAccuracy: 0.9, consensusDistance: 0, globalMerge: true, preMergeLocalAccuracyMean: 0.8 }),
    m(3, { mergedAccuracy: 0.95, trainLoss: Number.NaN, consensusDistance: 0.125 }),
  ],
  partition: { numClasses: 3, histograms: [[5, 0, 1], [0, 7, 0]] },
};

describe('plot rows', () => {
  it('keeps only evaluated accuracies, one row per series', () => {
    expect(accuracyRows([run])).toEqual([
      { run: 'a', round: 1, bytes: 100, series: 'local mean', accuracy: 0.5 },
      { run: 'a', round: 2, bytes: 200, series: 'local mean', accuracy: 0.875 },
      { run: 'a', round: 2, bytes: 200, series: 'merged', accuracy: 0.9 },
      { run: 'a', round: 3, bytes: 300, series: 'merged', accuracy: 0.95 },
    ]);
  });

  it('bands by min–max where recorded, else mean ± std clipped to [0, 1]', () => {
    expect(accuracyBandRows([run])).toEqual([
      { run: 'a', round: 1, bytes: 100, lo: 0.25, hi: 0.75 },
      { run: 'a', round: 2, bytes: 200, lo: 0.625, hi: 1 },
    ]);
  });

  it('drops zero consensus distances (log axis) and non-finite losses', () => {
    expect(consensusRows([run])).toEqual([
      { run: 'a', round: 1, value: 0.5 },
      { run: 'a', round: 3, value: 0.125 },
    ]);
    expect(trainLossRows([run])).toEqual([
      { run: 'a', round: 1, value: 2 },
      { run: 'a', round: 2, value: 1 },
    ]);
  });

  it('lists global merges and the non-zero class counts of each peer', () => {
    expect(mergeRows([run])).toEqual([{ run: 'a', round: 2, bytes: 200 }]);
    expect(preMergeRows([run])).toEqual([{ run: 'a', round: 2, bytes: 200, accuracy: 0.8 }]);
    expect(histogramRows([run, { ...run, name: 'b', partition: null }])).toEqual([
      { run: 'a', peer: 0, label: '0', samples: 5 },
      { run: 'a', peer: 0, label: '2', samples: 1 },
      { run: 'a', peer: 1, label: '1', samples: 7 },
    ]);
  });
});

describe('formats', () => {
  it('formats the summary table cells', () => {
    expect(formatPercent(0.91234)).toBe('91.23 %');
    expect(formatPercent(null)).toBe('—');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1234567)).toBe('1.23 MB');
    expect(formatBytes(12_345_678_901)).toBe('12.3 GB');
    expect(formatBytes(456_000)).toBe('456 kB');
    expect(formatSeconds(42.04)).toBe('42.0 s');
    expect(formatSeconds(125)).toBe('2 min 05 s');
    expect(formatSeconds(3725)).toBe('1 h 02 min 05 s');
  });

  it('joins the plot notes that apply and wraps them at 80 characters', () => {
    expect(subtitle([false, false])).toBeUndefined();
    expect(subtitle(['a', false, 'b'])).toEqual(['a · b']);
    expect(subtitle(['x'.repeat(60), 'y'.repeat(17), 'z'])).toEqual([`${'x'.repeat(60)} · ${'y'.repeat(17)}`, 'z']);
  });

  it('escapes HTML and scopes SVG ids so several inline SVGs do not share them', () => {
    expect(escapeHtml(`<a href="x">&'`)).toBe('&lt;a href=&quot;x&quot;&gt;&amp;&#39;');
    const svg = '<clipPath id="clip1"><rect/></clipPath><g clip-path="url(#clip1)"></g>';
    expect(scopeSvgIds(svg, 'loss')).toBe('<clipPath id="loss-clip1"><rect/></clipPath><g clip-path="url(#loss-clip1)"></g>');
  });
});
