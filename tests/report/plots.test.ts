import { describe, expect, it } from 'vitest';
import { compile } from 'vega-lite';
import { buildPlots } from '../../src/report/plots.js';
import type { NamedRun } from '../../src/report/series.js';
import { syntheticMetrics, syntheticPartition } from './fixtures.js';

/** A vega-lite logger that records warnings instead of printing them. */
function recordingLogger(warnings: string[]) {
  let level = 0;
  const logger = {
    level(l?: number): any {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error: (...args: readonly unknown[]): any => {
      throw new Error(args.join(' '));
    },
    warn: (...args: readonly unknown[]): any => {
      warnings.push(args.join(' '));
      return logger;
    },
    info: (): any => logger,
    debug: (): any => logger,
  };
  return logger;
}

const run = (name: string, rounds: number, partition: boolean): NamedRun => ({
  name,
  metrics: syntheticMetrics({ rounds, peers: 6, seed: rounds, mergeEvery: 5 }),
  partition: partition ? syntheticPartition(6, 10, rounds) : null,
});

describe('buildPlots', () => {
  it('gives the five plots, whose specs compile without warnings with and without point markers', () => {
    for (const runs of [[run('short', 12, true)], [run('long', 200, true), run('no-partition', 20, false)]]) {
      const plots = buildPlots(runs);
      expect(plots.map((p) => p.id)).toEqual(['accuracy', 'accuracy-vs-bytes', 'consensus', 'loss', 'label-histograms']);
      const warnings: string[] = [];
      for (const plot of plots) compile(plot.spec, { logger: recordingLogger(warnings) });
      expect(warnings).toEqual([]);
    }
  });

  it('adds accuracy vs simulated time where a run has stragglers or network delays, and bytes per peer where runs recorded them; the specs compile without warnings', () => {
    const plain = run('plain', 12, false);
    const slow: NamedRun = { ...run('slow', 12, false), summary: { config: { timing: { slowPeers: [{ peer: 1, delayMs: 500 }] } } } };
    const withBytes: NamedRun = { ...plain, name: 'bytes', metrics: syntheticMetrics({ rounds: 12, peers: 6, seed: 1, perPeer: true, perPeerBytes: true }) };
    expect(buildPlots([plain]).map((p) => p.id)).toEqual(['accuracy', 'accuracy-vs-bytes', 'consensus', 'loss']);
    expect(buildPlots([plain, slow]).map((p) => p.id)).toEqual(['accuracy', 'accuracy-vs-bytes', 'accuracy-vs-time', 'consensus', 'loss']);
    const plots = buildPlots([withBytes, slow]);
    expect(plots.map((p) => p.id)).toEqual(['accuracy', 'accuracy-vs-bytes', 'accuracy-vs-time', 'consensus', 'loss', 'bytes-per-peer']);
    const warnings: string[] = [];
    for (const plot of plots) compile(plot.spec, { logger: recordingLogger(warnings) });
    expect(warnings).toEqual([]);
    // Against time every run is drawn, x being each round's simSeconds (1.5 s a round here).
    const time = plots.find((p) => p.id === 'accuracy-vs-time')!.spec as { layer: Array<{ data: { values: Array<Record<string, unknown>> }; encoding: { x: { field: string } } }> };
    const lines = time.layer[3];
    expect(lines.encoding.x.field).toBe('seconds');
    expect(new Set(lines.data.values.map((r) => r.run))).toEqual(new Set(['bytes', 'slow']));
    expect(lines.data.values.filter((r) => r.run === 'slow' && r.series === 'merged').map((r) => r.seconds)).toEqual(Array.from({ length: 12 }, (_, i) => (i + 1) * 1.5));
    // Each peer's faint accuracy line is drawn against time too.
    expect(time.layer[2].data.values).toHaveLength(12 * 6);
  });

  it('leaves the label plot out when no run has a partition, and colours runs in a fixed order', () => {
    const runs = [run('b', 10, false), run('a', 10, false)];
    const plots = buildPlots(runs);
    expect(plots.map((p) => p.id)).not.toContain('label-histograms');
    expect(JSON.stringify(plots[0].spec)).toContain('"domain":["b","a"]');
  });
});
