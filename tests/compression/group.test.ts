import { describe, expect, it } from 'vitest';
import { makeLayout, paramsFrom, type ParamLayout, type Params } from '../../src/params/index.js';
import { Rng } from '../../src/util/rng.js';
import {
  arcTopK,
  arcTopKPlan,
  buildCompressor,
  greedyLore,
  powerSgd,
  powerSgdPlan,
  runGroupRound,
  type GroupCompressor,
  type GroupSend,
} from '../../src/compression/index.js';
import { ConfigError } from '../../src/util/errors.js';
import { lowRankMatrix, randomUpdate, sqDist, sqNorm } from './helpers.js';

const SEED = 21;
// A 32×48 matrix (compressible at rank ≤ 9), a bias, and a 4×4 matrix PowerSGD leaves dense.
const layout = makeLayout([
  { name: 'w', shape: [32, 48] },
  { name: 'b', shape: [32] },
  { name: 'tiny', shape: [4, 4] },
]);

/** The mean as the group computes it: float64 sums in sender order, times 1/n, rounded to float32. */
function groupMean(updates: readonly Params[]): Float32Array {
  const acc = new Float64Array(updates[0].layout.size);
  for (const u of updates) for (let i = 0; i < acc.length; i++) acc[i] += u.data[i];
  return Float32Array.from(acc, (x) => x * (1 / updates.length));
}

/** Peers whose 'w' is rank s in a shared column space (so the group mean has rank ≤ s); other tensors random. */
function lowRankUpdates(n: number, s: number, seed: number, lay: ParamLayout = layout): Params[] {
  const rng = new Rng(seed);
  const w = lay.tensors[0];
  const [rows, cols] = [w.shape[0], w.size / w.shape[0]];
  const basis = Float32Array.from({ length: rows * s }, () => rng.normal());
  return Array.from({ length: n }, (_, i) => {
    const u = randomUpdate(lay, seed * 100 + i);
    u.data.set(lowRankMatrix(rng, rows, cols, s, basis), w.offset);
    return u;
  });
}

function expectClose(a: Float32Array, b: Float32Array, rel = 1e-5): void {
  expect(Math.sqrt(sqDist(a, b))).toBeLessThanOrEqual(rel * Math.sqrt(sqNorm(b)) + 1e-6);
}

function initial<S>(c: GroupCompressor<S>, updates: readonly Params[], states?: readonly S[]) {
  return updates.map((update, i) => ({ update, state: states ? states[i] : c.initialState(layout) }));
}

describe('PowerSGD', () => {
  it('is exact when the rank is at least the true rank of the group mean', () => {
    for (const [rank, trueRank] of [
      [4, 4],
      [6, 3],
    ]) {
      const c = powerSgd({ rank, seed: SEED });
      const updates = lowRankUpdates(3, trueRank, rank);
      const res = runGroupRound(c, initial(c, updates), { seed: SEED, round: 0 });
      expect(res.phases).toBe(2);
      for (const est of res.estimates) expectClose(est.data, groupMean(updates));
      // Every peer ends with the same estimate, bit for bit.
      for (const est of res.estimates) expect(est.data).toEqual(res.estimates[0].data);
    }
  });

  it('leaves dense what would not save bytes and counts bytes honestly', () => {
    expect(powerSgdPlan(layout, 4).map((p) => p !== undefined)).toEqual([true, false, false]);
    const c = powerSgd({ rank: 4, seed: SEED });
    const res = runGroupRound(c, initial(c, lowRankUpdates(2, 2, 1)), { seed: SEED, round: 0 });
    // phase 0: P (32×4) + bias (32) + tiny (16) floats; phase 1: Q (48×4) floats; plus headers
    const [p0, p1] = res.bytes[0];
    expect(p0 - 4 * (32 * 4 + 32 + 16)).toBeGreaterThan(0);
    expect(p0 - 4 * (32 * 4 + 32 + 16)).toBeLessThan(160);
    expect(p1 - 4 * 48 * 4).toBeGreaterThan(0);
    expect(p1 - 4 * 48 * 4).toBeLessThan(160);
    expect(p0 + p1).toBeLessThan(4 * layout.size);
  });

  it('error feedback keeps what was not sent: Σ_i E_i = Σ_i M_i − n·Ĝ, and warm starts carry over', () => {
    const c = powerSgd({ rank: 2, seed: SEED });
    const updates = [0, 1, 2].map((i) => randomUpdate(layout, 50 + i));
    const res = runGroupRound(c, initial(c, updates), { seed: SEED, round: 0 });
    const w = layout.tensors[0];
    const est = res.estimates[0].data;
    for (let k = w.offset; k < w.offset + w.size; k += 37) {
      const sumE = res.states.reduce((a, s) => a + s.error[k], 0);
      const sumM = updates.reduce((a, u) => a + u.data[k], 0);
      expect(sumE).toBeCloseTo(sumM - 3 * est[k], 4);
    }
    expect(res.states[0].q[0]).toEqual(res.states[1].q[0]);
    // Power iteration with a fixed input: repeated rounds approach the best rank-2 approximation.
    let states = res.states;
    let last = Infinity;
    for (let round = 1; round < 6; round++) {
      const zeroed = updates.map((u) => paramsFrom(layout, u.data.slice()));
      const r = runGroupRound(c, initial(c, zeroed, states.map((s) => ({ ...s, error: new Float32Array(layout.size) }))), { seed: SEED, round });
      const err = sqDist(r.estimates[0].data.subarray(w.offset, w.offset + w.size), groupMean(updates).subarray(w.offset, w.offset + w.size));
      expect(err).toBeLessThanOrEqual(last * (1 + 1e-6));
      last = err;
      states = r.states;
    }
  });

  it('PowerSGD+ refreshes with a dense exchange and resets Q to the top right singular vectors', () => {
    const c = powerSgd({ rank: 3, seed: SEED, refreshEvery: 5 });
    const updates = lowRankUpdates(2, 3, 9);
    const dense = runGroupRound(c, initial(c, updates), { seed: SEED, round: 0 });
    expect(dense.phases).toBe(1);
    expect(dense.estimates[0].data).toEqual(groupMean(updates));
    // Q spans the row space of the rank-3 mean: ‖M − M·Q·Qᵀ‖ ≈ 0.
    const w = layout.tensors[0];
    const m = groupMean(updates).subarray(w.offset, w.offset + w.size);
    const q = dense.states[0].q[0]!;
    let resid = 0;
    for (let i = 0; i < 32; i++) {
      const proj = new Float64Array(3);
      for (let a = 0; a < 3; a++) for (let col = 0; col < 48; col++) proj[a] += m[i * 48 + col] * q[col * 3 + a];
      for (let col = 0; col < 48; col++) {
        let s = 0;
        for (let a = 0; a < 3; a++) s += proj[a] * q[col * 3 + a];
        resid += (m[i * 48 + col] - s) ** 2;
      }
    }
    expect(Math.sqrt(resid)).toBeLessThan(1e-4 * Math.sqrt(sqNorm(m)));
    const next = runGroupRound(c, initial(c, updates, dense.states), { seed: SEED, round: 1 });
    expect(next.phases).toBe(2);
  });
});

describe('ARC-Top-K', () => {
  it('every peer picks the same rows, averages them exactly and sends no indices', () => {
    const c = arcTopK({ rho: 0.25, sketchRank: 4, seed: SEED });
    const updates = [0, 1, 2, 3].map((i) => randomUpdate(layout, 70 + i));
    const res = runGroupRound(c, initial(c, updates), { seed: SEED, round: 2 });
    expect(res.phases).toBe(2);
    const mean = groupMean(updates);
    const w = layout.tensors[0];
    let kept = 0;
    for (let row = 0; row < 32; row++) {
      const at = w.offset + row * 48;
      const estRow = res.estimates[0].data.subarray(at, at + 48);
      if (estRow.some((x) => x !== 0)) {
        kept++;
        expectClose(estRow, mean.subarray(at, at + 48));
      }
    }
    expect(kept).toBe(8);
    for (const est of res.estimates) expect(est.data).toEqual(res.estimates[0].data);
    const bias = layout.tensors[1];
    expectClose(res.estimates[0].data.subarray(bias.offset, bias.offset + 32), mean.subarray(bias.offset, bias.offset + 32));
    // phase 0: sketch 32×4 + bias + tiny; phase 1: 8 rows × 48; a header each
    const [p0, p1] = res.bytes[0];
    expect(p0 - 4 * (32 * 4 + 32 + 16)).toBeLessThan(160);
    expect(p1 - 4 * 8 * 48).toBeLessThan(160);
    expect(arcTopKPlan(layout, 0.25, 4).map((a) => a !== undefined)).toEqual([true, false, false]);
    // EF14 inside: own sent rows + error = M
    const e = res.states[0].error;
    for (let row = 0; row < 32; row++) {
      const at = w.offset + row * 48;
      const sent = res.estimates[0].data[at] !== 0;
      expect(e[at]).toBe(sent ? 0 : updates[0].data[at]);
    }
  });

  it('picks the rows with the largest mean energy', () => {
    const c = arcTopK({ rho: 0.0625, sketchRank: 8, seed: SEED });
    const updates = [0, 1].map((i) => {
      const u = paramsFrom(layout, new Float32Array(layout.size));
      for (let k = 0; k < 48; k++) {
        u.data[5 * 48 + k] = 10 + i; // rows 5 and 17 dominate
        u.data[17 * 48 + k] = -9;
        for (let row = 0; row < 32; row++) if (row !== 5 && row !== 17) u.data[row * 48 + k] += 0.01 * (row + k + i);
      }
      return u;
    });
    const res = runGroupRound(c, initial(c, updates), { seed: SEED, round: 1 });
    const nonzeroRows = [...Array(32).keys()].filter((row) => res.estimates[0].data[row * 48] !== 0);
    expect(nonzeroRows).toEqual([5, 17]);
  });

  it('leaves out a peer whose phase-1 message was computed from a different set of sketches', () => {
    const c = arcTopK({ rho: 0.25, seed: SEED });
    const updates = [0, 1, 2].map((i) => randomUpdate(layout, 80 + i));
    const starts = updates.map((u, i) => c.begin(u, c.initialState(layout), { seed: SEED, round: 4, sender: i }));
    const all = starts.map((s, i) => ({ sender: i, bytes: s.message }));
    // Peer 2 missed peer 0's sketch; the others got everything.
    const phase1 = starts.map((s, i) => c.step(s.session, i === 2 ? all.slice(1) : all) as GroupSend<unknown>);
    const msgs = phase1.map((s, i) => ({ sender: i, bytes: s.message }));
    const done = c.step(phase1[0].session as never, msgs);
    expect(done.kind).toBe('done');
    if (done.kind === 'done') expect(done.excluded.map((e) => e.sender)).toEqual([2]);
  });
});

describe('GreedyLore', () => {
  it('refresh rounds are exact; the next rounds are exact when the gradient lies in r basis vectors', () => {
    const c = greedyLore({ rank: 4, refreshEvery: 3, seed: SEED });
    const updates = lowRankUpdates(3, 3, 4);
    const refresh = runGroupRound(c, initial(c, updates), { seed: SEED, round: 0 });
    expect(refresh.phases).toBe(1);
    expect(refresh.estimates[0].data).toEqual(groupMean(updates));
    const greedy = runGroupRound(c, initial(c, updates, refresh.states), { seed: SEED, round: 1 });
    expect(greedy.phases).toBe(2);
    expectClose(greedy.estimates[0].data, groupMean(updates), 1e-4);
    for (const est of greedy.estimates) expect(est.data).toEqual(greedy.estimates[0].data);
  });

  it('needs a refresh before its first greedy round', () => {
    const c = greedyLore({ rank: 2, refreshEvery: 4, seed: SEED });
    expect(() => c.begin(randomUpdate(layout, 1), c.initialState(layout), { seed: SEED, round: 1, sender: 0 })).toThrow(/refresh round/);
  });

  it('keeps E = M − P·PᵀM and scores on a wide and a tall layer', () => {
    const tall = makeLayout([{ name: 't', shape: [48, 20] }]);
    const c = greedyLore({ rank: 2, refreshEvery: 10, seed: SEED });
    const updates = [0, 1].map((i) => randomUpdate(tall, 90 + i));
    const refresh = runGroupRound(c, updates.map((update) => ({ update, state: c.initialState(tall) })), { seed: SEED, round: 0 });
    const basis = refresh.states[0].basis[0]!;
    // U (48 × 20) has orthonormal columns.
    for (let a = 0; a < 20; a += 7) {
      for (let b = 0; b < 20; b += 5) {
        let s = 0;
        for (let i = 0; i < 48; i++) s += basis[i * 20 + a] * basis[i * 20 + b];
        expect(s).toBeCloseTo(a === b ? 1 : 0, 8);
      }
    }
    const next = runGroupRound(c, updates.map((update, i) => ({ update, state: refresh.states[i] })), { seed: SEED, round: 1 });
    const e = next.states[0].error;
    // E is orthogonal to the chosen directions and smaller than M.
    expect(sqNorm(e)).toBeLessThan(sqNorm(updates[0].data));
    expect(sqNorm(e)).toBeGreaterThan(0);
  });
});

describe('build', () => {
  it('refuses error feedback around a group method', () => {
    expect(() => buildCompressor({ method: 'powersgd', errorFeedback: 'ef21' }, 1)).toThrow(ConfigError);
    expect(() => buildCompressor({ method: 'top-k', ratio: 2 }, 1)).toThrow(ConfigError);
    expect(buildCompressor({ method: 'greedylore' }, 1).kind).toBe('group');
    expect(buildCompressor({ method: 'rand-k-unbiased' }, 1).kind).toBe('pointwise');
  });
});
