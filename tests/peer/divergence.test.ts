import { describe, expect, it } from 'vitest';
import { checkFinite, DivergenceError, findDivergences, firstNonFinite } from '../../src/peer/divergence.js';
import { makeLayout, type Params } from '../../src/params/index.js';
import { EXIT_USAGE } from '../../src/util/errors.js';

const layout = makeLayout([
  { name: 'dense/kernel', shape: [3, 4] },
  { name: 'dense/bias', shape: [4], role: 'bias' },
]);
const params = (fill: number, at?: [number, number]): Params => {
  const data = new Float32Array(layout.size).fill(fill);
  if (at) data[at[0]] = at[1];
  return { layout, data };
};

describe('divergence check', () => {
  it('firstNonFinite finds the first NaN or ±Infinity, across block boundaries', () => {
    const a = new Float32Array(10_000);
    expect(firstNonFinite(a)).toBe(-1);
    a[9_999] = Infinity;
    a[5_000] = NaN;
    expect(firstNonFinite(a)).toBe(5_000);
    a[5_000] = -Infinity;
    expect(firstNonFinite(a)).toBe(5_000);
    a[5_000] = 3.4e38; // finite, however large
    expect(firstNonFinite(a)).toBe(9_999);
  });

  it('names each peer with a non-finite loss, and the tensor and offset of the first bad weight', () => {
    const found = findDivergences([
      { index: 0, loss: 0.5, params: params(0.1) },
      { index: 3, loss: NaN, params: params(0.1) },
      { index: 5, loss: 1, params: params(0.1, [13, Infinity]) },
      { index: 7, loss: null, params: params(0.1) },
    ]);
    expect(found).toEqual([
      { kind: 'loss', peer: 3, loss: NaN },
      { kind: 'params', peer: 5, tensor: 'dense/bias', offset: 1, value: Infinity },
    ]);
  });

  it('checkFinite passes finite rounds and throws one error naming the round and the peers', () => {
    expect(() => checkFinite(2, [{ index: 0, loss: 2.3, params: params(0) }])).not.toThrow();
    let error: unknown;
    try {
      checkFinite(4, [
        { index: 1, loss: Infinity, params: params(0) },
        { index: 2, loss: NaN, params: params(NaN) },
        { index: 6, loss: 0.1, params: params(0, [0, NaN]) },
      ]);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(DivergenceError);
    const e = error as DivergenceError;
    expect(e.round).toBe(4);
    expect(e.exitCode).toBe(EXIT_USAGE);
    expect(e.message).toBe(
      'round 4: training diverged — non-finite training loss at peers 1, 2 (Infinity), non-finite weights at peer 6 (first: dense/kernel[0] = NaN); lower training.optimizer.lr, or check the data for non-finite values',
    );
  });

  it('lists at most eight peers and counts the rest', () => {
    const peers = Array.from({ length: 11 }, (_, i) => ({ index: i, loss: NaN, params: params(0) }));
    expect(() => checkFinite(1, peers, 'lower the learning rate')).toThrow('non-finite training loss at peers 0, 1, 2, 3, 4, 5, 6, 7 and 3 more (NaN); lower the learning rate');
  });
});
