import { describe, expect, it } from 'vitest';
import {
  buildAggregation,
  coordinateMedian,
  fedAvg,
  parseAggregationSpec,
  varianceCorrected,
  type AggregationSpec,
} from '../../src/aggregation/index.js';
import { ConfigError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { contrib, flatLayout, randomParams, values, vec } from './helpers.js';

const layout = flatLayout(16);
const rng = new Rng(9);
const own = randomParams(layout, rng);
const received = [0, 1, 2, 3, 4].map((j) => contrib(`p${j}`, randomParams(layout, rng), 0.1 + j * 0.02));

describe('buildAggregation', () => {
  it('builds the same rule as the direct functions', () => {
    const fa = buildAggregation({ name: 'fedavg' });
    expect(fa.aggregate(fa.initialState(), own, received).params.data).toEqual(fedAvg(own, received).data);
    const vca = buildAggregation({ name: 'vca', selfWeight: 0.3, targetVariance: 'mix' });
    expect(vca.aggregate(null, own, received).params.data).toEqual(varianceCorrected({ selfWeight: 0.3, targetVariance: 'mix' })(own, received).data);
    const med = buildAggregation({ name: 'median', f: 1, includeSelf: false });
    expect(med.aggregate(null, own, received).params.data).toEqual(coordinateMedian({ f: 1, includeSelf: false })(own, received).data);
  });

  it('says how many faulty peers robust rules tolerate and what group they need', () => {
    const cases: Array<[AggregationSpec, number, Array<[number, number]>]> = [
      [{ name: 'median' }, 1, [[1, 0], [4, 1], [7, 3]]],
      [{ name: 'median', f: 2 }, 5, [[4, 0], [5, 2], [8, 3]]],
      [{ name: 'trimmed-mean', f: 2 }, 5, [[4, 0], [5, 2], [9, 2]]],
      [{ name: 'krum', f: 2 }, 7, [[6, 0], [7, 2]]],
      [{ name: 'nna', f: 1 }, 3, [[2, 0], [3, 1]]],
      [{ name: 'fedavg' }, 1, [[10, 0]]],
      [{ name: 'gossip' }, 0, [[10, 0]]],
    ];
    for (const [spec, min, tol] of cases) {
      const agg = buildAggregation(spec);
      expect(agg.minGroupSize, spec.name).toBe(min);
      for (const [n, f] of tol) expect(agg.tolerates(n), `${spec.name} n=${n}`).toBe(f);
    }
  });

  it('threads state through stateful rules and refuses foreign state', () => {
    const fedau = buildAggregation({ name: 'fedau' });
    const s0 = fedau.initialState();
    expect(s0).toEqual({ rule: 'fedau', peers: {} });
    const r = fedau.aggregate(s0, own, received.slice(0, 2), { members: received.map((c) => c.from) });
    expect(r.state).toMatchObject({ rule: 'fedau' });
    expect(() => fedau.aggregate(null, own, received)).toThrow(/state of a stateless rule/);
    const choco = buildAggregation({ name: 'choco-gossip' });
    expect(choco.input).toBe('difference');
    expect(() => choco.aggregate(s0, own, [])).toThrow(/got state of 'fedau'/);
    const l = flatLayout(2);
    const c = choco.aggregate(choco.initialState(), vec(l, [2, 2]), [contrib('j', vec(l, [0, 4]), 0.5)], { ownUpdate: vec(l, [2, 2]) });
    expect(values(c.params)).toEqual([1, 3]);
  });

  it('refuses bad configs with a ConfigError naming the field', () => {
    expect(() => parseAggregationSpec({ name: 'mean' })).toThrow(ConfigError);
    expect(() => parseAggregationSpec({ name: 'vca', selfWeight: 1.5 })).toThrow(/aggregation.selfWeight/);
    expect(() => parseAggregationSpec({ name: 'krum' })).toThrow(/aggregation.f/);
    expect(() => parseAggregationSpec({ name: 'trimmed-mean', f: -1 })).toThrow(ConfigError);
    expect(() => parseAggregationSpec({ name: 'fedavg', extra: 1 })).toThrow(/extra/);
    expect(() => buildAggregation({ name: 'fedavg-m', serverLr: 1, localLr: 0, localSteps: 1 })).toThrow(/localLr/);
    expect(parseAggregationSpec({ name: 'vca', targetVariance: 'own' })).toEqual({ name: 'vca', targetVariance: 'own' });
  });
});
