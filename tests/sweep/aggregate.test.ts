import { describe, expect, it } from 'vitest';
import { band, finalValue, stat, summarizeSetting, tQuantile975, type CellResult } from '../../src/sweep/aggregate.js';
import type { RoundMetrics, RunSummary } from '../../src/report/metrics.js';

const round = (r: number, merged: number | null, loss: number): RoundMetrics => ({
  round: r, activePeers: 4, localAccuracyMean: merged, localAccuracyStd: null, localAccuracyMin: null, localAccuracyMax: null,
  mergedAccuracy: merged, mergedLoss: null, trainLoss: loss, consensusDistance: 0.5, bytesSent: 0, bytesReceived: 0, bytesSentTotal: 0,
  globalMerge: false, simSeconds: 0, wallSeconds: 0,
});
const run = (seed: number, finalAcc: number, rounds: RoundMetrics[]): CellResult => ({
  seed,
  metrics: rounds,
  summary: { rounds: rounds.length, peers: 4, localAccuracyMean: finalAcc, mergedAccuracy: finalAcc, bytesSent: 1000 * seed, wallSeconds: 1, backend: 'cpu' } as RunSummary,
});

describe('mean and spread over seeds', () => {
  it('stat: mean, sample std, Student-t 95 % half-width, min, max', () => {
    const s = stat([0.8, 0.9, 1.0]);
    expect(s.n).toBe(3);
    expect(s.mean).toBeCloseTo(0.9, 15);
    expect(s.std).toBeCloseTo(0.1, 15); // sqrt((0.01 + 0 + 0.01) / 2)
    expect(s.ci95).toBeCloseTo((4.303 * 0.1) / Math.sqrt(3), 12);
    expect([s.min, s.max]).toEqual([0.8, 1.0]);
    expect(stat([0.5])).toMatchObject({ n: 1, mean: 0.5, std: 0, ci95: null });
    expect(stat([])).toMatchObject({ n: 0, mean: null, std: null });
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(30)).toBe(2.042);
    expect(tQuantile975(100)).toBe(1.96);
    expect(() => tQuantile975(0)).toThrow(RangeError);
  });

  it('final values come from the summary, or the last round that has a number', () => {
    const r = run(1, 0.7, [round(1, 0.5, 2), round(2, null, 1.5)]);
    expect(finalValue(r, 'mergedAccuracy')).toBe(0.7);
    expect(finalValue(r, 'bytesSent')).toBe(1000);
    expect(finalValue(r, 'trainLoss')).toBe(1.5);
    expect(finalValue(r, 'localAccuracyMean')).toBe(0.7);
    expect(finalValue(r, 'preMergeLocalAccuracyMean')).toBeNull();
  });

  it('summarizeSetting and band over three seeds', () => {
    const runs = [
      run(1, 0.8, [round(1, 0.4, 2), round(2, 0.8, 1)]),
      run(2, 0.9, [round(1, 0.6, 2), round(2, 0.9, 1)]),
      run(3, 1.0, [round(1, null, 2), round(2, 1.0, 1)]),
    ];
    const s = summarizeSetting('a', 'A', runs, ['mergedAccuracy', 'bytesSent', 'preMergeLocalAccuracyMean']);
    expect(s.seeds).toEqual([1, 2, 3]);
    expect(s.metrics.mergedAccuracy.mean).toBeCloseTo(0.9, 15);
    expect(s.metrics.bytesSent).toMatchObject({ n: 3, mean: 2000, std: 1000 });
    expect(s.metrics.preMergeLocalAccuracyMean.n).toBe(0);
    const b = band(runs, 'mergedAccuracy');
    expect(b.map((p) => [p.round, p.n])).toEqual([[1, 2], [2, 3]]);
    expect(b[0].mean).toBeCloseTo(0.5, 15);
    expect(b[0].std).toBeCloseTo(Math.SQRT2 * 0.1, 12);
    expect(b[1].std).toBeCloseTo(0.1, 12);
  });
});
