import { describe, expect, it } from 'vitest';
import {
  budget,
  budgetAt,
  budgetForRound,
  buildSchedule,
  communicateEvery,
  equalBudget,
  gossipStepsPerRound,
  mergeAt,
  parseScheduleSpec,
  roundProgress,
  scaleBudget,
  totalBudget,
} from '../../src/schedule/index.js';
import { ConfigError } from '../../src/util/errors.js';

describe('budget shapes r(p) at 0, the switch points and 1', () => {
  it('fixed(r) = r everywhere', () => {
    for (const p of [0, 0.5, 1]) expect(budgetAt(budget.fixed(0.2), p)).toBe(0.2);
  });

  it('truncate(rStart, rEnd, p1): rStart before p1, rEnd from p1 on', () => {
    const s = budget.truncate(0.1, 2, 0.75);
    expect(budgetAt(s, 0)).toBe(0.1);
    expect(budgetAt(s, 0.7499999)).toBe(0.1);
    expect(budgetAt(s, 0.75)).toBe(2);
    expect(budgetAt(s, 1)).toBe(2);
  });

  it('window(rBase, rEnd, p1, w): rEnd on [p1, p1 + w), rBase elsewhere; a window reaching the end includes p = 1', () => {
    const mid = budget.window(0.1, 3, 0.25, 0.5);
    expect([0, 0.2499999, 0.25, 0.5, 0.7499999, 0.75, 1].map((p) => budgetAt(mid, p))).toEqual([0.1, 0.1, 3, 3, 3, 0.1, 0.1]);
    const late = budget.window(0, 1, 0.8, 0.2);
    expect([0, 0.7999, 0.8, 0.9, 1].map((p) => budgetAt(late, p))).toEqual([0, 0, 1, 1, 1]);
  });

  it('linear(r0, r1) = r0 + (r1 − r0)·p', () => {
    const s = budget.linear(0.5, 2.5);
    expect([0, 0.25, 0.5, 1].map((p) => budgetAt(s, p))).toEqual([0.5, 1, 1.5, 2.5]);
  });

  it('cosine(r0, r1) = r0 + (r1 − r0)·(1 − cos πp)/2', () => {
    const s = budget.cosine(1, 3);
    expect(budgetAt(s, 0)).toBe(1);
    expect(budgetAt(s, 0.5)).toBeCloseTo(2, 15);
    expect(budgetAt(s, 1)).toBe(3);
    expect(budgetAt(s, 0.25)).toBeCloseTo(1 + (1 - Math.SQRT1_2), 15);
    // decreasing budgets work too
    expect(budgetAt(budget.cosine(3, 1), 1)).toBe(1);
  });

  it('refuses progress outside [0, 1] and bad parameters', () => {
    expect(() => budgetAt(budget.fixed(1), 1.01)).toThrow(RangeError);
    expect(() => budgetAt(budget.fixed(1), Number.NaN)).toThrow(RangeError);
    expect(() => budget.fixed(-1)).toThrow(ConfigError);
    expect(() => budget.truncate(0, 1, 1.5)).toThrow(/p1 = 1.5/);
    expect(() => budget.linear(Number.POSITIVE_INFINITY, 1)).toThrow(ConfigError);
  });
});

describe('rounds and totals', () => {
  it('round t of T has progress t / T', () => {
    expect([0, 1, 2, 3].map((t) => roundProgress(t, 4))).toEqual([0, 0.25, 0.5, 0.75]);
    expect(() => roundProgress(4, 4)).toThrow(RangeError);
    expect(() => roundProgress(0, 0)).toThrow(RangeError);
    expect([0, 1, 2, 3, 4].map((t) => budgetForRound(budget.truncate(0, 1, 0.8), t, 5))).toEqual([0, 0, 0, 0, 1]);
  });

  it('totalBudget sums r over the rounds', () => {
    expect(totalBudget(budget.fixed(0.25), 8)).toBe(2);
    expect(totalBudget(budget.truncate(0, 1, 0.8), 10)).toBe(2);
    expect(totalBudget(budget.window(0, 1, 0.8, 0.2), 10)).toBe(2);
    expect(totalBudget(budget.linear(0, 1), 10)).toBeCloseTo(4.5, 12); // Σ t/10, t = 0..9
  });

  it('scaleBudget multiplies every r-value; equalBudget matches the reference total', () => {
    expect(scaleBudget(budget.window(0.5, 2, 0.3, 0.1), 3)).toEqual(budget.window(1.5, 6, 0.3, 0.1));
    const even = budget.fixed(0.2);
    for (const late of [budget.window(0, 1, 0.9, 0.1), budget.linear(0, 1), budget.cosine(0, 5), budget.truncate(0.05, 1, 0.5)]) {
      const matched = equalBudget(even, late, 50);
      expect(matched.shape).toBe(late.shape);
      expect(totalBudget(matched, 50)).toBeCloseTo(totalBudget(even, 50), 12);
    }
    // fixed(0.2) over 10 rounds spends 2; the last-20% window then needs r = 1 in its 2 rounds.
    expect(equalBudget(even, budget.window(0, 7, 0.8, 0.2), 10)).toEqual({ shape: 'window', rBase: 0, rEnd: 1, p1: 0.8, w: 0.2 });
    expect(() => equalBudget(even, budget.fixed(0), 10)).toThrow(/spends nothing/);
    expect(equalBudget(budget.fixed(0), budget.fixed(0), 10)).toEqual(budget.fixed(0));
  });
});

describe('cadence', () => {
  it('communicateEvery(k) fires after every k-th local step', () => {
    const every3 = communicateEvery(3);
    expect([1, 2, 3, 4, 5, 6, 7].map(every3)).toEqual([false, false, true, false, false, true, false]);
    expect(() => communicateEvery(0)).toThrow(ConfigError);
  });

  it('mergeAt marks the final round and any chosen rounds', () => {
    const m = mergeAt({ final: true, rounds: [1] });
    expect([0, 1, 2, 3, 4].map((t) => m(t, 5))).toEqual([false, true, false, false, true]);
    expect([0, 1, 2].map((t) => mergeAt({ final: false })(t, 3))).toEqual([false, false, false]);
    expect(() => mergeAt({ final: true, rounds: [-1] })).toThrow(ConfigError);
  });

  it('gossipStepsPerRound(q) gives q every round', () => {
    expect([0, 7].map(gossipStepsPerRound(4))).toEqual([4, 4]);
    expect(() => gossipStepsPerRound(1.5)).toThrow(ConfigError);
  });
});

describe('buildSchedule', () => {
  it('plans every round from one config', () => {
    const s = buildSchedule({ localSteps: 100, budget: { shape: 'truncate', rStart: 0, rEnd: 0.5, p1: 0.5 }, merge: { final: true }, gossipSteps: 2 }, 4);
    expect([0, 1, 2, 3].map((t) => s.plan(t))).toEqual([
      { round: 0, progress: 0, localSteps: 100, budget: 0, gossipSteps: 2, exactMerge: false },
      { round: 1, progress: 0.25, localSteps: 100, budget: 0, gossipSteps: 2, exactMerge: false },
      { round: 2, progress: 0.5, localSteps: 100, budget: 0.5, gossipSteps: 2, exactMerge: false },
      { round: 3, progress: 0.75, localSteps: 100, budget: 0.5, gossipSteps: 2, exactMerge: true },
    ]);
    expect(s.totalBudget).toBe(1);
    const plain = buildSchedule({ localSteps: 1 }, 2);
    expect(plain.plan(1)).toEqual({ round: 1, progress: 0.5, localSteps: 1, budget: null, gossipSteps: 1, exactMerge: false });
    expect(plain.totalBudget).toBeNull();
  });

  it('refuses bad configs with a ConfigError naming the field', () => {
    expect(() => parseScheduleSpec({ localSteps: 0 })).toThrow(/schedule.localSteps/);
    expect(() => parseScheduleSpec({ localSteps: 1, budget: { shape: 'step' } })).toThrow(/schedule.budget.shape/);
    expect(() => parseScheduleSpec({ localSteps: 1, budget: { shape: 'window', rBase: 0, rEnd: 1, p1: 2, w: 0.1 } })).toThrow(/schedule.budget.p1/);
    expect(() => buildSchedule({ localSteps: 1, merge: { final: false, rounds: [3] } }, 3)).toThrow(/merge.rounds: 3/);
    expect(() => buildSchedule({ localSteps: 1 }, 0)).toThrow(ConfigError);
  });
});
