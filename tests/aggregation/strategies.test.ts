import { describe, expect, it } from 'vitest';
import {
  buildAggregation,
  fedAvg,
  scaffold,
  scaffoldClientUpdate,
  scaffoldCorrection,
  scaffoldInitialState,
  serverOptimizer,
  serverOptimizerInitialState,
  type ServerOptimizerKind,
} from '../../src/aggregation/index.js';
import { AggregationError, ConfigError } from '../../src/util/errors.js';
import { contrib, flatLayout, values, vec } from './helpers.js';

const l = flatLayout(2);
const close = (got: number[], want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));

describe('adaptive server optimizers (Reddi et al. 2021, Algorithm 2)', () => {
  // β1 = 0.5, β2 = 0.5, τ = 1 (v starts at τ² = 1), η = 1. x = [0, 2].
  // Round 1: A sends [0, 2] (no change), B sends [1.5, 2]: Δ = [0.75, 0], Δ² = [0.5625, 0]; m = 0.5·Δ = [0.375, 0].
  const opts = { serverLr: 1, beta1: 0.5, beta2: 0.5, tau: 1 };
  const round1 = [contrib('A', vec(l, [0, 2])), contrib('B', vec(l, [1.5, 2]))];
  const v1: Record<ServerOptimizerKind, number> = {
    fedadagrad: 1 + 0.5625, // v + Δ² = 25/16
    fedadam: 0.5 * 1 + 0.5 * 0.5625, // β2·v + (1 − β2)·Δ² = 0.78125
    fedyogi: 1 - 0.5 * 0.5625 * Math.sign(1 - 0.5625), // v − (1 − β2)·Δ²·sign(v − Δ²) = 0.71875
  };

  for (const kind of ['fedadagrad', 'fedadam', 'fedyogi'] as const) {
    it(`${kind}: one step matches the hand-computed moments and update`, () => {
      const rule = serverOptimizer(kind, opts);
      const s0 = serverOptimizerInitialState(kind);
      const r = rule(s0, vec(l, [0, 2]), round1);
      expect(values(r.state.m!)).toEqual([0.375, 0]);
      expect(r.state.v![0]).toBe(Math.fround(v1[kind]));
      expect(r.state.v![1]).toBe(kind === 'fedadagrad' ? 1 : kind === 'fedadam' ? 0.5 : 1); // Δ = 0: Adam decays v, Yogi keeps it (sign(1) · 0)
      close(values(r.params), [0.375 / (Math.sqrt(Math.fround(v1[kind])) + 1), 2]);
      expect(r.state.step).toBe(1);
      expect(s0.m).toBeNull(); // the old state is untouched
    });
  }

  it('fedadagrad: x = [0, 2] → [1/6, 2] exactly as computed by hand (√(25/16) = 5/4)', () => {
    const r = serverOptimizer('fedadagrad', opts)(serverOptimizerInitialState('fedadagrad'), vec(l, [0, 2]), round1);
    expect(r.params.data[0]).toBe(Math.fround(0.375 / 2.25));
  });

  it('fedyogi: the second moment grows when Δ² exceeds it (sign flips) and carries over rounds', () => {
    const rule = serverOptimizer('fedyogi', { serverLr: 1, beta1: 0, beta2: 0.5, tau: 0.5 });
    // Round 1 from x = [0, 0]: Δ = [2, 0]; v0 = τ² = 0.25 < Δ² = 4, so v = 0.25 + 0.5·4 = 2.25, m = Δ (β1 = 0);
    // x = 2/(1.5 + 0.5) = 1.
    const r1 = rule(serverOptimizerInitialState('fedyogi'), vec(l, [0, 0]), [contrib('A', vec(l, [2, 0]))]);
    expect(values(r1.state.v!)).toEqual([2.25, 0.25]);
    expect(values(r1.params)).toEqual([1, 0]);
    // Round 2 from x = [1, 0]: Δ = [1, 0]; v = 2.25 − 0.5·1·sign(2.25 − 1) = 1.75; x = 1 + 1/(√1.75 + 0.5).
    const r2 = rule(r1.state, r1.params, [contrib('A', vec(l, [2, 0]))]);
    expect(values(r2.state.v!)).toEqual([1.75, 0.25]);
    close(values(r2.params), [1 + 1 / (Math.sqrt(1.75) + 0.5), 0]);
  });

  it('weights the pseudo-gradient by sample count (the plain mean when the counts are equal)', () => {
    const rule = serverOptimizer('fedadam', { serverLr: 1, beta1: 0, beta2: 0, tau: 1 });
    // Δ = (1·[4, 0] + 3·[0, 0]) / 4 = [1, 0]; β2 = 0: v = Δ² = [1, 0]; x = Δ/(√v + 1) = [0.5, 0].
    const r = rule(serverOptimizerInitialState('fedadam'), vec(l, [0, 0]), [contrib('A', vec(l, [4, 0]), 1), contrib('B', vec(l, [0, 0]), 3)]);
    expect(values(r.params)).toEqual([0.5, 0]);
  });

  it('are registered rules with validated parameters and their own state', () => {
    const agg = buildAggregation({ name: 'fedadam', serverLr: 0.1 });
    const s = agg.initialState();
    expect(s).toEqual({ rule: 'fedadam', m: null, v: null, step: 0 });
    const r = agg.aggregate(s, vec(l, [0, 0]), [contrib('A', vec(l, [1, 1]))]);
    expect(agg.training).toBeUndefined();
    expect(() => buildAggregation({ name: 'fedyogi', serverLr: 0.1 }).aggregate(r.state, vec(l, [0, 0]), [])).toThrow(/state of 'fedadam'/);
    expect(() => buildAggregation({ name: 'fedadagrad', serverLr: -1 })).toThrow(ConfigError);
    expect(() => buildAggregation({ name: 'fedadam', serverLr: 1, beta1: 1 })).toThrow(/beta1/);
    expect(() => agg.aggregate(s, vec(l, [0, 0]), [])).toThrow(AggregationError);
  });
});

describe('FedProx (Li et al. 2020)', () => {
  it('averages as FedAvg and asks local training for the proximal term', () => {
    const agg = buildAggregation({ name: 'fedprox', mu: 0.01 });
    expect(agg.training).toEqual({ proximalMu: 0.01 });
    const received = [contrib('A', vec(l, [1, 2]), 1), contrib('B', vec(l, [3, 6]), 3)];
    expect(values(agg.aggregate(null, vec(l, [0, 0]), received).params)).toEqual(values(fedAvg(vec(l, [0, 0]), received)));
    expect(values(agg.aggregate(null, vec(l, [0, 0]), received).params)).toEqual([2.5, 5]);
    expect(() => buildAggregation({ name: 'fedprox', mu: -1 } as never)).toThrow(/mu/);
  });
});

describe('SCAFFOLD (Karimireddy et al. 2020, option II)', () => {
  it('server: x ← x + η_g·mean Δy, c ← c + (1/N)·Σ Δc', () => {
    const members = ['A', 'B', 'C', 'D'];
    const received = [
      { ...contrib('A', vec(l, [1, 2])), control: vec(l, [0.5, 0]) },
      { ...contrib('B', vec(l, [3, 0])), control: vec(l, [0, 1]) },
    ];
    const r = scaffold()(scaffoldInitialState(), vec(l, [0, 0]), received, { members });
    expect(values(r.params)).toEqual([2, 1]); // mean of [1, 2] and [3, 0]
    expect(values(r.state.c!)).toEqual([0.125, 0.25]); // [0.5, 1] / 4
    const half = scaffold({ serverLr: 0.5 })(r.state, vec(l, [0, 0]), received, { members });
    expect(values(half.params)).toEqual([1, 0.5]);
    expect(values(half.state.c!)).toEqual([0.25, 0.5]);
  });

  it('client: c_i⁺ = c_i − c + (x − y)/(K·η_l) and the correction c − c_i', () => {
    // x = [1, 1], y = [0.5, 1.5], c_i = [0.25, 0], c = [0.5, 0.5], η_l = 0.25, K = 2 (1/(Kη) = 2):
    // c_i⁺ = [0.25 − 0.5 + 1, 0 − 0.5 − 1] = [0.75, −1.5], Δc = [0.5, −1.5].
    const u = scaffoldClientUpdate({
      global: Float32Array.from([1, 1]),
      local: Float32Array.from([0.5, 1.5]),
      clientControl: Float32Array.from([0.25, 0]),
      serverControl: Float32Array.from([0.5, 0.5]),
      localLr: 0.25,
      localSteps: 2,
    });
    expect(values(u.clientControl)).toEqual([0.75, -1.5]);
    expect(values(u.controlDelta)).toEqual([0.5, -1.5]);
    expect(values(scaffoldCorrection(Float32Array.from([0.5, 0.5]), Float32Array.from([0.25, 0]), 2))).toEqual([0.25, 0.5]);
    expect(values(scaffoldCorrection(null, null, 2))).toEqual([0, 0]);
  });

  it('refuses a contribution without its control, or a round without members', () => {
    const agg = buildAggregation({ name: 'scaffold' });
    expect(agg.training).toEqual({ controlVariates: true });
    const s = agg.initialState();
    expect(() => agg.aggregate(s, vec(l, [0, 0]), [contrib('A', vec(l, [1, 1]))], { members: ['A'] })).toThrow(/no control/);
    expect(() => agg.aggregate(s, vec(l, [0, 0]), [{ ...contrib('A', vec(l, [1, 1])), control: vec(l, [0, 0]) }])).toThrow(/ctx.members/);
  });
});

/**
 * The known effect on a problem small enough to solve by hand: client i minimises
 * f_i(w) = ½·a_i·(w − b_i)², so the global optimum is w* = Σ a_i b_i / Σ a_i. With many local
 * steps FedAvg drifts to a point biased toward the flat clients' optima; the proximal term
 * shrinks that bias; SCAFFOLD's control variates remove it.
 */
describe('client drift on heterogeneous quadratics (40 local steps)', () => {
  const a = [1, 10];
  const b = [5, -1];
  const optimum = (a[0] * b[0] + a[1] * b[1]) / (a[0] + a[1]); // 5/11 − 10/11 = −5/11
  const lr = 0.05;
  const K = 40;
  const one = flatLayout(1);
  const members = ['0', '1'];

  /** K SGD steps on f_i from w, with the gradient plus μ(w − anchor) plus a correction. */
  function local(i: number, w0: number, mu: number, correction: number): number {
    let w = w0;
    for (let k = 0; k < K; k++) w -= lr * (a[i] * (w - b[i]) + mu * (w - w0) + correction);
    return w;
  }

  function run(name: 'fedavg' | 'fedprox' | 'scaffold', rounds: number): number {
    const agg = buildAggregation(name === 'fedprox' ? { name, mu: 1 } : { name });
    let state = agg.initialState();
    let x = 0;
    const ci: Float32Array[] = [new Float32Array(1), new Float32Array(1)];
    for (let t = 0; t < rounds; t++) {
      const c = state && state.rule === 'scaffold' ? state.c : null;
      const received = [0, 1].map((i) => {
        const corr = name === 'scaffold' ? scaffoldCorrection(c, ci[i], 1)[0] : 0;
        const y = local(i, x, agg.training?.proximalMu ?? 0, corr);
        const u = scaffoldClientUpdate({ global: Float32Array.of(x), local: Float32Array.of(y), clientControl: ci[i], serverControl: c, localLr: lr, localSteps: K });
        ci[i] = u.clientControl;
        return { ...contrib(String(i), vec(one, [y])), control: vec(one, [u.controlDelta[0]]) };
      });
      const r = agg.aggregate(state, vec(one, [x]), received, { members });
      state = r.state;
      x = r.params.data[0];
    }
    return x;
  }

  it('FedAvg stays biased, FedProx less, SCAFFOLD reaches the optimum', () => {
    const err = (name: 'fedavg' | 'fedprox' | 'scaffold') => Math.abs(run(name, 200) - optimum);
    const fedavg = err('fedavg');
    const fedprox = err('fedprox');
    const scaf = err('scaffold');
    // FedAvg's fixed point, by hand: after K steps client i is at b_i + (x − b_i)(1 − lr·a_i)^K;
    // the mean of those equals x at x = Σ b_i (1 − q_i) / Σ (1 − q_i), q_i = (1 − lr·a_i)^K.
    const q = a.map((ai) => (1 - lr * ai) ** K);
    const fixed = (b[0] * (1 - q[0]) + b[1] * (1 - q[1])) / (2 - q[0] - q[1]);
    expect(fedavg).toBeCloseTo(Math.abs(fixed - optimum), 4);
    expect(fedavg).toBeGreaterThan(1);
    expect(fedprox).toBeLessThan(fedavg);
    expect(scaf).toBeLessThan(1e-4);
  });
});
