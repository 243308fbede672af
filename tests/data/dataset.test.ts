import { describe, expect, it } from 'vitest';
import { batchIterator } from '../../src/data/batches.js';
import { labelHistogram, makeDataset, subset } from '../../src/data/dataset.js';
import { largestRemainder } from '../../src/data/rounding.js';
import { ConfigError, InputError } from '../../src/util/errors.js';

// Sample i has features [i, -i] and label i mod 3, so a batch shows which samples it holds.
function indexed(n: number) {
  const x = new Float32Array(2 * n);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    x[2 * i] = i;
    x[2 * i + 1] = -i;
    y[i] = i % 3;
  }
  return makeDataset({ name: 'indexed', x, y, featureShape: [2], numClasses: 3 });
}

describe('Dataset', () => {
  it('makeDataset checks sizes, shapes and label range', () => {
    const ds = indexed(4);
    expect(ds.n).toBe(4);
    expect(ds.featureSize).toBe(2);
    expect(() => makeDataset({ name: 'd', x: new Float32Array(5), y: new Uint8Array(2), featureShape: [2], numClasses: 3 })).toThrow(
      /dataset d: 2 labels need 4 input values \(2 per sample\), got 5/,
    );
    expect(() => makeDataset({ name: 'd', x: new Float32Array(2), y: Uint8Array.of(0, 3), featureShape: [1], numClasses: 3 })).toThrow(InputError);
    expect(() => makeDataset({ name: 'd', x: new Float32Array(2), y: Uint8Array.of(0, 3), featureShape: [1], numClasses: 3 })).toThrow(
      /sample 1 has label 3, outside \[0, 3\)/,
    );
    expect(() => makeDataset({ name: 'd', x: new Float32Array(0), y: new Uint8Array(0), featureShape: [0], numClasses: 3 })).toThrow(ConfigError);
    expect(() => makeDataset({ name: 'd', x: new Float32Array(0), y: new Uint8Array(0), featureShape: [1], numClasses: 300 })).toThrow(/Int32Array/);
  });

  it('subset copies the chosen rows in order, so the copy is independent', () => {
    const ds = indexed(6);
    const part = subset(ds, [4, 1, 4], 'peer-0');
    expect(part.name).toBe('peer-0');
    expect(Array.from(part.x)).toEqual([4, -4, 1, -1, 4, -4]);
    expect(Array.from(part.y)).toEqual([1, 1, 1]);
    part.x.fill(99);
    expect(ds.x[8]).toBe(4);
    expect(() => subset(ds, [6])).toThrow(/index 6 at position 0 is outside \[0, 6\)/);
    expect(labelHistogram(ds.y, 3)).toEqual([2, 2, 2]);
    expect(labelHistogram(ds.y, 3, [0, 3, 4])).toEqual([2, 1, 0]);
  });
});

describe('batchIterator', () => {
  it('visits every sample once per epoch, continuing across the epoch boundary', () => {
    const ds = indexed(10);
    const it = batchIterator(ds, 4, 11);
    const seen: number[] = [];
    let first: Float32Array | undefined;
    for (let b = 0; b < 10; b++) {
      const batch = it.next();
      first ??= batch.x;
      expect(batch.x).toBe(first); // the same buffer every time: no allocation per batch
      expect(batch.size).toBe(4);
      for (let k = 0; k < 4; k++) {
        const i = batch.x[2 * k];
        expect(batch.x[2 * k + 1]).toBe(-i);
        expect(batch.labels[k]).toBe(i % 3);
        seen.push(i);
      }
    }
    // 40 samples = 4 whole epochs, each a permutation of 0..9, and not all in the same order.
    const epochs = [0, 1, 2, 3].map((e) => seen.slice(10 * e, 10 * e + 10));
    for (const epoch of epochs) expect([...epoch].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(new Set(epochs.map((e) => e.join())).size).toBeGreaterThan(1);
    expect(it.epochs).toBe(4);
  });

  it('is deterministic per seed', () => {
    const ds = indexed(50);
    const draw = (seed: number) => {
      const it = batchIterator(ds, 7, seed);
      return Array.from({ length: 5 }, () => Array.from(it.next().labels)).flat();
    };
    expect(draw(3)).toEqual(draw(3));
    expect(draw(3)).not.toEqual(draw(4));
    expect(() => batchIterator(ds, 0, 1)).toThrow(/batchSize/);
    expect(() => batchIterator(subset(ds, []), 2, 1)).toThrow(/empty/);
  });
});

describe('largestRemainder', () => {
  it('apportions exactly, ties to the lower index', () => {
    expect(largestRemainder([1, 1, 1], 2)).toEqual([1, 1, 0]);
    expect(largestRemainder([3, 2], 4)).toEqual([2, 2]); // 2.4, 1.6
    expect(largestRemainder([5, 3, 2], 10)).toEqual([5, 3, 2]);
    expect(largestRemainder([7, 1, 1], 0)).toEqual([0, 0, 0]);
    expect(largestRemainder([0.5, 0.25, 0.25], 7)).toEqual([3, 2, 2]); // 3.5, 1.75, 1.75: the +1s go to the .75s
  });
});
