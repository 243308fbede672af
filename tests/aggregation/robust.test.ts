import { describe, expect, it } from 'vitest';
import { coordinateMedian, krum, krumScores, nearestNeighbourAverage, trimmedMean, type AggregationRule } from '../../src/aggregation/index.js';
import type { Params } from '../../src/params/index.js';
import { AggregationError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { contrib, flatLayout, randomParams, values, vec } from './helpers.js';

const l = flatLayout(3);
const group = (rows: number[][]) => rows.map((r, j) => contrib(`p${j}`, vec(l, r)));

describe('coordinate-wise median and trimmed mean, by hand', () => {
  const own = vec(l, [5, 0, -1]);
  const received = group([
    [1, 10, -3],
    [3, 20, 7],
    [2, 30, 2],
    [100, -40, 0],
  ]);

  it('median per coordinate, own included (odd group)', () => {
    // columns: {5,1,3,2,100} {0,10,20,30,−40} {−1,−3,7,2,0}
    expect(values(coordinateMedian()(own, received))).toEqual([3, 10, 0]);
  });

  it('median of an even group is the mean of the two middle values', () => {
    // columns without own: {1,3,2,100} {10,20,30,−40} {−3,7,2,0}
    expect(values(coordinateMedian({ includeSelf: false })(own, received))).toEqual([2.5, 15, 1]);
  });

  it('trimmed mean drops f values at each end of every coordinate', () => {
    // f = 1 on {1,2,3,5,100} → (2+3+5)/3; {−40,0,10,20,30} → 10; {−3,−1,0,2,7} → 1/3
    expect(values(trimmedMean({ f: 1 })(own, received))).toEqual([10 / 3, 10, 1 / 3].map(Math.fround));
    // f = 2 keeps only the median
    expect(values(trimmedMean({ f: 2 })(own, received))).toEqual([3, 10, 0]);
  });

  it('sorts large groups as well as small ones', () => {
    const rng = new Rng(5);
    const rows = Array.from({ length: 41 }, () => [rng.normal(), rng.normal(), rng.normal()]);
    const out = coordinateMedian({ includeSelf: false })(vec(l, [0, 0, 0]), group(rows));
    for (let k = 0; k < 3; k++) {
      const col = rows.map((r) => Math.fround(r[k])).sort((a, b) => a - b);
      expect(out.data[k]).toBe(col[20]);
    }
  });
});

describe('Krum, Multi-Krum and NNA, by hand', () => {
  const own = vec(l, [0, 0, 0]);
  const received = group([
    [1, 0, 0],
    [0, 2, 0],
    [0, 0, 3],
    [10, 10, 10],
  ]);

  it('Krum scores are sums of squared distances to the n − f − 2 nearest', () => {
    const xs = [own.data, ...received.map((c) => c.params.data)];
    // n = 5, f = 1: 2 nearest. own: {1,4,9,300} → 5; [1,0,0]: {1,5,10,281} → 6; [0,2,0]: {4,5,13,264} → 9;
    // [0,0,3]: {9,10,13,249} → 19; [10,10,10]: {249,264,281,300} → 513.
    expect(Array.from(krumScores(xs, 1))).toEqual([5, 6, 9, 19, 513]);
  });

  it('Krum returns the best-scored member; Multi-Krum averages the m best', () => {
    expect(values(krum({ f: 1 })(own, received))).toEqual([0, 0, 0]);
    expect(values(krum({ f: 1, m: 3 })(own, received))).toEqual([1 / 3, 2 / 3, 0].map(Math.fround));
    // Without own: n = 4 < 2f + 3 = 5.
    expect(() => krum({ f: 1, includeSelf: false })(own, received)).toThrow(/needs n ≥ 2f \+ 3 = 5/);
    expect(() => krum({ f: 1, m: 5 })(own, received)).toThrow(/m = 5 exceeds n − f = 4/);
  });

  it('NNA averages the n − f members nearest to own (own included)', () => {
    // distances² to own: 1, 4, 9, 300 → f = 1 drops [10,10,10]; f = 2 also drops [0,0,3].
    expect(values(nearestNeighbourAverage({ f: 1 })(own, received))).toEqual([0.25, 0.5, 0.75]);
    expect(values(nearestNeighbourAverage({ f: 2 })(own, received))).toEqual([1 / 3, 2 / 3, 0].map(Math.fround));
    expect(() => nearestNeighbourAverage({ f: 3 })(own, received)).toThrow(AggregationError);
  });
});

describe('robust rules ignore f planted outliers of size 1e6', () => {
  const layout = flatLayout(200);
  const rng = new Rng(2024);
  const f = 2;
  const honestCount = 6; // own + 5 received honest; group n = 8 ≥ 2f + 3
  const center = randomParams(layout, rng);
  const honest: Params[] = Array.from({ length: honestCount }, () => {
    const p = randomParams(layout, rng, 0.1);
    p.data.forEach((v, k) => (p.data[k] = v + center.data[k]));
    return p;
  });
  const own = honest[0];
  const outlierSets: Record<string, Params[]> = {
    'all +1e6': Array.from({ length: f }, () => ({ layout, data: new Float32Array(200).fill(1e6) })),
    '±1e6': [1, -1].map((sign) => ({ layout, data: new Float32Array(200).fill(sign * 1e6) })),
    'random ±1e6 per coordinate': Array.from({ length: f }, () => ({
      layout,
      data: Float32Array.from({ length: 200 }, () => (rng.next() < 0.5 ? -1e6 : 1e6)),
    })),
  };

  const rules: Record<string, AggregationRule> = {
    median: coordinateMedian({ f }),
    'trimmed mean': trimmedMean({ f }),
    krum: krum({ f }),
    'multi-krum': krum({ f, m: 3 }),
    nna: nearestNeighbourAverage({ f }),
  };

  for (const [outlierName, outliers] of Object.entries(outlierSets)) {
    // Outliers in the middle of the received order, so no rule wins by position.
    const received = [
      ...honest.slice(1, 3).map((p, j) => contrib(`h${j}`, p)),
      ...outliers.map((p, j) => contrib(`bad${j}`, p)),
      ...honest.slice(3).map((p, j) => contrib(`h${j + 2}`, p)),
    ];
    for (const [ruleName, rule] of Object.entries(rules)) {
      it(`${ruleName}, outliers ${outlierName}: output stays within the honest values of every coordinate`, () => {
        const out = rule(own, received);
        for (let k = 0; k < 200; k++) {
          const col = honest.map((p) => p.data[k]);
          expect(out.data[k]).toBeGreaterThanOrEqual(Math.min(...col) - 1e-6);
          expect(out.data[k]).toBeLessThanOrEqual(Math.max(...col) + 1e-6);
        }
      });
    }

    it(`krum, outliers ${outlierName}: picks one honest model exactly`, () => {
      const out = krum({ f })(own, received);
      expect(honest.some((p) => p.data.every((v, k) => v === out.data[k]))).toBe(true);
    });

    it(`nna, outliers ${outlierName}: is exactly the mean of the honest models`, () => {
      const out = nearestNeighbourAverage({ f })(own, received);
      for (let k = 0; k < 200; k++) {
        const mean = honest.reduce((a, p) => a + p.data[k], 0) / honestCount;
        expect(out.data[k]).toBe(Math.fround(mean));
      }
    });
  }
});

describe('robust rules refuse groups too small for f', () => {
  const own = vec(l, [0, 0, 0]);
  const two = group([
    [1, 1, 1],
    [2, 2, 2],
  ]);
  it('median and trimmed mean need 2f + 1, Krum 2f + 3, NNA 2f + 1', () => {
    expect(() => coordinateMedian({ f: 2 })(own, two)).toThrow(/group of 3 cannot withstand f = 2/);
    expect(() => trimmedMean({ f: 2 })(own, two)).toThrow(/2f \+ 1 = 5/);
    expect(() => krum({ f: 0 })(own, two)).not.toThrow();
    expect(() => krum({ f: 1 })(own, two)).toThrow(/2f \+ 3 = 5/);
    expect(() => nearestNeighbourAverage({ f: 2 })(own, two)).toThrow(/2f \+ 1 = 5/);
    expect(() => coordinateMedian({ includeSelf: false })(own, [])).toThrow(AggregationError);
  });
});
