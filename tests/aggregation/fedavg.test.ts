import { describe, expect, it } from 'vitest';
import { fedAvg, globalAverage, gossipMix } from '../../src/aggregation/index.js';
import { makeLayout } from '../../src/params/index.js';
import { AggregationError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { contrib, flatLayout, randomParams, values, vec } from './helpers.js';

const layout = makeLayout([
  { name: 'w', shape: [2, 2] },
  { name: 'b', shape: [2] },
]);

describe('fedAvg', () => {
  it('weights models by sample count', () => {
    const own = vec(layout, [0, 0, 0, 0, 0, 0]);
    const a = vec(layout, [1, 2, 3, 4, 5, 6]);
    const b = vec(layout, [4, 8, 12, 16, 20, 24]);
    const out = fedAvg(own, [contrib('a', a, 1), contrib('b', b, 3)]);
    expect(values(out)).toEqual([3.25, 6.5, 9.75, 13, 16.25, 19.5]);
    expect(out.layout).toBe(layout);
  });

  it('ignores zero-weight senders and does not touch its inputs', () => {
    const own = vec(layout, [9, 9, 9, 9, 9, 9]);
    const a = vec(layout, [1, 2, 3, 4, 5, 6]);
    const b = vec(layout, [100, 100, 100, 100, 100, 100]);
    const out = fedAvg(own, [contrib('a', a, 7), contrib('b', b, 0)]);
    expect(values(out)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(values(own)).toEqual([9, 9, 9, 9, 9, 9]);
    expect(out.data).not.toBe(a.data);
  });

  it('averages identical models back to themselves bit for bit', () => {
    const rng = new Rng(1);
    const x = randomParams(flatLayout(1000), rng, 0.3);
    const out = fedAvg(x, [contrib('a', x, 3), contrib('b', x, 5), contrib('c', x, 11)]);
    expect(out.data).toEqual(x.data);
  });

  it('globalAverage is the plain or weighted mean of all models', () => {
    const l = flatLayout(2);
    expect(values(globalAverage([vec(l, [1, 2]), vec(l, [3, 6])]))).toEqual([2, 4]);
    expect(values(globalAverage([vec(l, [1, 2]), vec(l, [3, 6])], [3, 1]))).toEqual([1.5, 3]);
    expect(() => globalAverage([])).toThrow(AggregationError);
    expect(() => globalAverage([vec(l, [1, 2])], [1, 2])).toThrow(/2 weights/);
  });
});

describe('input validation (shared by every rule)', () => {
  const l = flatLayout(3);
  const own = vec(l, [0, 0, 0]);
  const ok = vec(l, [1, 1, 1]);

  it('refuses zero total weight and an empty group', () => {
    expect(() => fedAvg(own, [contrib('a', ok, 0)])).toThrow(/weights sum to 0/);
    expect(() => fedAvg(own, [])).toThrow(/no contributions/);
  });

  it('refuses NaN and Infinity in a received update, naming the sender', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const p = vec(l, [1, bad, 1]);
      expect(() => fedAvg(own, [contrib('ok', ok), contrib('evil', p)])).toThrow(AggregationError);
      expect(() => gossipMix(own, [contrib('evil', p, 0.5)])).toThrow(/'evil'.*NaN or Infinity/);
    }
  });

  it('refuses non-finite own params', () => {
    expect(() => fedAvg(vec(l, [0, Number.NaN, 0]), [contrib('a', ok)])).toThrow(/own params/);
  });

  it('refuses mismatched layouts and buffer lengths', () => {
    const other = vec(flatLayout(4), [1, 2, 3, 4]);
    expect(() => fedAvg(own, [contrib('a', other)])).toThrow(/tensor layout/);
    const renamed = vec(makeLayout([{ name: 'v', shape: [3], role: 'weight' }]), [1, 2, 3]);
    expect(() => fedAvg(own, [contrib('a', renamed)])).toThrow(AggregationError);
    const short = { layout: l, data: new Float32Array(2) };
    expect(() => fedAvg(own, [contrib('a', short)])).toThrow(/2 values/);
  });

  it('refuses negative or non-finite weights and duplicate senders', () => {
    expect(() => fedAvg(own, [contrib('a', ok, -1)])).toThrow(/weight -1/);
    expect(() => fedAvg(own, [contrib('a', ok, Number.NaN)])).toThrow(/weight NaN/);
    expect(() => fedAvg(own, [contrib('a', ok), contrib('a', ok)])).toThrow(/two contributions from 'a'/);
  });

  it('names the round when the context has one', () => {
    expect(() => fedAvg(own, [], { round: 7 })).toThrow(/fedavg \(round 7\)/);
  });
});
