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

  it('leaves the label plot out when no run has a partition, and colours runs in a fixed order', () => {
    const runs = [run('b', 10, false), run('a', 10, false)];
    const plots = buildPlots(runs);
    expect(plots.map((p) => p.id)).not.toContain('label-histograms');
    expect(JSON.stringify(plots[0].spec)).toContain('"domain":["b","a"]');
  });
});
