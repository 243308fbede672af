// SCAFFOLD over gossip (K-GT) as pure functions: one rule step and two whole rounds of three
// peers on a path against values computed by hand (exact fractions), the mean of the estimates
// equal to the mean of the c_i, and the drift that plain gossip keeps and this rule removes.
import { describe, expect, it } from 'vitest';
import { buildAggregation, type AggregationState } from '../../src/aggregation/build.js';
import { scaffoldClientUpdate, scaffoldCorrection } from '../../src/aggregation/scaffold.js';
import { scaffoldGossipStep, trackControl, type ScaffoldGossipState } from '../../src/aggregation/scaffold-gossip.js';
import type { Contribution } from '../../src/aggregation/types.js';
import { makeLayout, paramsFrom, type Params } from '../../src/params/index.js';
import { AggregationError } from '../../src/util/errors.js';

const two = makeLayout([{ name: 'w', shape: [2] }]);
const vec = (values: number[]): Params => paramsFrom(two, Float32Array.from(values));
const values = (a: Float32Array | null) => Array.from(a ?? []);

// The path 0 – 1 – 2 with Metropolis–Hastings weights (doubly stochastic).
const W = [
  [2 / 3, 1 / 3, 0],
  [1 / 3, 1 / 3, 1 / 3],
  [0, 1 / 3, 2 / 3],
];

function expectClose(got: ArrayLike<number>, want: number[]): void {
  expect(got.length).toBe(want.length);
  want.forEach((w, k) => expect(got[k]).toBeCloseTo(w, 6));
}

describe('scaffold-gossip rule', () => {
  it('mixes the models and the estimates that arrived with W_ij; a contribution without an estimate moves the model only', () => {
    const agg = buildAggregation({ name: 'scaffold-gossip' });
    const state: ScaffoldGossipState = { rule: 'scaffold-gossip', estimate: Float32Array.of(3, -3) };
    const received: Contribution[] = [
      { from: 'a', params: vec([4, 0]), weight: 0.25, control: vec([7, 1]) },
      { from: 'b', params: vec([0, 8]), weight: 0.5 },
    ];
    const r = agg.aggregate(state, vec([0, 0]), received, { round: 0 });
    // x = 0 + ¼(4 − 0, 0 − 0) + ½(0 − 0, 8 − 0); ĉ = (3, −3) + ¼((7, 1) − (3, −3)); b's weight stays with self.
    expect(values(r.params.data)).toEqual([1, 4]);
    expect(values((r.state as ScaffoldGossipState).estimate)).toEqual([4, -2]);
    // ĉ = 0 before the first round; the input state is not changed.
    const first = agg.aggregate(agg.initialState(), vec([0, 0]), [received[0]], {});
    expect(values((first.state as ScaffoldGossipState).estimate)).toEqual([1.75, 0.25]);
    expect(values(state.estimate)).toEqual([3, -3]);
    // What the round driver does around the steps: ĉ + Δc_i, and the sent x + η_s(y − x).
    expect(values(trackControl(state, Float32Array.of(0.5, 1)).estimate)).toEqual([3.5, -2]);
    expect(values(trackControl({ rule: 'scaffold-gossip', estimate: null }, Float32Array.of(0.5, 1)).estimate)).toEqual([0.5, 1]);
    expect(values(scaffoldGossipStep(Float32Array.of(1, 1), Float32Array.of(3, -1), 0.5))).toEqual([2, 0]);
    expect(values(scaffoldGossipStep(Float32Array.of(1, 1), Float32Array.of(3, -1), 1))).toEqual([3, -1]);
  });

  it('refuses a malformed estimate, row weights above 1 and the state of another rule', () => {
    const agg = buildAggregation({ name: 'scaffold-gossip' });
    const s = agg.initialState();
    expect(() => agg.aggregate(s, vec([0, 0]), [{ from: 'a', params: vec([1, 1]), weight: 0.5, control: vec([Number.NaN, 0]) }])).toThrow(/estimate ĉ of 'a'/);
    expect(() => agg.aggregate(s, vec([0, 0]), [{ from: 'a', params: vec([1, 1]), weight: 0.7 }, { from: 'b', params: vec([1, 1]), weight: 0.7 }])).toThrow(AggregationError);
    expect(() => agg.aggregate(null, vec([0, 0]), [])).toThrow(/got state of a stateless rule/);
  });
});

/**
 * One round of every peer on f_i(x) = ½·a_i‖x − b_i‖² from the library's parts: K steps with the
 * correction ĉ_i − c_i, the option-II update, ĉ_i + Δc_i, then the rule's mixing over W.
 */
function round(
  name: 'scaffold-gossip' | 'gossip',
  x: Float32Array[],
  ci: Array<Float32Array | null>,
  states: AggregationState[],
  problem: { a: number[]; b: number[][]; lr: number; K: number },
): { y: Float32Array[]; sent: AggregationState[] } {
  const agg = buildAggregation({ name });
  const { a, b, lr, K } = problem;
  const n = x.length;
  const y: Float32Array[] = [];
  const sent: AggregationState[] = [];
  for (let i = 0; i < n; i++) {
    const s = states[i] as ScaffoldGossipState | null;
    const corr = name === 'scaffold-gossip' ? scaffoldCorrection(s!.estimate, ci[i], x[i].length) : new Float32Array(x[i].length);
    const w = x[i].slice();
    for (let k = 0; k < K; k++) for (let d = 0; d < w.length; d++) w[d] -= lr * (a[i] * (w[d] - b[i][d]) + corr[d]);
    y.push(w);
    if (name === 'scaffold-gossip') {
      const u = scaffoldClientUpdate({ global: x[i], local: w, clientControl: ci[i], serverControl: s!.estimate, localLr: lr, localSteps: K });
      ci[i] = u.clientControl;
      sent.push(trackControl(s!, u.controlDelta));
    } else sent.push(null);
  }
  for (let i = 0; i < n; i++) {
    const received: Contribution[] = [];
    for (let j = 0; j < n; j++) {
      if (j === i || W[i][j] === 0) continue;
      const sj = sent[j] as ScaffoldGossipState | null;
      received.push({ from: `p${j}`, params: paramsFrom(two, y[j]), weight: W[i][j], ...(sj ? { control: paramsFrom(two, sj.estimate!) } : {}) });
    }
    const r = agg.aggregate(sent[i], paramsFrom(two, y[i]), received, { round: 0 });
    x[i] = r.params.data;
    states[i] = r.state;
  }
  return { y, sent };
}

describe('scaffold-gossip: two rounds of three peers on a path, by hand', () => {
  it('c_i, ĉ_i and x_i after each round are the hand-computed fractions; mean ĉ = mean c_i', () => {
    // f_i(x) = ½‖x − b_i‖², ∇f_i = x − b_i; η = ½, K = 2; every peer starts at x = 0, c_i = ĉ_i = 0.
    const problem = { a: [1, 1, 1], b: [[1, 0], [0, 2], [-1, 4]], lr: 0.5, K: 2 };
    const x = [0, 1, 2].map(() => new Float32Array(2));
    const ci: Array<Float32Array | null> = [null, null, null];
    const states: AggregationState[] = [0, 1, 2].map(() => buildAggregation({ name: 'scaffold-gossip' }).initialState());

    // Round 1: no correction, so y_i = b_i·(1 − (1 − η)²) = ¾·b_i;
    // c_i⁺ = 0 − 0 + (0 − y_i)/(K·η) = −¾·b_i (the mean gradient of the two steps), ĉ_i + Δc_i = c_i⁺.
    let r = round('scaffold-gossip', x, ci, states, problem);
    expectClose(r.y[0], [3 / 4, 0]);
    expectClose(r.y[2], [-3 / 4, 3]);
    expectClose(ci[0]!, [-3 / 4, 0]);
    expectClose(ci[1]!, [0, -3 / 2]);
    expectClose(ci[2]!, [3 / 4, -3]);
    // x_0 = ⅔·y_0 + ⅓·y_1; x_1 = ⅓(y_0 + y_1 + y_2); ĉ mixes the same way.
    expectClose(x[0], [1 / 2, 1 / 2]);
    expectClose(x[1], [0, 3 / 2]);
    expectClose(x[2], [-1 / 2, 5 / 2]);
    expectClose((states[0] as ScaffoldGossipState).estimate!, [-1 / 2, -1 / 2]);
    expectClose((states[1] as ScaffoldGossipState).estimate!, [0, -3 / 2]);
    expectClose((states[2] as ScaffoldGossipState).estimate!, [1 / 2, -5 / 2]);

    // Round 2, peer 0: correction ĉ_0 − c_0 = (¼, −½); from (½, ½):
    // step 1: (½ − ½(½ − 1 + ¼), ½ − ½(½ − 0 − ½)) = (⅝, ½); step 2: (⅝ + 1/16, ½) = (11/16, ½);
    // c_0⁺ = c_0 − ĉ_0 + (x_0 − y_0)/1 = (−¾ + ½ − 3/16, 0 + ½ + 0) = (−7/16, ½).
    r = round('scaffold-gossip', x, ci, states, problem);
    expectClose(r.y[0], [11 / 16, 1 / 2]);
    expectClose(r.y[1], [0, 15 / 8]);
    expectClose(r.y[2], [-11 / 16, 13 / 4]);
    expectClose(ci[0]!, [-7 / 16, 1 / 2]);
    expectClose(ci[1]!, [0, -3 / 8]);
    expectClose(ci[2]!, [7 / 16, -5 / 4]);
    // What peer 0 sent as its estimate: ĉ_0 + Δc_0 = (−½, −½) + (−7/16 + ¾, ½ − 0) = (−3/16, 0).
    expectClose((r.sent[0] as ScaffoldGossipState).estimate!, [-3 / 16, 0]);
    expectClose(x[0], [11 / 24, 23 / 24]);
    expectClose(x[1], [0, 15 / 8]);
    expectClose(x[2], [-11 / 24, 67 / 24]);
    const est = states.map((s) => (s as ScaffoldGossipState).estimate!);
    expectClose(est[0], [-1 / 8, -1 / 8]);
    expectClose(est[1], [0, -3 / 8]);
    expectClose(est[2], [1 / 8, -5 / 8]);
    // Gradient tracking: the mean of the estimates is SCAFFOLD's c = mean of the c_i, (0, −⅜).
    for (let d = 0; d < 2; d++) {
      expect((est[0][d] + est[1][d] + est[2][d]) / 3).toBeCloseTo((ci[0]![d] + ci[1]![d] + ci[2]![d]) / 3, 6);
    }
  });

  it('removes the drift: with unequal curvatures plain gossip settles off the optimum, SCAFFOLD over gossip reaches it', () => {
    const problem = { a: [1, 4, 0.5], b: [[2, -1], [-1, 0], [6, 3]], lr: 0.1, K: 5 };
    const optimum = [0, 1].map((d) => problem.a.reduce((s, a, i) => s + a * problem.b[i][d], 0) / problem.a.reduce((s, a) => s + a, 0));
    const run = (name: 'scaffold-gossip' | 'gossip'): { error: number; spread: number; estimates: Float32Array[]; ci: Array<Float32Array | null> } => {
      const x = [0, 1, 2].map(() => new Float32Array(2));
      const ci: Array<Float32Array | null> = [null, null, null];
      const states: AggregationState[] = [0, 1, 2].map(() => buildAggregation({ name }).initialState());
      for (let t = 0; t < 300; t++) round(name, x, ci, states, problem);
      const error = Math.max(...x.flatMap((xi) => [0, 1].map((d) => Math.abs(xi[d] - optimum[d]))));
      const estimates = states.flatMap((s) => (s && s.rule === 'scaffold-gossip' ? [s.estimate!] : []));
      const spread = estimates.length ? Math.max(...[0, 1].map((d) => Math.max(...estimates.map((e) => e[d])) - Math.min(...estimates.map((e) => e[d])))) : 0;
      return { error, spread, estimates, ci };
    };
    const plain = run('gossip');
    const tracked = run('scaffold-gossip');
    expect(plain.error).toBeGreaterThan(0.3);
    expect(tracked.error).toBeLessThan(1e-4);
    // At the optimum the estimates agree (consensus) on the mean of the c_i, which is the mean gradient there, 0.
    expect(tracked.spread).toBeLessThan(1e-4);
    for (const e of tracked.estimates) for (const v of e) expect(Math.abs(v)).toBeLessThan(1e-4);
  });
});
