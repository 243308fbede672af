import { describe, expect, it } from 'vitest';
import { makeLayout, paramsFrom } from '../../src/params/index.js';
import { WireError, buildCompressor, type ErrorFeedbackKind, type PointwiseCompressor } from '../../src/compression/index.js';
import { randomUpdate, smallLayout } from './helpers.js';

// Beznosikov et al. (2020), Example 1: n = d = 3, f_i(x) = ⟨a_i, x⟩² + (ν/2)‖x‖², minimum at
// x* = 0. Distributed gradient descent with top-1 compression diverges from x0 = (1, 1, 1)
// for every step size; with error feedback it converges.
const A = [
  [-3, 2, 2],
  [2, -3, 2],
  [2, 2, -3],
];
const NU = 0.5;
const layout3 = makeLayout([{ name: 'x', shape: [3] }]);

function gradient(i: number, x: Float64Array): Float32Array {
  const a = A[i];
  const dot = a[0] * x[0] + a[1] * x[1] + a[2] * x[2];
  return Float32Array.from(a, (ai, j) => 2 * dot * ai + NU * x[j]);
}

/** Runs compressed distributed GD through the real encode → bytes → decode path; returns ‖x_T − x*‖. */
function run(errorFeedback: 'none' | ErrorFeedbackKind, gamma: number, steps: number): number {
  const c = buildCompressor({ method: 'top-k', ratio: 1 / 3, errorFeedback, eta: 0.5 }, 7) as PointwiseCompressor;
  const states = A.map(() => c.initialState(layout3));
  const receivers = A.map(() => c.initialReceiverState(layout3));
  const x = Float64Array.from([1, 1, 1]);
  for (let t = 0; t < steps; t++) {
    const step = new Float64Array(3);
    A.forEach((_, i) => {
      const ctx = { seed: 7, round: t, sender: i };
      const enc = c.encode(paramsFrom(layout3, gradient(i, x)), states[i], ctx);
      states[i] = enc.state;
      const dec = c.decode(enc.message, layout3, ctx, receivers[i]);
      receivers[i] = dec.receiver;
      for (let j = 0; j < 3; j++) step[j] += dec.update.data[j] / 3;
    });
    for (let j = 0; j < 3; j++) x[j] -= gamma * step[j];
    if (!(Math.hypot(...x) < 1e6)) return Infinity;
  }
  return Math.hypot(...x);
}

describe('error feedback on a strongly convex quadratic', () => {
  const gamma = 0.02;
  it('plain top-1 does not converge (it moves away from the optimum)', () => {
    expect(run('none', gamma, 400)).toBeGreaterThan(1);
  });
  it.each(['ef14', 'ef21', 'ef21-m', 'econtrol'] as const)('%s converges to the optimum with the same step', (ef) => {
    expect(run(ef, gamma, 3000)).toBeLessThan(1e-4);
  });
});

describe('error feedback bookkeeping', () => {
  const layout = smallLayout();
  const methods = [
    { method: 'top-k', ratio: 0.05 },
    { method: 'rand-k', ratio: 0.1 },
    { method: 'int8', blockSize: 16 },
    { method: 'sign' },
    { method: 'random-subspace', rank: 2 },
  ] as const;

  it.each(['ef14', 'ef21', 'ef21-m', 'econtrol'] as const)('%s: receivers reconstruct exactly what the sender reports, round after round', (ef) => {
    for (const spec of methods) {
      const c = buildCompressor({ ...spec, errorFeedback: ef }, 3) as PointwiseCompressor;
      let state = c.initialState(layout);
      let receiver = c.initialReceiverState(layout);
      for (let round = 0; round < 4; round++) {
        const ctx = { seed: 3, round, sender: 1 };
        const enc = c.encode(randomUpdate(layout, round + 10), state, ctx);
        state = enc.state;
        const dec = c.decode(enc.message, layout, ctx, receiver);
        receiver = dec.receiver;
        expect(Array.from(dec.update.data)).toEqual(Array.from(enc.decoded.data));
      }
    }
  });

  it('EF14 keeps the exact residual: e_new = g + e − C(g + e)', () => {
    const c = buildCompressor({ method: 'top-k', ratio: 0.1, errorFeedback: 'ef14' }, 3) as PointwiseCompressor<{ error: Float32Array }>;
    const g = randomUpdate(layout, 1);
    const first = c.encode(g, c.initialState(layout), { seed: 3, round: 0, sender: 0 });
    const second = c.encode(g, first.state, { seed: 3, round: 1, sender: 0 });
    for (let i = 0; i < layout.size; i++) {
      expect(second.state.error[i]).toBe(Math.fround(Math.fround(g.data[i] + first.state.error[i]) - second.decoded.data[i]));
    }
  });

  it('EF21-type receivers detect a lost message instead of drifting', () => {
    const c = buildCompressor({ method: 'top-k', ratio: 0.1, errorFeedback: 'ef21' }, 3) as PointwiseCompressor;
    const receiver = c.initialReceiverState(layout);
    const first = c.encode(randomUpdate(layout, 1), c.initialState(layout), { seed: 3, round: 0, sender: 0 });
    const second = c.encode(randomUpdate(layout, 2), first.state, { seed: 3, round: 1, sender: 0 });
    // The receiver never saw round 0.
    const err = (() => {
      try {
        c.decode(second.message, layout, { seed: 3, round: 1, sender: 0 }, receiver);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).problem).toBe('sequence');
  });

  it('EF21-M starts with a dense message and then sends compressed differences', () => {
    const c = buildCompressor({ method: 'top-k', ratio: 0.01, errorFeedback: 'ef21-m' }, 3) as PointwiseCompressor;
    const first = c.encode(randomUpdate(layout, 1), c.initialState(layout), { seed: 3, round: 0, sender: 0 });
    const second = c.encode(randomUpdate(layout, 2), first.state, { seed: 3, round: 1, sender: 0 });
    expect(first.message.byteLength).toBeGreaterThan(4 * layout.size);
    expect(second.message.byteLength).toBeLessThan(layout.size);
  });

  it('a receiver configured without error feedback refuses an EF message', () => {
    const ef = buildCompressor({ method: 'top-k', ratio: 0.1, errorFeedback: 'ef14' }, 3) as PointwiseCompressor;
    const plain = buildCompressor({ method: 'top-k', ratio: 0.1 }, 3) as PointwiseCompressor;
    const ctx = { seed: 3, round: 0, sender: 0 };
    const enc = ef.encode(randomUpdate(layout, 1), ef.initialState(layout), ctx);
    expect(() => plain.decode(enc.message, layout, ctx, null)).toThrow(/errorFeedback/);
  });
});
