// How a stack past one storage binding is cut into blocks, and how a mixing product is split
// into per-block pairs. The GPU side (every op against one buffer) is checked on the GPU host by
// bench/gpu-sim.ts's blocked-parity case; these are the host halves, exact.
import { describe, expect, it } from 'vitest';
import { blockSizes, splitMixing } from '../../src/model/webgpu-blocks.js';
import { Rng } from '../../src/util/rng.js';

describe('blockSizes', () => {
  it('cuts into the fewest blocks within the limit, as equal as possible', () => {
    expect(blockSizes(10_000, 5_275)).toEqual([5_000, 5_000]);
    expect(blockSizes(10, 3)).toEqual([3, 3, 2, 2]);
    expect(blockSizes(7, 7)).toEqual([7]);
    expect(blockSizes(1, 5)).toEqual([1]);
  });

  it('refuses a block size that is not a positive integer', () => {
    expect(() => blockSizes(10, 0)).toThrow(/peers per block must be a positive integer, got 0/);
  });
});

describe('splitMixing', () => {
  it('keeps every entry exactly once, with local rows and columns, pairs without entries left out', () => {
    const P = 23;
    const rng = new Rng(3);
    const rowStart = new Int32Array(P + 1);
    const cols: number[] = [];
    const vals: number[] = [];
    for (let i = 0; i < P; i++) {
      const n = rng.int(5);
      for (let k = 0; k < n; k++) {
        cols.push(rng.int(P));
        vals.push(rng.next());
      }
      rowStart[i + 1] = cols.length;
    }
    const sizes = blockSizes(P, 7);
    const starts = sizes.map((_, b) => sizes.slice(0, b).reduce((s, n) => s + n, 0));
    const pairs = splitMixing({ rowStart, cols: Int32Array.from(cols), vals: Float32Array.from(vals) }, starts, sizes);
    // Rebuild each global row's (column, weight) list from the pairs, in source-block order.
    const rebuilt: Array<Array<[number, number]>> = Array.from({ length: P }, () => []);
    for (const [key, csr] of pairs) {
      const [a, b] = key.split(',').map(Number);
      expect(csr.rowStart.length).toBe(sizes[a] + 1);
      expect(csr.cols.length).toBeGreaterThan(0);
      for (let i = 0; i < sizes[a]; i++) {
        for (let k = csr.rowStart[i]; k < csr.rowStart[i + 1]; k++) {
          expect(csr.cols[k]).toBeGreaterThanOrEqual(0);
          expect(csr.cols[k]).toBeLessThan(sizes[b]);
          rebuilt[starts[a] + i].push([starts[b] + csr.cols[k], csr.vals[k]]);
        }
      }
    }
    for (let i = 0; i < P; i++) {
      const want: Array<[number, number]> = [];
      for (let k = rowStart[i]; k < rowStart[i + 1]; k++) want.push([cols[k], Math.fround(vals[k])]);
      const order = (x: [number, number], y: [number, number]) => x[0] - y[0] || x[1] - y[1];
      expect(rebuilt[i].sort(order)).toEqual(want.sort(order));
    }
  });
});
