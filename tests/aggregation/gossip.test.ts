import { describe, expect, it } from 'vitest';
import { chocoGossip, chocoInitialState, gossipMix, type ChocoState } from '../../src/aggregation/index.js';
import { paramsFrom, type Params } from '../../src/params/index.js';
import { AggregationError } from '../../src/util/errors.js';
import { Rng } from '../../src/util/rng.js';
import { contrib, flatLayout, randomParams, values, vec } from './helpers.js';

const l = flatLayout(2);
const third = 1 / 3;

describe('gossipMix', () => {
  it('mixes with the topology weights: x_i + Σ W_ij (x_j − x_i)', () => {
    const out = gossipMix(vec(l, [3, 6]), [contrib('left', vec(l, [0, 0]), third), contrib('right', vec(l, [6, 3]), third)]);
    expect(values(out)).toEqual([3, 3]);
  });

  it('hands a missing neighbour’s weight back to self, and leaves x alone with no neighbour', () => {
    expect(values(gossipMix(vec(l, [4, 8]), [contrib('a', vec(l, [0, 0]), 0.25)]))).toEqual([3, 6]);
    expect(values(gossipMix(vec(l, [4, 8]), []))).toEqual([4, 8]);
  });

  it('refuses neighbour weights summing to more than 1', () => {
    expect(() => gossipMix(vec(l, [0, 0]), [contrib('a', vec(l, [1, 1]), 0.6), contrib('b', vec(l, [1, 1]), 0.6)])).toThrow(
      /sum to 1.2 > 1/,
    );
  });

  it('preserves the network mean under a doubly stochastic ring (Metropolis–Hastings 1/3)', () => {
    const rng = new Rng(3);
    const n = 6;
    const layout = flatLayout(50);
    let xs = Array.from({ length: n }, () => randomParams(layout, rng));
    const mean = (ps: Params[]) => Array.from({ length: 50 }, (_, k) => ps.reduce((s, p) => s + p.data[k], 0) / n);
    const before = mean(xs);
    const spread = (ps: Params[]) => ps.reduce((s, p) => s + p.data.reduce((a, v, k) => a + (v - before[k]) ** 2, 0), 0);
    const spreadBefore = spread(xs);
    for (let round = 0; round < 5; round++) {
      xs = xs.map((x, i) =>
        gossipMix(x, [contrib(`p${(i + 1) % n}`, xs[(i + 1) % n], third), contrib(`p${(i + n - 1) % n}`, xs[(i + n - 1) % n], third)]),
      );
    }
    const after = mean(xs);
    for (let k = 0; k < 50; k++) expect(after[k]).toBeCloseTo(before[k], 5);
    expect(spread(xs)).toBeLessThan(spreadBefore * 0.5);
  });
});

describe('chocoGossip (compressed differences, public copies)', () => {
  it('updates the copies and moves x by γ Σ W_ij (x̂_j − x̂_i), by hand', () => {
    const rule = chocoGossip({ stepSize: 0.5 });
    const s0 = chocoInitialState();
    const r1 = rule(s0, vec(l, [4, 8]), [contrib('j', vec(l, [0, 4]), 0.5)], { ownUpdate: vec(l, [4, 8]) });
    // x̂_i = [4, 8], x̂_j = [0, 4]; x = [4, 8] + 0.5·0.5·([0, 4] − [4, 8]) = [3, 7]
    expect(values(r1.params)).toEqual([3, 7]);
    expect(values(r1.state.self!)).toEqual([4, 8]);
    expect(values(r1.state.copies.j)).toEqual([0, 4]);
    expect(s0).toEqual({ rule: 'choco-gossip', self: null, copies: {} });

    // Round 2: own publishes q_i = [−1, −1] (x̂_i → [3, 7]); j publishes [2, 0] (x̂_j → [2, 4]).
    const r2 = rule(r1.state, r1.params, [contrib('j', vec(l, [2, 0]), 0.5)], { ownUpdate: vec(l, [-1, -1]) });
    // x = [3, 7] + 0.25·([2, 4] − [3, 7]) = [2.75, 6.25]
    expect(values(r2.params)).toEqual([2.75, 6.25]);
    expect(values(r2.state.copies.j)).toEqual([2, 4]);
    expect(values(r1.state.copies.j)).toEqual([0, 4]);
  });

  it('with exact differences and γ = 1 equals plain gossip mixing', () => {
    const rng = new Rng(11);
    const layout = flatLayout(64);
    const n = 4;
    let xs = Array.from({ length: n }, () => randomParams(layout, rng));
    let states: ChocoState[] = xs.map(() => chocoInitialState());
    const rule = chocoGossip();
    for (let round = 0; round < 3; round++) {
      // Each peer publishes q = x − x̂ exactly, so every copy equals the model.
      const q = xs.map((x, i) => paramsFrom(layout, x.data.map((v, k) => v - (states[i].self?.[k] ?? 0))));
      const neighbours = (i: number) => [(i + 1) % n, (i + n - 1) % n];
      const expected = xs.map((x, i) => gossipMix(x, neighbours(i).map((j) => contrib(`p${j}`, xs[j], 0.25))));
      const next = xs.map((x, i) => rule(states[i], x, neighbours(i).map((j) => contrib(`p${j}`, q[j], 0.25)), { ownUpdate: q[i] }));
      for (let i = 0; i < n; i++) {
        for (let k = 0; k < 64; k++) expect(next[i].params.data[k]).toBeCloseTo(expected[i].data[k], 5);
      }
      xs = next.map((r) => r.params);
      states = next.map((r) => r.state);
    }
  });

  it('needs the own published difference, in the same layout', () => {
    const rule = chocoGossip();
    expect(() => rule(chocoInitialState(), vec(l, [0, 0]), [])).toThrow(/ctx.ownUpdate is missing/);
    expect(() => rule(chocoInitialState(), vec(l, [0, 0]), [], { ownUpdate: vec(flatLayout(3), [1, 2, 3]) })).toThrow(AggregationError);
  });

  it('keeps peer ids as plain keys, whatever they are', () => {
    const r = chocoGossip()(chocoInitialState(), vec(l, [0, 0]), [contrib('__proto__', vec(l, [2, 2]), 0.5)], { ownUpdate: vec(l, [0, 0]) });
    expect(Object.keys(r.state.copies)).toEqual(['__proto__']);
    expect(values(r.params)).toEqual([1, 1]);
  });
});
