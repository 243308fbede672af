import { describe, expect, it } from 'vitest';
import { fedAu, fedAuInitialState, fedAuStep, fedAvgM, fedAvgMInitialState, type FedAuState } from '../../src/aggregation/index.js';
import { AggregationError } from '../../src/util/errors.js';
import { contrib, flatLayout, values, vec } from './helpers.js';

const l = flatLayout(2);
const members = ['A', 'B', 'C'];

describe('FedAU participation weights', () => {
  // History (rounds 0..4): {A}, {A,B}, {B}, {A,C}, {A,B,C}.
  // A: participates at 0 (ω 1, records 1), 1 (ω 1, records 1), misses 2, at 3 (ω mean[1,1] = 1, records 2), at 4 (ω 4/3).
  // B: misses 0, at 1 (ω 1, records 2), at 2 (ω 2, records 1), misses 3, at 4 (ω mean[2,1] = 1.5).
  // C: misses 0..2, at 3 (ω 1, records 4), at 4 (ω 4).
  const history = [['A'], ['A', 'B'], ['B'], ['A', 'C'], ['A', 'B', 'C']];
  const expected = [[1], [1, 1], [2], [1, 1], [4 / 3, 1.5, 4]];

  it('match a hand-computed history', () => {
    let state: FedAuState = fedAuInitialState();
    history.forEach((participants, round) => {
      const step = fedAuStep(state, members, participants);
      expect(step.weights).toEqual(expected[round]);
      state = step.state;
    });
    expect(state.peers).toEqual({
      A: { missed: 0, intervalSum: 5, intervalCount: 4 },
      B: { missed: 0, intervalSum: 5, intervalCount: 3 },
      C: { missed: 0, intervalSum: 5, intervalCount: 2 },
    });
  });

  it('applies x ← x + γ/N · Σ ω_i (x_i − x) and leaves the old state intact', () => {
    const rule = fedAu({ serverLr: 1 });
    let state = fedAuInitialState();
    let x = vec(l, [0, 0]);
    for (const participants of history.slice(0, 4)) {
      const first = state;
      const r = rule(
        state,
        x,
        participants.map((id) => contrib(id, x)),
        { members },
      );
      expect(values(r.params)).toEqual(values(x)); // everyone sent x back: no move
      expect(first).not.toBe(r.state);
      state = r.state;
    }
    const snapshot = JSON.stringify(state);
    // Round 4: ω = 4/3, 1.5, 4; x = 0; Σ = 4/3·[3,0] + 1.5·[0,2] + 4·[0.75,0] = [7, 3]; ÷ N = 3.
    const r = rule(state, x, [contrib('A', vec(l, [3, 0])), contrib('B', vec(l, [0, 2])), contrib('C', vec(l, [0.75, 0]))], { members });
    expect(values(r.params)).toEqual([Math.fround(7 / 3), 1]);
    expect(JSON.stringify(state)).toBe(snapshot);
    x = r.params;
    // serverLr scales the step; a round without participants only advances the counters.
    expect(values(fedAu({ serverLr: 0.5 })(fedAuInitialState(), vec(l, [0, 0]), [contrib('A', vec(l, [3, 6]))], { members }).params)).toEqual([0.5, 1]);
    const idle = rule(r.state, x, [], { members });
    expect(values(idle.params)).toEqual(values(x));
    expect(idle.state.peers.A.missed).toBe(1);
  });

  it('needs the member list and refuses strangers', () => {
    const rule = fedAu();
    expect(() => rule(fedAuInitialState(), vec(l, [0, 0]), [contrib('A', vec(l, [1, 1]))])).toThrow(/ctx.members is missing/);
    expect(() => rule(fedAuInitialState(), vec(l, [0, 0]), [contrib('Z', vec(l, [1, 1]))], { members })).toThrow(/'Z' is not in ctx.members/);
    expect(() => fedAuStep(fedAuInitialState(), ['A', 'A'], [])).toThrow(AggregationError);
  });
});

describe('FedAvg-M (reconstructed)', () => {
  it('g = (1/(ηSK)) Σ (x − x_i), x ← x − γ g, by hand', () => {
    const rule = fedAvgM({ serverLr: 0.5, localLr: 0.25, localSteps: 2 });
    const x = vec(l, [1, 2]);
    const r = rule(fedAvgMInitialState(), x, [contrib('a', vec(l, [0.5, 2.5])), contrib('b', vec(l, [0, 2.5]))]);
    // Σ (x − x_i) = [1.5, −1]; ηSK = 0.25·2·2 = 1
    expect(values(r.state.g!)).toEqual([1.5, -1]);
    expect(values(r.params)).toEqual([0.25, 2.5]);
  });

  it('refuses a round without participants', () => {
    const rule = fedAvgM({ serverLr: 1, localLr: 0.1, localSteps: 1 });
    expect(() => rule(fedAvgMInitialState(), vec(l, [0, 0]), [])).toThrow(/S = 0/);
  });
});
